// berth-shim driven directly over ttrpc, as a daemon would: `start` in a bundle, then Task calls.
// Bad input (a stdout path that is no fifo, an exec id that would escape the bundle, an unknown
// options type, a second Create of the same id) is refused with invalid-argument or
// already-exists and leaves nothing behind; a task then runs, execs, exits and is deleted, and
// Shutdown ends the shim.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BerthError } from "../../../src/common/errors.ts";
import { Task } from "../../../src/proto/gen/containerd/task/v2/shim_pb.js";
import { Status } from "../../../src/proto/gen/containerd/types/task/task_pb.js";
import { createTtrpcClient, type TtrpcClient } from "../../../src/rpc/ttrpc/client.ts";
import { type Bundle, makeBundle, makeTempDir } from "../../fixtures/busybox.ts";

const repo = join(import.meta.dirname, "..", "..", "..");
const SHIM = join(repo, "dist", "berth-shim.mjs");
const skip = process.getuid?.() !== 0 ? "runs containers: root only" : existsSync(SHIM) ? undefined : "build first";

const kind = (k: string) => (e: unknown) => e instanceof BerthError && e.kind === k;

describe("berth-shim over ttrpc, without a daemon", { skip }, () => {
  let bundle: Bundle;
  let runtimeRoot: string;
  let task: TtrpcClient<typeof Task>;
  let shimPid = 0;
  const ns = `direct-${process.pid}`;
  const id = `shim-direct-${process.pid}`;

  before(async () => {
    bundle = await makeBundle({ args: ["sleep", "600"] });
    runtimeRoot = await makeTempDir("berth-shim-runc-");
    const address = execFileSync(SHIM, ["-namespace", ns, "-address", "/nonexistent.sock", "-id", id, "start"], {
      cwd: bundle.dir,
      encoding: "utf8",
      // No daemon: events have nowhere to go (they are dropped after retries, never block).
      env: { ...process.env, TTRPC_ADDRESS: "", BERTH_SHIM_RUNTIME_ROOT: runtimeRoot },
    }).trim();
    assert.match(address, /^unix:\/\/\/run\/berth\/s\/[0-9a-f]{64}$/);
    assert.equal(readFileSync(join(bundle.dir, "address"), "utf8"), address);
    task = createTtrpcClient(Task, address, { namespace: ns, timeoutMs: 30_000 });
    shimPid = (await task.connect({ id })).shimPid;
  });

  after(async () => {
    try {
      await task?.shutdown({ id, now: true });
    } catch {}
    task?.close();
    spawnSync(join(repo, "dist", "berth-runc.mjs"), ["--root", join(runtimeRoot, ns), "delete", "--force", id]);
    await bundle?.cleanup();
    spawnSync("rm", ["-rf", runtimeRoot]);
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
    // The container's init is the shim's child (the runtime that forked it has exited).
    assert.match(readFileSync(`/proc/${pid}/stat`, "utf8"), new RegExp(`^\\d+ \\([^)]*\\) \\S+ ${shimPid} `));

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

    await assert.rejects(task.delete({ id }), kind("failed-precondition"), "running tasks are not deleted");
    await task.kill({ id, signal: 9 });
    assert.equal((await task.wait({ id })).exitStatus, 137);
    await assert.rejects(task.kill({ id, signal: 9 }), kind("not-found"));
    const del = await task.delete({ id });
    assert.equal(del.exitStatus, 137);
    assert.deepEqual(readdirSync(join(runtimeRoot, ns)), []);

    await task.shutdown({ id });
    for (let i = 0; i < 50 && existsSync(`/proc/${shimPid}`); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!existsSync(`/proc/${shimPid}`), "the shim exited");
    assert.ok(!existsSync(readFileSync(join(bundle.dir, "address"), "utf8").slice("unix://".length)), "socket removed");
  });
});
