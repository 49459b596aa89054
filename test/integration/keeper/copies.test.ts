// berth-keeper's copies (COPY in/pty-in/out/pty-out, CLOSEIN, RESIZE) and held fds (HOLD): stdin
// reaches the process and ends as asked, output reaches its destination and is drained after the
// exit without waiting for orphans, a pty is relayed both ways and resized.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync, readFileSync, readlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { shimSys } from "../../../src/common/sys.ts";
import { devNull, KeeperClient, keeperFds, spawnFrame, startKeeper, track, waitFor } from "./harness.ts";

const text = (path: string) => readFileSync(path, "utf8");

test("COPY in: what is written to a stdin fifo reaches the process; EOF of the fifo closes its stdin", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  const fifo = join(k.dir, "stdin");
  execFileSync("mkfifo", [fifo]);
  const [src] = track(t, openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
  const [writer] = track(t, openSync(fifo, constants.O_WRONLY));
  const [r, w] = track(t, ...shimSys().pipe());
  const [out] = track(t, openSync(join(k.dir, "out"), "w"));
  assert.equal((await c.request(spawnFrame("cat", ["/bin/cat"]), [r, out, n]))[0], "OK");
  assert.deepEqual(await c.request(["COPY", "cat", "in"], [src, w]), ["OK"]);
  closeSync(w); // the keeper's copy is the only writer left
  writeSync(writer, "hello\n");
  await waitFor("hello copied", () => text(join(k.dir, "out")) === "hello\n");
  assert.equal(c.events.length, 0, "cat still runs: its stdin is open");
  closeSync(writer);
  assert.deepEqual((await c.event("RAN", "cat")).slice(3), ["0", "0"]);
  assert.equal(text(join(k.dir, "out")), "hello\n");
});

test("CLOSEIN ends an in copy while its source stays open: the process sees EOF", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  const [src, writer] = track(t, ...shimSys().pipe());
  const [r, w] = track(t, ...shimSys().pipe());
  const [out] = track(t, openSync(join(k.dir, "out"), "w"));
  await c.request(spawnFrame("cat", ["/bin/cat"]), [r, out, n]);
  await c.request(["COPY", "cat", "in"], [src, w]);
  closeSync(w);
  writeSync(writer, "a\n");
  await waitFor("a copied", () => text(join(k.dir, "out")) === "a\n");
  assert.deepEqual(await c.request(["CLOSEIN", "cat"]), ["OK"]);
  assert.deepEqual((await c.event("RAN", "cat")).slice(3), ["0", "0"]);
  // CLOSEIN of a name without a stdin copy is not an error (containerd's CloseIO may come twice).
  assert.deepEqual(await c.request(["CLOSEIN", "cat"]), ["OK"]);
});

test("COPY out drains what is left after the exit without waiting for an orphan that holds the pipe; HOLD lasts until then", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  const [r, w] = track(t, ...shimSys().pipe());
  const log = join(k.dir, "log");
  const [out] = track(t, openSync(log, "w"));
  const [hr, hw] = track(t, ...shimSys().pipe());
  const held = readlinkSync(`/proc/self/fd/${hw}`);
  // The orphaned sleep keeps the pipe's write end open for 30 s after sh is gone.
  const script = "echo one; (sleep 30 &); sleep 0.3; echo two";
  await c.request(spawnFrame("sh", ["/bin/sh", "-c", script]), [n, w, n]);
  await c.request(["COPY", "sh", "out"], [r, out]);
  assert.deepEqual(await c.request(["HOLD", "sh"], [hw]), ["OK"]);
  closeSync(w);
  closeSync(hw);
  void hr;
  await waitFor("one", () => text(log) === "one\n");
  assert.equal(keeperFds(k).includes(held), true, "held while the process runs");
  await c.event("RAN", "sh");
  const ranAt = Date.now();
  await waitFor("the held fd released", () => !keeperFds(k).includes(held), 3000);
  assert.ok(Date.now() - ranAt < 2500, `released ${Date.now() - ranAt} ms after the exit`);
  assert.equal(text(log), "one\ntwo\n");
  assert.equal(keeperFds(k).includes(log), false, "the copy's dst is closed");
});

test("a pty: pty-out relays the terminal's output, RESIZE sets its size, pty-in feeds it and CLOSEIN sends ^D", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const sys = shimSys();
  const [master, slave] = track(t, ...sys.openPty());
  const [outDup, inDup] = track(t, sys.dup(master), sys.dup(master));
  const [src, writer] = track(t, ...sys.pipe());
  const log = join(k.dir, "log");
  const [out] = track(t, openSync(log, "w"));
  const script = "read x; echo got:$x; stty size; if read y; then echo line:$y; else echo eof; fi";
  await c.request(spawnFrame("tty", ["/bin/sh", "-c", script]), [slave, slave, slave]);
  closeSync(slave);
  closeSync(master);
  assert.deepEqual(await c.request(["COPY", "tty", "pty-out"], [outDup, out]), ["OK"]);
  assert.deepEqual(await c.request(["COPY", "tty", "pty-in"], [src, inDup]), ["OK"]);
  assert.deepEqual(await c.request(["RESIZE", "tty", "40", "100"]), ["OK"]);
  writeSync(writer, "go\n");
  await waitFor("the size", () => /40 100/.test(text(log)));
  assert.match(text(log), /got:go/);
  assert.deepEqual(await c.request(["CLOSEIN", "tty"]), ["OK"]);
  assert.deepEqual((await c.event("RAN", "tty")).slice(3), ["0", "0"]);
  await waitFor("eof relayed", () => /eof/.test(text(log)));
  assert.doesNotMatch(text(log), /line:/);
  // After the exit, EIO on the master means drained: the copy ends and closes its dst.
  await waitFor("the log closed", () => !keeperFds(k).includes(log), 3000);
});

test("pty-out on a master with no slave yet waits (50 ms re-polls, no busy loop) and relays once one is opened", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  const sys = shimSys();
  const [master, slave] = track(t, ...sys.openPty());
  const pts = readlinkSync(`/proc/self/fd/${slave}`);
  closeSync(slave);
  const log = join(k.dir, "log");
  const [out] = track(t, openSync(log, "w"));
  const cpu = () => {
    const f = readFileSync(`/proc/${k.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks
  };
  await c.request(spawnFrame("late", ["/bin/sh", "-c", `sleep 0.6; echo late > ${pts}; sleep 0.2`]), [n, n, n]);
  await c.request(["COPY", "late", "pty-out"], [master, out]);
  const before = cpu();
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(cpu() - before <= 5, `the keeper used ${cpu() - before} ticks in 500 ms with no slave open`);
  await waitFor("late relayed", () => /late/.test(text(log)));
  await c.event("RAN", "late");
  assert.deepEqual(await c.request(["HELLO"]), ["OK", "1", String(k.pid)]);
});

test("RESIZE without a pty-out copy or with a bad size, COPY of an unknown kind: ERR", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  await c.request(spawnFrame("s", ["/bin/sleep", "100"]), [n]);
  assert.deepEqual(await c.request(["RESIZE", "s", "40", "100"]), ["ERR", "no pty-out copy"]);
  assert.deepEqual(await c.request(["RESIZE", "s", "40", "65536"]), ["ERR", "bad size"]);
  assert.deepEqual(await c.request(["RESIZE", "s", "-1", "10"]), ["ERR", "bad size"]);
  const [a, b] = track(t, ...shimSys().pipe());
  assert.deepEqual(await c.request(["COPY", "s", "sideways"], [a, b]), ["ERR", "bad copy kind"]);
  assert.deepEqual(await c.request(["COPY", "nobody", "in"], [a, b]), ["ERR", "no such name"]);
});
