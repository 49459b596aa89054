// dockerd 20.10 (Debian's docker.io) runs busybox containers through the runtime under test
// ($BERTH_INTEROP_RUNTIME), registered with --add-runtime and picked per container with
// `docker run --runtime`: dockerd -> its managed containerd -> containerd-shim-runc-v2 -> wrapper
// -> runtime. The image is the busybox fixture rootfs, `docker import`ed (no registry).

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeRootfsTar } from "../fixtures/oci-image.ts";
import {
  callsFor,
  DOCKER_CLI,
  type Dockerd,
  hostCgroupVersion,
  INTEROP_RUNTIME,
  PRINT_MEMORY_LIMIT,
  runtimeSubcommand,
  skipReason,
  startDockerd,
  uniqueName,
} from "../helpers/peers.ts";

const IMAGE = "berth-it/busybox:latest";
const skip = skipReason(["/usr/sbin/dockerd", DOCKER_CLI]);

describe(`dockerd drives ${INTEROP_RUNTIME}`, { skip }, () => {
  let dk: Dockerd | undefined;

  before(async () => {
    dk = await startDockerd();
    const tar = join(dk.dir, "busybox-rootfs.tar");
    await writeRootfsTar(tar);
    const r = await dk.docker(["import", tar, IMAGE], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `docker import: ${r.stderr}`);
  });

  after(async () => {
    await dk?.stop();
  });

  const runFlags = () => ["--runtime", dk!.runtimeName, "--network", "none"];

  const idOf = async (name: string) => {
    const r = await dk!.docker(["inspect", "--format", "{{.Id}}", name], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };

  test("prints the container's output and used the runtime", { timeout: 90_000 }, async () => {
    const name = uniqueName("out");
    const r = await dk!.docker(["run", "--name", name, ...runFlags(), IMAGE, "echo", "hello from", "berth"], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "hello from berth\n");
    const id = await idOf(name);
    const rt = await dk!.docker(["inspect", "--format", "{{.HostConfig.Runtime}}", name], { timeoutMs: 20_000 });
    assert.equal(rt.stdout.trim(), dk!.runtimeName);
    const calls = await dk!.runtime.invocations();
    const create = callsFor(calls, "create", id);
    assert.equal(create.length, 1, `one create for ${id} in ${JSON.stringify(calls)}`);
    assert.ok(runtimeSubcommand(create[0]!)!.args.includes("--bundle"));
    assert.equal(callsFor(calls, "start", id).length, 1);
    assert.ok(callsFor(calls, "delete", id).length >= 1, "the shim deletes the container");
    assert.equal((await dk!.docker(["rm", name], { timeoutMs: 30_000 })).code, 0);
  });

  test("propagates the exit code", { timeout: 90_000 }, async () => {
    const r = await dk!.docker(["run", "--rm", ...runFlags(), IMAGE, "sh", "-c", "exit 3"], { timeoutMs: 60_000 });
    assert.equal(r.code, 3, r.stderr);
  });

  test("docker kill stops a long-running container with the signal's status", { timeout: 90_000 }, async () => {
    const name = uniqueName("kill");
    const d = await dk!.docker(["run", "--detach", "--name", name, ...runFlags(), IMAGE, "sleep", "1000"], {
      timeoutMs: 60_000,
    });
    assert.equal(d.code, 0, d.stderr);
    const id = d.stdout.trim();
    const k = await dk!.docker(["kill", name], { timeoutMs: 30_000 });
    assert.equal(k.code, 0, k.stderr);
    const w = await dk!.docker(["wait", name], { timeoutMs: 30_000 });
    assert.equal(w.code, 0, w.stderr);
    // docker kill sends SIGKILL by default: status 128 + 9.
    assert.equal(w.stdout.trim(), "137");
    const st = await dk!.docker(["inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name], {
      timeoutMs: 20_000,
    });
    assert.equal(st.stdout.trim(), "exited 137");
    const kills = callsFor(await dk!.runtime.invocations(), "kill", id);
    assert.ok(kills.length >= 1, "the shim called the runtime's kill");
    assert.deepEqual(runtimeSubcommand(kills[0]!)!.args, [id, "9"]);
    assert.equal((await dk!.docker(["rm", name], { timeoutMs: 30_000 })).code, 0);
  });

  test("applies -m to the container's cgroup", { timeout: 90_000 }, async () => {
    const r = await dk!.docker(["run", "--rm", ...runFlags(), "-m", "64m", IMAGE, "sh", "-c", PRINT_MEMORY_LIMIT], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), String(64 * 1024 * 1024), `cgroup v${hostCgroupVersion()} limit`);
  });
});
