// berth-shim's tasks through their keepers, driven directly over ttrpc: kill -9 of one task's
// keeper kills that container alone and reports it exited (137) while another task of the same
// shim runs on, and nothing of the dead one is left once it is deleted; stdin goes through the
// keeper and CloseIO ends it; a terminal is relayed by the keeper and ResizePty sets its size.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Status } from "../../../src/proto/gen/containerd/types/task/task_pb.js";
import { keepersOf } from "../../../src/shim/keeper.ts";
import { type Bundle, makeBundle, makeTempDir } from "../../fixtures/busybox.ts";
import { type DirectShim, isRunning, ppidOf, SHIM, startDirectShim, until } from "../../helpers/direct-shim.ts";

const skip = process.getuid?.() !== 0 ? "runs containers: root only" : existsSync(SHIM) ? undefined : "build first";

/** Reads a fifo (opened before the task, as ctr does) into a string as data comes. */
function fifoReader(path: string): { text: () => string; close: () => void } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const sock = new net.Socket({ fd, readable: true, writable: false });
  let text = "";
  sock.on("data", (d: Buffer) => {
    text += d.toString();
  });
  sock.on("error", () => {});
  return { text: () => text, close: () => sock.destroy() };
}

describe("berth-shim tasks through their keepers", { skip }, () => {
  const ns = `keeper-tasks-${process.pid}`;
  const ids = ["kt-a", "kt-b", "kt-stdin", "kt-pty"].map((i) => `${i}-${process.pid}`);
  const [idA, idB, idStdin, idPty] = ids as [string, string, string, string];
  const bundles: Bundle[] = [];
  let shim: DirectShim;
  let fifos: string;

  const bundle = async (args: string[], terminal = false) => {
    const b = await makeBundle({
      args,
      spec: (s) => {
        s.process!.terminal = terminal;
      },
    });
    bundles.push(b);
    return b;
  };

  before(async () => {
    const first = await bundle(["sleep", "600"]);
    shim = await startDirectShim(ns, idA, first.dir);
    fifos = await makeTempDir("berth-keeper-fifos-");
  });

  after(async () => {
    await shim?.stop(ids);
    for (const b of bundles) await b.cleanup();
  });

  test("kill -9 of one task's keeper: that container is killed and reported 137; the other runs on", {
    timeout: 60_000,
  }, async () => {
    const { task } = shim;
    const [a] = bundles as [Bundle];
    const b = await bundle(["sleep", "600"]);
    const pidA = (await task.create({ id: idA, bundle: a.dir })).pid;
    const pidB = (await task.create({ id: idB, bundle: b.dir })).pid;
    await task.start({ id: idA });
    await task.start({ id: idB });
    const [keeperA] = keepersOf(a.dir);
    const [keeperB] = keepersOf(b.dir);
    assert.ok(keeperA && keeperB && keeperA !== keeperB, "a keeper per task");
    assert.equal(ppidOf(pidA), keeperA);
    const socketA = readFileSync(join(a.dir, "keeper"), "utf8");

    process.kill(keeperA, "SIGKILL");
    const waited = await task.wait({ id: idA });
    assert.equal(waited.exitStatus, 137, "reported killed");
    const stateA = await task.state({ id: idA });
    assert.equal(stateA.status, Status.STOPPED);
    await until("A's container is gone", () => !isRunning(pidA));

    // B and its keeper are untouched.
    assert.equal((await task.state({ id: idB })).status, Status.RUNNING);
    assert.ok(isRunning(pidB) && isRunning(keeperB));
    assert.equal(ppidOf(pidB), keeperB);

    // A is deleted as any stopped task; nothing of it is left.
    assert.equal((await task.delete({ id: idA })).exitStatus, 137);
    assert.deepEqual(keepersOf(a.dir), []);
    assert.ok(!existsSync(socketA), "A's keeper socket removed");
    assert.ok(!existsSync(join(a.dir, "keeper")), "A's keeper file removed");
    assert.deepEqual(readdirSync(join(shim.runtimeRoot, ns)), [idB], "A's runtime state removed");

    // B still answers, and ends normally.
    await task.kill({ id: idB, signal: 9 });
    assert.equal((await task.wait({ id: idB })).exitStatus, 137);
    await task.delete({ id: idB });
    await until("B's keeper exits", () => !isRunning(keeperB));
  });

  test("a Create that fails once the runtime has made the container leaves nothing behind", {
    timeout: 60_000,
  }, async () => {
    const { task } = shim;
    // A terminal asked for a process that has none: the runtime makes the container, but never
    // sends a pty master, so the Create fails after 10 s waiting for it.
    const b = await bundle(["sleep", "600"]);
    const idNoPty = `kt-nopty-${process.pid}`;
    ids.push(idNoPty);
    const stdout = join(fifos, "nopty-out");
    execFileSync("mkfifo", [stdout]);
    await assert.rejects(task.create({ id: idNoPty, bundle: b.dir, stdout, terminal: true }), /no console/);
    assert.deepEqual(readdirSync(join(shim.runtimeRoot, ns)), [], "the container was deleted");
    assert.deepEqual(keepersOf(b.dir), [], "the keeper was ended");
    assert.ok(!existsSync(join(b.dir, "keeper")));
    await assert.rejects(task.state({ id: idNoPty }), /not found/);
  });

  test("stdin goes through the keeper; CloseIO ends it", { timeout: 60_000 }, async () => {
    const { task } = shim;
    const b = await bundle(["sh", "-c", "cat; echo eof; exit 4"]);
    const stdin = join(fifos, "stdin");
    const stdout = join(fifos, "stdout");
    execFileSync("mkfifo", [stdin, stdout]);
    // The client's ends are open before the task is asked for, as ctr opens them; this writer
    // stays open, so only CloseIO can end the container's stdin.
    const writer = openSync(stdin, constants.O_RDWR);
    const out = fifoReader(stdout);
    try {
      await task.create({ id: idStdin, bundle: b.dir, stdin, stdout, stderr: stdout });
      await task.start({ id: idStdin });
      writeSync(writer, "hello\n");
      await until("the echo of stdin", () => out.text() === "hello\n");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(out.text(), "hello\n", "stdin is still open");
      await task.closeIO({ id: idStdin, stdin: true });
      assert.equal((await task.wait({ id: idStdin })).exitStatus, 4);
      await until("the output after EOF", () => out.text() === "hello\neof\n");
      await task.delete({ id: idStdin });
    } finally {
      closeSync(writer);
      out.close();
    }
  });

  test("a terminal is relayed by the keeper; ResizePty sets its size", { timeout: 60_000 }, async () => {
    const { task } = shim;
    const b = await bundle(["sh", "-c", "read x; stty size; exit 3"], true);
    const stdin = join(fifos, "pty-in");
    const stdout = join(fifos, "pty-out");
    execFileSync("mkfifo", [stdin, stdout]);
    const writer = openSync(stdin, constants.O_RDWR);
    const out = fifoReader(stdout);
    try {
      await task.create({ id: idPty, bundle: b.dir, stdin, stdout, terminal: true });
      await task.start({ id: idPty });
      await task.resizePty({ id: idPty, width: 101, height: 37 });
      writeSync(writer, "go\n");
      assert.equal((await task.wait({ id: idPty })).exitStatus, 3);
      await until("the size, through the pty", () => out.text().includes("37 101"));
      await task.delete({ id: idPty });
    } finally {
      closeSync(writer);
      out.close();
    }
  });
});
