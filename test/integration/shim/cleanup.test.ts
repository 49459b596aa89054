// `berth-shim delete`, what a daemon runs for a shim that died (kill -9) while its task ran: the
// container is force-deleted and the task's keeper, which outlived the shim, is ended too (QUIT
// when it answers; SIGKILL when it does not, here a stopped one), with its socket and the bundle's
// `keeper` file. Nothing of the task is left.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { DeleteResponseSchema } from "../../../src/proto/gen/containerd/task/v2/shim_pb.js";
import { keepersOf } from "../../../src/shim/keeper.ts";
import { type Bundle, makeBundle } from "../../fixtures/busybox.ts";
import { type DirectShim, isRunning, SHIM, startDirectShim, until } from "../../helpers/direct-shim.ts";

const skip = process.getuid?.() !== 0 ? "runs containers: root only" : existsSync(SHIM) ? undefined : "build first";

describe("berth-shim delete after a shim killed with SIGKILL", { skip }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  /** A running task whose shim was then killed: its bundle, runtime root, init and keeper. */
  async function orphanedTask(
    name: string,
  ): Promise<{ b: Bundle; shim: DirectShim; ns: string; id: string; init: number; keeper: number }> {
    const ns = `cleanup-${process.pid}`;
    const id = `${name}-${process.pid}`;
    const b = await makeBundle({ args: ["sleep", "600"] });
    const shim = await startDirectShim(`${ns}-${name}`, id, b.dir);
    cleanups.push(async () => {
      await shim.stop([id]);
      await b.cleanup();
    });
    const init = (await shim.task.create({ id, bundle: b.dir })).pid;
    await shim.task.start({ id });
    const [keeper] = keepersOf(b.dir);
    assert.ok(keeper);
    process.kill(shim.shimPid, "SIGKILL");
    await until("the shim dies", () => !isRunning(shim.shimPid));
    assert.ok(isRunning(keeper) && isRunning(init), "the keeper and the container outlive the shim");
    return { b, shim, ns: `${ns}-${name}`, id, init, keeper };
  }

  function runDelete(t: { b: Bundle; shim: DirectShim; ns: string; id: string }): number {
    const out = execFileSync(
      SHIM,
      ["-namespace", t.ns, "-address", "/nonexistent.sock", "-id", t.id, "-bundle", t.b.dir, "delete"],
      {
        env: { ...process.env, BERTH_SHIM_RUNTIME_ROOT: t.shim.runtimeRoot },
      },
    );
    return fromBinary(DeleteResponseSchema, out).exitStatus;
  }

  function assertNothingLeft(
    t: { b: Bundle; shim: DirectShim; ns: string; init: number; keeper: number },
    socket: string,
  ) {
    assert.ok(!isRunning(t.init), "the container's init is gone");
    assert.ok(!isRunning(t.keeper), "the keeper is gone");
    assert.deepEqual(keepersOf(t.b.dir), []);
    assert.ok(!existsSync(socket), "the keeper's socket is removed");
    assert.ok(!existsSync(join(t.b.dir, "keeper")), "the bundle's keeper file is removed");
    assert.deepEqual(readdirSync(join(t.shim.runtimeRoot, t.ns)), [], "the runtime's state is removed");
  }

  test("a keeper that answers is told to QUIT", { timeout: 60_000 }, async () => {
    const t = await orphanedTask("quit");
    const socket = readFileSync(join(t.b.dir, "keeper"), "utf8");
    assert.equal(runDelete(t), 137);
    await until("the keeper exits", () => !isRunning(t.keeper));
    assertNothingLeft(t, socket);
  });

  test("a keeper that does not answer is killed", { timeout: 60_000 }, async () => {
    const t = await orphanedTask("stopped");
    const socket = readFileSync(join(t.b.dir, "keeper"), "utf8");
    process.kill(t.keeper, "SIGSTOP");
    assert.equal(runDelete(t), 137);
    await until("the keeper is killed", () => !isRunning(t.keeper));
    assertNothingLeft(t, socket);
  });
});
