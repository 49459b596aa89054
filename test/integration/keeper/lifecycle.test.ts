// berth-keeper's life cycle of a process (native/berth-keeper/README.md): SPAWN, RAN with the main
// pid its pid file names, EXIT with the exit file written first, LIST, FORGET, QUIT; what a spawned
// process inherits; what is left when the keeper is killed.
import assert from "node:assert/strict";
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { shimSys } from "../../../src/common/sys.ts";
import { alive, devNull, KeeperClient, ppid, spawnFrame, startKeeper, waitFor } from "./harness.ts";

test("HELLO, SPAWN, RAN with the main pid, EXIT 137 after a SIGKILL with the exit file written first", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  assert.deepEqual(await c.request(["HELLO"]), ["OK", "1", String(k.pid)]);
  const n = devNull(t);
  const exitFile = join(k.dir, "init.exit");
  let atEvent: string | undefined;
  c.onEvent = (e) => {
    if (e[0] === "EXIT") atEvent = existsSync(exitFile) ? readFileSync(exitFile, "utf8") : "missing";
  };
  const frame = spawnFrame("init", ["/bin/sh", "-c", "sleep 100 & echo $! > init.pid"], {
    pidfile: "init.pid",
    exitfile: "init.exit",
  });
  const [ok, spawned] = await c.request(frame, [n, n, n]);
  assert.equal(ok, "OK");
  const [, , ranPid, ranStatus, main] = await c.event("RAN", "init");
  assert.deepEqual([ranPid, ranStatus], [spawned, "0"]);
  const mainPid = Number(main);
  assert.equal(mainPid, Number(readFileSync(join(k.dir, "init.pid"), "utf8")));
  // The orphaned sleep is the keeper's now (subreaper), and it is watched.
  assert.equal(ppid(mainPid), k.pid);
  assert.equal((await c.list()).get("init")?.state, "running");
  assert.equal(existsSync(exitFile), false);

  process.kill(mainPid, "SIGKILL");
  const [, , pid, status, sec, nsec] = await c.event("EXIT", "init");
  assert.deepEqual([pid, status], [main, "137"]);
  assert.equal(atEvent, `${main} 137 ${sec} ${nsec}\n`);
  assert.ok(Math.abs(Number(sec) - Date.now() / 1000) < 10, `exit time ${sec}`);
  assert.deepEqual((await c.list()).get("init"), { pid: mainPid, state: "exited", status: 137, sec: Number(sec) });
  // No temporary file is left beside it.
  assert.deepEqual(readdirSync(k.dir).sort(), ["init.exit", "init.pid", "k.sock"]);
});

test("a main process that exits (and is reaped) before its spawn's process exits is still reported", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  // The subshell orphans its child to the keeper and names it; the child exits with 7 while the
  // spawned sh still sleeps, so the keeper reaps it before it can know whose it is.
  const script = "(sh -c 'sleep 0.1; exit 7' & echo $! > init.pid); sleep 1";
  await c.request(spawnFrame("init", ["/bin/sh", "-c", script], { pidfile: "init.pid", exitfile: "init.exit" }), [
    n,
    n,
    n,
  ]);
  const ran = await c.event("RAN", "init");
  const ranAt = Date.now() / 1000;
  const exit = await c.event("EXIT", "init");
  assert.equal(exit[2], ran[4]);
  assert.equal(exit[3], "7");
  // The exit's time is when it was reaped, well before the RAN.
  assert.ok(Number(exit[4]) + Number(exit[5]) / 1e9 < ranAt - 0.5, `exit at ${exit[4]}, RAN at ${ranAt}`);
  assert.equal(c.events.indexOf(ran) < c.events.indexOf(exit), true);
  assert.match(readFileSync(join(k.dir, "init.exit"), "utf8"), new RegExp(`^${ran[4]} 7 `));
});

test("spawns that exit at once, fail, or cannot exec are RAN with their status and LIST says failed", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  assert.equal((await c.request(spawnFrame("t", ["/bin/true"]), [n]))[0], "OK");
  assert.equal((await c.request(spawnFrame("f", ["/bin/sh", "-c", "exit 3"], { pidfile: "f.pid" }), [n]))[0], "OK");
  assert.equal((await c.request(spawnFrame("x", ["/nonexistent/program"]), [n]))[0], "OK");
  // Exits 0 with a pid file given but never written.
  assert.equal((await c.request(spawnFrame("nopid", ["/bin/true"], { pidfile: "nopid.pid" }), [n]))[0], "OK");
  assert.deepEqual((await c.event("RAN", "t")).slice(3), ["0", "0"]);
  assert.deepEqual((await c.event("RAN", "f")).slice(3), ["3", "0"]);
  assert.deepEqual((await c.event("RAN", "x")).slice(3), ["127", "0"]);
  assert.deepEqual((await c.event("RAN", "nopid")).slice(3), ["0", "0"]);
  const list = await c.list();
  assert.deepEqual(
    [...list].map(([name, p]) => [name, p.state, p.status]),
    [
      ["t", "failed", 0],
      ["f", "failed", 3],
      ["x", "failed", 127],
      ["nopid", "failed", 0],
    ],
  );
  assert.equal(c.events.filter((e) => e[0] === "EXIT").length, 0);
});

test("LIST after exits, FORGET, a name in use, and exits while no client is connected", async (t) => {
  const k = await startKeeper(t);
  let c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  const sh = (name: string) =>
    spawnFrame(name, ["/bin/sh", "-c", `sleep 100 & echo $! > ${name}.pid`], {
      pidfile: `${name}.pid`,
      exitfile: `${name}.exit`,
    });
  await c.request(sh("a"), [n]);
  await c.request(sh("b"), [n]);
  assert.deepEqual(await c.request(sh("a"), [n]), ["ERR", "name in use"]);
  const a = Number((await c.event("RAN", "a"))[4]);
  const b = Number((await c.event("RAN", "b"))[4]);
  // The client goes; a exits meanwhile; the next client finds it in LIST and in its exit file.
  c.sock.destroy();
  process.kill(a, "SIGTERM");
  await waitFor("a's exit file", () => existsSync(join(k.dir, "a.exit")));
  c = await KeeperClient.connect(k, t);
  let list = await c.list();
  assert.deepEqual(list.get("a"), { pid: a, state: "exited", status: 143, sec: list.get("a")?.sec });
  assert.equal(list.get("b")?.state, "running");
  assert.equal(readFileSync(join(k.dir, "a.exit"), "utf8").split(" ")[1], "143");

  assert.deepEqual(await c.request(["FORGET", "a"]), ["OK"]);
  assert.deepEqual(await c.request(["FORGET", "a"]), ["ERR", "no such name"]);
  // Forgetting a running process stops watching it; it keeps running.
  assert.deepEqual(await c.request(["FORGET", "b"]), ["OK"]);
  list = await c.list();
  assert.equal(list.size, 0);
  assert.equal(alive(b), true);
  process.kill(b, "SIGKILL");
  await waitFor("b reaped", () => !alive(b));
  assert.equal(
    c.events.some((e) => e[1] === "b" && e[0] === "EXIT"),
    false,
  );
  assert.deepEqual(await c.request(["HELLO"]), ["OK", "1", String(k.pid)]);
});

test("QUIT: OK, then the keeper exits 0 and closes the connection; what it spawned keeps running", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  await c.request(spawnFrame("s", ["/bin/sleep", "100"]), [n]);
  const sleeper = Number((await c.list()).get("s")?.pid);
  assert.deepEqual(await c.request(["QUIT"]), ["OK"]);
  assert.equal(await k.exited, 0);
  await waitFor("the connection closed", () => c.closed);
  assert.equal(alive(sleeper), true);
  assert.notEqual(ppid(sleeper), k.pid);
  process.kill(sleeper, "SIGKILL");
});

test("a spawned process has exactly the fds it was given as 0..n-1, default signals and an empty mask", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  const [r, w] = shimSys().pipe();
  const out = openSync(join(k.dir, "out"), "w");
  t.after(() => {
    for (const fd of [r, w, out]) closeSync(fd);
  });
  // Five fds, one of them twice: 0 /dev/null, 1 a file, 2 the same file, 3 a pipe's read end, 4 its write end.
  const [ok, pid] = await c.request(spawnFrame("s", ["/bin/sleep", "100"]), [n, out, out, r, w]);
  assert.equal(ok, "OK");
  await waitFor("sleep exec'd", () => readFileSync(`/proc/${pid}/comm`, "utf8") === "sleep\n");
  const fds = readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .sort((x, y) => x - y);
  assert.deepEqual(fds, [0, 1, 2, 3, 4]);
  const link = (fd: number) => readlinkSync(`/proc/${pid}/fd/${fd}`);
  assert.equal(link(0), "/dev/null");
  assert.equal(link(1), join(k.dir, "out"));
  assert.equal(link(2), join(k.dir, "out"));
  assert.equal(link(3), readlinkSync(`/proc/self/fd/${r}`));
  assert.equal(link(4), readlinkSync(`/proc/self/fd/${w}`));
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  assert.match(status, /^SigBlk:\s+0+$/m);
  assert.match(status, /^SigIgn:\s+0+$/m);
  // Nothing of the keeper's (bundle fd 3, socket fd 4, the client, the signalfd) and one fd alone.
  const [, one] = await c.request(spawnFrame("one", ["/bin/sleep", "100"]), [n]);
  await waitFor("sleep exec'd", () => readFileSync(`/proc/${one}/comm`, "utf8") === "sleep\n");
  assert.deepEqual(readdirSync(`/proc/${one}/fd`), ["0"]);
  // The keeper kept none of them: its fds are 0-2, the bundle, the listener, the signalfd, the client.
  const mine = readdirSync(`/proc/${k.pid}/fd`).map((fd) => readlinkSync(`/proc/${k.pid}/fd/${fd}`));
  assert.equal(mine.length, 7, mine.join(", "));
  assert.equal(mine.includes(join(k.dir, "out")), false);
});

test("kill -9 of the keeper: its processes live on, reparented; nothing of the keeper's is left", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  await c.request(spawnFrame("init", ["/bin/sh", "-c", "sleep 100 & echo $! > init.pid"], { pidfile: "init.pid" }), [
    n,
  ]);
  const main = Number((await c.event("RAN", "init"))[4]);
  await c.request(spawnFrame("s", ["/bin/sleep", "100"]), [n]);
  const s = Number((await c.list()).get("s")?.pid);
  const before = readdirSync(k.dir).sort();
  process.kill(k.pid, "SIGKILL");
  assert.equal(await k.exited, "SIGKILL");
  await waitFor("the connection closed", () => c.closed);
  for (const pid of [main, s]) {
    assert.equal(alive(pid), true);
    assert.notEqual(ppid(pid), k.pid);
  }
  // The keeper made no file (its socket is the shim's), and no process of it remains.
  assert.deepEqual(readdirSync(k.dir).sort(), before);
  assert.deepEqual(before, ["init.pid", "k.sock"]);
  assert.equal(existsSync(`/proc/${k.pid}`), false);
  for (const pid of [main, s]) process.kill(pid, "SIGKILL");
});

test("a pid file that is a symlink to a host file is not followed: the name is failed", async (t) => {
  const k = await startKeeper(t);
  const c = await KeeperClient.connect(k, t);
  const n = devNull(t);
  await c.request(spawnFrame("s", ["/bin/sleep", "100"]), [n]);
  const sleeper = (await c.list()).get("s")?.pid;
  // A host file naming a live process; the bundle's pid file points at it.
  const host = join(k.dir, "..", `${k.dir.split("/").pop()}-host-pid`);
  writeFileSync(host, `${sleeper}\n`);
  t.after(() => rmSync(host, { force: true }));
  symlinkSync(host, join(k.dir, "init.pid"));
  await c.request(spawnFrame("init", ["/bin/true"], { pidfile: "init.pid" }), [n]);
  assert.deepEqual((await c.event("RAN", "init")).slice(3), ["0", "0"]);
  assert.equal((await c.list()).get("init")?.state, "failed");
  // An exit file that is a symlink is replaced, not written through.
  const hostExit = `${host}-exit`;
  writeFileSync(hostExit, "host\n");
  t.after(() => rmSync(hostExit, { force: true }));
  symlinkSync(hostExit, join(k.dir, "e.exit"));
  await c.request(spawnFrame("e", ["/bin/sh", "-c", "echo $$ > e.pid"], { pidfile: "e.pid", exitfile: "e.exit" }), [n]);
  await c.event("EXIT", "e");
  assert.equal(readFileSync(hostExit, "utf8"), "host\n");
  assert.match(readFileSync(join(k.dir, "e.exit"), "utf8"), /^\d+ 0 \d+ \d+\n$/);
});
