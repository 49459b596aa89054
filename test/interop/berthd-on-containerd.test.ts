// The engine → containerd cell of the swap matrix: berthd on Debian's containerd 1.6 (a private one:
// its own root, state, sockets and config, from test/helpers/peers.ts) instead of its own
// berth-containerd, given with --containerd. containerd runs berthd's containers through berth-shim,
// found on its PATH as containerd-shim-berth-v1 (runtime io.containerd.berth.v1, berthd's choice),
// as scripts/setup.sh links it into /usr/local/bin. The docker CLI runs the same scenario as on
// berth-containerd (test/helpers/engine-scenario.ts), and ctr shows containerd's side of it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeTempDir } from "../fixtures/busybox.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { shimPids } from "../helpers/berth-containerd.ts";
import { type Berthd, newBerthd } from "../helpers/berthd.ts";
import { containerScenario } from "../helpers/engine-scenario.ts";
import { type Containerd, startContainerd } from "../helpers/peers.ts";

const repo = join(import.meta.dirname, "..", "..");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const BERTH_SHIM = join(repo, "dist", "berth-shim.mjs");
const skip =
  process.getuid?.() !== 0
    ? "interop tests run as root"
    : ["/usr/bin/ctr", "/usr/bin/containerd"].find((b) => !existsSync(b));

describe("berthd on Debian's containerd 1.6 (--containerd), its tasks on berth-shim", { skip }, () => {
  let c: Containerd;
  let d: Berthd;
  let shimDir: string;
  const ids: string[] = [];
  const ctr = (args: string[]) =>
    spawnSync("ctr", ["--address", c.address, "-n", c.namespace, ...args], { encoding: "utf8", timeout: 60_000 });

  before(async () => {
    // containerd looks a runtime's shim up on its own PATH: containerd-shim-<name>-<version>.
    shimDir = await makeTempDir("berthd-containerd-shims-");
    symlinkSync(BERTH_SHIM, join(shimDir, "containerd-shim-berth-v1"));
    const saved = process.env.PATH;
    process.env.PATH = `${shimDir}:${saved}`;
    try {
      c = await startContainerd();
    } finally {
      process.env.PATH = saved;
    }
    d = await newBerthd();
    await d.start(["--containerd", c.address, "--containerd-namespace", c.namespace]);
    const archive = join(d.dir, "busybox.tar");
    await writeImageArchive(archive, { name: "docker.io/library/busybox:latest" });
    const loaded = await d.docker(["load", "-i", archive]);
    assert.equal(loaded.status, 0, loaded.stderr);
  });

  after(async () => {
    await d?.cleanup();
    await c?.stop();
    // berth-shim's runtime root for the namespace when containerd (not berth-containerd) runs it.
    if (c) rmSync(join("/run/berth/runc", c.namespace), { recursive: true, force: true });
    if (shimDir) rmSync(shimDir, { recursive: true, force: true });
  });

  test("berthd uses the containerd it was given; a running container is containerd's task on berth-shim", async () => {
    const info = JSON.parse((await d.docker(["version", "--format", "{{json .Server.Components}}"])).stdout);
    const component = info.find((x: { Name: string }) => x.Name === "containerd");
    assert.match(component.Version, /^1\.6\./, "Debian's containerd answers, not berth-containerd");
    assert.equal(d.containerdPid(), undefined, "no berth-containerd of berthd's own");
    // The image was loaded through containerd's API into berthd's namespace.
    assert.match(ctr(["images", "ls", "-q"]).stdout, /^docker\.io\/library\/busybox:latest$/m);
    const run = await d.docker(["run", "-d", "busybox", "sleep", "600"]);
    assert.equal(run.status, 0, run.stderr);
    const id = run.stdout.trim();
    ids.push(id);
    assert.match(ctr(["tasks", "ls"]).stdout, new RegExp(`^${id}\\s+\\d+\\s+RUNNING`, "m"));
    const shims = shimPids(c.address);
    assert.ok(shims.length >= 1, "containerd started a shim for the task");
    assert.ok(
      shims.some((p) => /containerd-shim-berth-v1|berth-shim/.test(readFileSync(`/proc/${p}/cmdline`, "utf8"))),
      "the shim is berth-shim",
    );
    const rm = await d.docker(["rm", "-f", id]);
    assert.equal(rm.status, 0, rm.stderr);
    assert.equal(ctr(["containers", "ls", "-q"]).stdout, "");
  });

  test("a restart policy, a health check (probes through containerd's Exec) and docker update", async () => {
    const ok = async (args: string[]) => {
      const r = await d.docker(args);
      assert.equal(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const id = await ok([
      "run",
      "-d",
      "--restart",
      "always",
      "--health-cmd",
      "echo probed",
      "--health-interval",
      "1s",
      "busybox",
      "sleep",
      "600",
    ]);
    ids.push(id);
    const state = async () =>
      JSON.parse(await ok(["inspect", "-f", "{{json .State}}", id])) as {
        Pid: number;
        Running: boolean;
        Restarting: boolean;
        Health?: { Status: string; Log: { Output: string }[] };
      };
    for (let i = 0; i < 100 && (await state()).Health?.Status !== "healthy"; i++) await sleep(100);
    assert.equal((await state()).Health?.Log[0]?.Output, "probed\n");
    await ok(["update", "--memory", "64m", "--memory-swap", "128m", id]);
    assert.equal(await ok(["inspect", "-f", "{{.HostConfig.Memory}}", id]), String(64 << 20));
    const pid = (await state()).Pid;
    process.kill(pid, "SIGKILL");
    let after = await state();
    for (let i = 0; i < 100 && (after.Pid === pid || after.Pid === 0 || after.Restarting); i++) {
      await sleep(100);
      after = await state();
    }
    assert.ok(after.Running && after.Pid !== pid, "restarted by its policy");
    assert.equal(await ok(["inspect", "-f", "{{.RestartCount}}", id]), "1");
    await ok(["rm", "-f", id]);
  });

  containerScenario(() => ({ d, namespace: c.namespace, ctr, ids, containerdDir: c.dir }));
});
