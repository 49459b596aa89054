// berth-shim driven directly over ttrpc, as a daemon would: `start` in a bundle, then Task calls.
// Bad input (a stdout path that is no fifo, an exec id that would escape the bundle, an unknown
// options type, a second Create of the same id) is refused with invalid-argument or
// already-exists and leaves nothing behind; a task then runs, execs, exits and is deleted (its
// init and exec'd processes are its keeper's children, the keeper the shim's; Delete ends the
// keeper and removes its socket), and Shutdown ends the shim.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BerthError } from "../../../src/common/errors.ts";
import type { Task } from "../../../src/proto/gen/containerd/task/v2/shim_pb.js";
import { Status } from "../../../src/proto/gen/containerd/types/task/task_pb.js";
import type { TtrpcClient } from "../../../src/rpc/ttrpc/client.ts";
import { keepersOf } from "../../../src/shim/keeper.ts";
import { type Bundle, makeBundle } from "../../fixtures/busybox.ts";
import { type DirectShim, isRunning, ppidOf, SHIM, startDirectShim, until } from "../../helpers/direct-shim.ts";

const skip = process.getuid?.() !== 0 ? "runs containers: root only" : existsSync(SHIM) ? undefined : "build first";

const kind = (k: string) => (e: unknown) => e instanceof BerthError && e.kind === k;

describe("berth-shim over ttrpc, without a daemon", { skip }, () => {
  let bundle: Bundle;
  let shim: DirectShim;
  let task: TtrpcClient<typeof Task>;
  let runtimeRoot: string;
  let shimPid = 0;
  const ns = `direct-${process.pid}`;
  const id = `shim-direct-${process.pid}`;

  before(async () => {
    bundle = await makeBundle({ args: ["sleep", "600"] });
    shim = await startDirectShim(ns, id, bundle.dir);
    assert.match(shim.address, /^unix:\/\/\/run\/berth\/s\/[0-9a-f]{64}$/);
    assert.equal(readFileSync(join(bundle.dir, "address"), "utf8"), shim.address);
    ({ task, shimPid, runtimeRoot } = shim);
  });

  after(async () => {
    await shim?.stop([id]);
    await bundle?.cleanup();
  });

  test("bad input is refused and leaves nothing", async () => {
    const notFifo = join(bundle.dir, "plain-file");
    writeFileSync(notFifo, "");
    await assert.rejects(task.create({ id, bundle: bundle.dir, stdout: notFifo }), kind("invalid-argument"));
    await assert.rejects(task.create({ id, bundle: bundle.dir, stdout: "ftp:///x" }), kind("invalid-argument"));
    await assert.rejects(
      task.create({
        id,
        bundle: bundle.dir,
        options: { typeUrl: "containerd.runhcs.v1.Options", value: new Uint8Array() },
      }),
      kind("invalid-argument"),
    );
    await assert.rejects(task.state({ id }), kind("not-found"));
    assert.deepEqual(
      readdirSync(join(runtimeRoot)).flatMap((n) => readdirSync(join(runtimeRoot, n))),
      [],
    );
    assert.equal(readFileSync(notFifo, "utf8"), "", "nothing was written to the non-fifo");
  });

  test("create, start, exec, kill, wait, delete; shutdown ends the shim", { timeout: 60_000 }, async () => {
    const { pid } = await task.create({ id, bundle: bundle.dir });
    assert.ok(pid > 0);
    await assert.rejects(task.create({ id, bundle: bundle.dir }), kind("already-exists"));
    assert.equal((await task.state({ id })).status, Status.CREATED);
    await task.start({ id });
    assert.equal((await task.state({ id })).status, Status.RUNNING);
    // The container's init is its keeper's child (the runtime that forked it has exited); the
    // keeper, the task's alone, is the shim's.
    const [keeper, ...others] = keepersOf(bundle.dir);
    assert.ok(keeper && others.length === 0, "one keeper for the task");
    assert.equal(ppidOf(pid), keeper, "the init's parent is the keeper");
    assert.equal(ppidOf(keeper), shimPid, "the keeper's parent is the shim");
    const keeperSocket = readFileSync(join(bundle.dir, "keeper"), "utf8");
    assert.ok(existsSync(keeperSocket));

    const spec = { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Process", value: new Uint8Array() };
    const proc = { ...bundle.spec.process!, args: ["sh", "-c", "exit 9"], terminal: false };
    spec.value = new TextEncoder().encode(JSON.stringify(proc));
    await assert.rejects(task.exec({ id, execId: "../../escape", spec }), kind("invalid-argument"));
    await assert.rejects(
      task.exec({ id, execId: "e1", spec: { ...spec, value: new TextEncoder().encode("{") } }),
      kind("invalid-argument"),
    );
    await task.exec({ id, execId: "e1", spec });
    await assert.rejects(task.kill({ id, execId: "e1", signal: 9 }), kind("failed-precondition"), "not started yet");
    await task.start({ id, execId: "e1" });
    assert.equal((await task.wait({ id, execId: "e1" })).exitStatus, 9);
    await task.delete({ id, execId: "e1" });
    assert.ok(!existsSync(join(bundle.dir, "exec-e1.exit")), "a deleted exec's exit file goes");

    // An exec that cannot start fails its Start, and can be started again (the keeper forgot it).
    const missing = { ...proc, args: ["/no/such/binary"] };
    await task.exec({ id, execId: "e3", spec: { ...spec, value: new TextEncoder().encode(JSON.stringify(missing)) } });
    await assert.rejects(task.start({ id, execId: "e3" }), /no such file|not found|exec/i);
    await assert.rejects(task.start({ id, execId: "e3" }), (e: unknown) => !/name in use/.test(String(e)));
    await task.delete({ id, execId: "e3" });

    // An exec'd process is the keeper's child too.
    const long = { ...proc, args: ["sleep", "600"] };
    await task.exec({ id, execId: "e2", spec: { ...spec, value: new TextEncoder().encode(JSON.stringify(long)) } });
    const e2 = (await task.start({ id, execId: "e2" })).pid;
    assert.equal(ppidOf(e2), keeper, "the exec's parent is the keeper");
    await task.kill({ id, execId: "e2", signal: 9 });
    assert.equal((await task.wait({ id, execId: "e2" })).exitStatus, 137);
    await task.delete({ id, execId: "e2" });

    await assert.rejects(task.delete({ id }), kind("failed-precondition"), "running tasks are not deleted");
    await task.kill({ id, signal: 9 });
    assert.equal((await task.wait({ id })).exitStatus, 137);
    await assert.rejects(task.kill({ id, signal: 9 }), kind("not-found"));
    const del = await task.delete({ id });
    assert.equal(del.exitStatus, 137);
    assert.deepEqual(readdirSync(join(runtimeRoot, ns)), []);
    // Delete ended the keeper: its process, socket and the bundle's `keeper` file are gone.
    await until("the keeper exits", () => !isRunning(keeper));
    assert.ok(!existsSync(keeperSocket), "keeper socket removed");
    assert.ok(!existsSync(join(bundle.dir, "keeper")), "keeper file removed");

    await task.shutdown({ id });
    for (let i = 0; i < 50 && existsSync(`/proc/${shimPid}`); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!existsSync(`/proc/${shimPid}`), "the shim exited");
    assert.ok(!existsSync(readFileSync(join(bundle.dir, "address"), "utf8").slice("unix://".length)), "socket removed");
  });
});
