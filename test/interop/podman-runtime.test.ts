// podman 4.3 (Debian's, with conmon) runs busybox containers through the runtime under test
// ($BERTH_INTEROP_RUNTIME): podman -> conmon -> wrapper -> runtime for create, podman -> wrapper ->
// runtime for start/kill/delete. podman never passes --root, so the wrapper adds a private one.
//
// The container's root is the busybox fixture dir given as `--rootfs DIR:O`: podman mounts an
// overlay over it just as it would over an image's layers, without `podman import`, which writes a
// blob-info cache to the host's /var/lib/containers/cache whatever --root says.

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeBusyboxRootfs, makeTempDir } from "../fixtures/busybox.ts";
import {
  callsFor,
  hostCgroupVersion,
  INTEROP_RUNTIME,
  type Podman,
  PRINT_MEMORY_LIMIT,
  runtimeSubcommand,
  setupPodman,
  skipReason,
  uniqueName,
} from "../helpers/peers.ts";

const skip = skipReason(["/usr/bin/podman", "/usr/bin/conmon"]);

describe(`podman drives ${INTEROP_RUNTIME}`, { skip }, () => {
  let pm: Podman | undefined;
  let rootfs = "";

  before(async () => {
    pm = await setupPodman();
    rootfs = join(await makeTempDir("berth-it-podman-rootfs-", pm.dir), "rootfs");
    await makeBusyboxRootfs(rootfs);
  });

  after(async () => {
    await pm?.cleanup();
  });

  /** Flags for every `podman run`; the container's command follows them directly. */
  const runFlags = () => ["--network", "none", "--cgroup-parent", pm!.cgroupParent, "--rootfs", `${rootfs}:O`];

  /** podman's container id (the runtime's id) for a container name. */
  const idOf = async (name: string) => {
    const r = await pm!.podman(["inspect", "--format", "{{.Id}}", name], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  test("prints the container's output and used the runtime", { timeout: 90_000 }, async () => {
    const name = uniqueName("out");
    const r = await pm!.podman(["run", "--name", name, ...runFlags(), "echo", "hello from", "berth"], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello from berth\n");
    const id = await idOf(name);
    const calls = await pm!.runtime.invocations();
    const create = callsFor(calls, "create", id);
    assert.equal(create.length, 1, `one create for ${id} in ${JSON.stringify(calls)}`);
    assert.ok(runtimeSubcommand(create[0]!)!.args.includes("--bundle"));
    assert.equal(callsFor(calls, "start", id).length, 1);
    assert.equal((await pm!.podman(["rm", name], { timeoutMs: 30_000 })).code, 0);
    assert.ok(callsFor(await pm!.runtime.invocations(), "delete", id).length >= 1, "podman deletes via the runtime");
  });

  test("propagates the exit code", { timeout: 90_000 }, async () => {
    const r = await pm!.podman(["run", "--rm", ...runFlags(), "sh", "-c", "exit 3"], { timeoutMs: 60_000 });
    assert.equal(r.code, 3, r.stderr);
  });

  test("podman kill stops a long-running container with the signal's status", { timeout: 90_000 }, async () => {
    const name = uniqueName("kill");
    const d = await pm!.podman(["run", "--detach", "--name", name, ...runFlags(), "sleep", "1000"], {
      timeoutMs: 60_000,
    });
    assert.equal(d.code, 0, d.stderr);
    const id = d.stdout.trim();
    const k = await pm!.podman(["kill", name], { timeoutMs: 30_000 });
    assert.equal(k.code, 0, k.stderr);
    const w = await pm!.podman(["wait", name], { timeoutMs: 30_000 });
    assert.equal(w.code, 0, w.stderr);
    // podman kill sends SIGKILL by default: status 128 + 9.
    assert.equal(w.stdout.trim(), "137");
    const st = await pm!.podman(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name], {
      timeoutMs: 20_000,
    });
    assert.equal(st.stdout.trim(), "exited 137");
    const kills = callsFor(await pm!.runtime.invocations(), "kill", id);
    assert.ok(kills.length >= 1, "podman called the runtime's kill");
    assert.deepEqual(runtimeSubcommand(kills[0]!)!.args, [id, "9"]);
    assert.equal((await pm!.podman(["rm", name], { timeoutMs: 30_000 })).code, 0);
  });

  test("applies --memory to the container's cgroup", { timeout: 90_000 }, async () => {
    const r = await pm!.podman(["run", "--rm", "--memory", "64m", ...runFlags(), "sh", "-c", PRINT_MEMORY_LIMIT], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), String(64 * 1024 * 1024), `cgroup v${hostCgroupVersion()} limit`);
  });
});
