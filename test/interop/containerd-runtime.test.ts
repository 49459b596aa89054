// containerd 1.6 (Debian's, driven with its own `ctr`) runs busybox containers through the runtime
// under test ($BERTH_INTEROP_RUNTIME): containerd -> containerd-shim-runc-v2 -> wrapper -> runtime.
// The shim is the reference one, so this proves the runtime speaks the runc command line the way
// the reference shim uses it (create/start/kill/delete, --log json, --pid-file).

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import {
  type Containerd,
  callsFor,
  hostCgroupVersion,
  INTEROP_RUNTIME,
  PRINT_MEMORY_LIMIT,
  pollUntil,
  runtimeSubcommand,
  skipReason,
  startContainerd,
  uniqueName,
} from "../helpers/peers.ts";

const IMAGE = "localhost/berth-it/busybox:latest";
const skip = skipReason(["/usr/bin/containerd", "/usr/bin/ctr", "/usr/bin/containerd-shim-runc-v2"]);

describe(`containerd + ctr drive ${INTEROP_RUNTIME}`, { skip }, () => {
  let cd: Containerd | undefined;

  before(async () => {
    cd = await startContainerd();
    const archive = join(cd.dir, "busybox-image.tar");
    await writeImageArchive(archive, { name: IMAGE });
    const r = await cd.ctr(["images", "import", archive], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `ctr images import: ${r.stderr}`);
  });

  after(async () => {
    await cd?.stop();
  });

  /** `ctr run --rm` with the wrapped runtime; the container id doubles as the runtime's id. */
  const run = (id: string, args: string[], extra: string[] = [], timeoutMs = 60_000) =>
    cd!.ctr(["run", "--rm", ...cd!.runFlags, ...extra, IMAGE, id, ...args], { timeoutMs });

  test("prints the container's output and used the runtime", { timeout: 90_000 }, async () => {
    const id = uniqueName("out");
    const r = await run(id, ["echo", "hello from", "berth"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello from berth\n");
    const calls = await cd!.runtime.invocations();
    const create = callsFor(calls, "create", id);
    assert.equal(create.length, 1, `one create for ${id} in ${JSON.stringify(calls)}`);
    assert.ok(runtimeSubcommand(create[0]!)!.args.includes("--bundle"));
    assert.equal(callsFor(calls, "start", id).length, 1);
    assert.ok(callsFor(calls, "delete", id).length >= 1, "the shim deletes the container");
  });

  test("propagates the exit code", { timeout: 90_000 }, async () => {
    const id = uniqueName("exit");
    const r = await run(id, ["sh", "-c", "exit 3"]);
    assert.equal(r.code, 3, r.stderr);
  });

  test("ctr task kill stops a long-running container with the signal's status", { timeout: 90_000 }, async () => {
    const id = uniqueName("kill");
    const running = run(id, ["sleep", "1000"]);
    const up = await pollUntil(async () => {
      const ls = await cd!.ctr(["task", "ls"], { timeoutMs: 10_000 });
      return ls.stdout.split("\n").some((l) => l.startsWith(`${id} `) && l.includes("RUNNING"));
    });
    assert.ok(up, "task reached RUNNING");
    const k = await cd!.ctr(["task", "kill", "--signal", "SIGKILL", id], { timeoutMs: 10_000 });
    assert.equal(k.code, 0, k.stderr);
    const r = await running;
    assert.equal(r.timedOut, false);
    // ctr run exits with the task's status: 128 + SIGKILL.
    assert.equal(r.code, 137, r.stderr);
    const kills = callsFor(await cd!.runtime.invocations(), "kill", id);
    assert.ok(kills.length >= 1, "the shim called the runtime's kill");
    assert.deepEqual(runtimeSubcommand(kills[0]!)!.args, [id, "9"]);
  });

  test("applies --memory-limit to the container's cgroup", { timeout: 90_000 }, async () => {
    const id = uniqueName("mem");
    const limit = 64 * 1024 * 1024;
    // containerd's default spec has no cgroup mount (CRI adds one); ask for it so the container can
    // read its own limit. On cgroup v1 the runtime expands it into per-controller mounts.
    const r = await run(
      id,
      ["sh", "-c", PRINT_MEMORY_LIMIT],
      [
        "--memory-limit",
        String(limit),
        "--mount",
        "type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:noexec:nodev",
      ],
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), String(limit), `cgroup v${hostCgroupVersion()} limit`);
  });
});
