// podman as a bench subject: rootful podman 4.3 with Debian's conmon and a runc-compatible runtime,
// every state dir private (test/helpers/peers.ts setupPodman: --root/--runroot/--tmpdir in a temp
// dir, cgroupfs, file events, file locks, ulimits within the host's hard limits). Containers run on
// the busybox rootfs the ctr stacks' image is packed from, given as `--rootfs DIR:O` (podman mounts
// an overlay over it per container, as over an image's layers) so that nothing is written to the
// host's /var/lib/containers (`podman load` writes its blob-info cache there whatever --root says).
// Its shim side is conmon, one per container.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { makeBusyboxRootfs, makeTempDir } from "../../test/fixtures/busybox.ts";
import { type Podman, setupPodman } from "../../test/helpers/peers.ts";
import { cmdline, firstLine, mountsUnder, pidsWhere, pidsWithExe } from "./host.ts";
import type { Subject } from "./subject.ts";

export const PODMAN = "/usr/bin/podman";
export const CONMON = "/usr/bin/conmon";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface PodmanSubject extends Subject {
  version: string;
  /** Takes everything down (containers, conmons, cgroups, mounts, the temp dirs); what it found. Never throws. */
  cleanup(): Promise<string[]>;
}

const under = (dir: string) => (p: string) => p === dir || p.startsWith(`${dir}/`);

/** Sets up a private podman that runs containers with `runtime` (e.g. /usr/sbin/runc). */
export async function startPodman(runtime: string): Promise<PodmanSubject> {
  const pm: Podman = await setupPodman(runtime);
  /** podman's container id of each name we ran (mounts and cgroups are named by it). */
  const hexIds = new Map<string, string>();
  let rootfs = "";
  try {
    rootfs = join(await makeTempDir("rootfs-", pm.dir), "rootfs");
    await makeBusyboxRootfs(rootfs);
  } catch (e) {
    await pm.cleanup();
    throw e;
  }
  const version = `${firstLine([PODMAN, "--version"]) ?? "?"}, ${firstLine([CONMON, "--version"]) ?? "conmon ?"}`;
  const inDir = under(pm.dir);
  const conmons = () => pidsWithExe(CONMON).filter((pid) => cmdline(pid).some(inDir));
  /** Every process with an argument in our dir: conmons, and the `podman container cleanup` they start. */
  const ours = () => pidsWhere((pid) => cmdline(pid).some(inDir));
  const names = async (all: boolean) => {
    const r = await pm.podman(["ps", ...(all ? ["--all"] : []), "--format", "{{.Names}} {{.Pid}}"], {
      timeoutMs: 60_000,
    });
    return r.stdout.split("\n").map((l) => l.trim().split(/\s+/));
  };
  const waitGone = async (pids: () => number[]) => {
    let left = pids();
    for (let t = 0; t < 50 && left.length > 0; t++) {
      await sleep(100);
      left = pids();
    }
    return left;
  };
  /** cgroup dirs podman made for our containers (libpod-<id> below the cgroup parent of each hierarchy). */
  const cgroups = () => {
    const wanted = new Set([...hexIds.values()].map((h) => `libpod-${h}`));
    const found: string[] = [];
    for (const h of readdirSync("/sys/fs/cgroup")) {
      const parent = join("/sys/fs/cgroup", h, pm.cgroupParent);
      try {
        for (const e of readdirSync(parent)) if (wanted.has(e)) found.push(join(parent, e));
      } catch {
        // no such hierarchy dir
      }
    }
    return found;
  };

  return {
    name: "podman",
    chain: "podman 4.3 → conmon → runc",
    version,
    async runDetached(id) {
      const t0 = process.hrtime.bigint();
      const r = await pm.podman(
        [
          "run",
          "--detach",
          "--name",
          id,
          "--network",
          "none",
          "--log-driver",
          "k8s-file",
          "--cgroup-parent",
          pm.cgroupParent,
          "--rootfs",
          `${rootfs}:O`,
          "sleep",
          "3600",
        ],
        { timeoutMs: 60_000 },
      );
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const hex = r.stdout.trim();
      if (/^[0-9a-f]{64}$/.test(hex)) hexIds.set(id, hex);
      return { ms, code: r.timedOut ? null : r.code, signal: r.signal, output: `${r.stdout}${r.stderr}` };
    },
    async running(ids) {
      const wanted = new Set(ids);
      const tasks = new Map<string, number>();
      for (const [name, pid] of await names(false)) {
        if (name !== undefined && wanted.has(name) && Number(pid) > 0) tasks.set(name, Number(pid));
      }
      return tasks;
    },
    side: () => conmons().map((pid) => ({ pid, role: "conmon" as const })),
    daemonMemory: () => undefined,
    async remove(id) {
      const r = await pm.podman(["rm", "--force", "--time", "0", id], { timeoutMs: 60_000 });
      return r.code === 0 || /no such container/i.test(r.stderr)
        ? []
        : [`rm ${id}: exit ${r.code}: ${r.stderr.trim()}`];
    },
    async leftovers(ids, served) {
      const left: string[] = [];
      const wanted = new Set(ids);
      for (const [name] of await names(true))
        if (name !== undefined && wanted.has(name)) left.push(`container ${name}`);
      for (const pid of await waitGone(() => conmons().filter((p) => served.has(p)))) {
        left.push(`conmon pid ${pid}: ${cmdline(pid).join(" ")}`);
      }
      // conmon starts `podman container cleanup` as it exits; give those a moment too.
      for (const pid of await waitGone(ours)) left.push(`process ${pid}: ${cmdline(pid).join(" ").slice(0, 200)}`);
      const hexes = ids.map((id) => hexIds.get(id)).filter((h) => h !== undefined);
      for (const mp of mountsUnder(pm.dir)) if (hexes.some((h) => mp.includes(h))) left.push(`mount ${mp}`);
      for (const cg of cgroups()) left.push(`cgroup ${cg}`);
      const runtimeRoot = join(pm.dir, "runtime-root");
      let state: string[] = [];
      try {
        state = readdirSync(runtimeRoot).filter((e) => hexes.includes(e));
      } catch {
        // no runtime root yet
      }
      for (const e of state) left.push(`runtime state ${join(runtimeRoot, e)}`);
      return left;
    },
    async cleanup() {
      const found: string[] = [];
      try {
        for (const [name] of await names(true)) if (name) found.push(`podman: container ${name} at teardown`);
        for (const pid of conmons()) found.push(`podman: conmon pid ${pid} at teardown`);
      } catch (e) {
        found.push(`podman: listing at teardown failed: ${(e as Error).message}`);
      }
      try {
        await pm.cleanup();
      } catch (e) {
        found.push(`podman: cleanup failed: ${(e as Error).message}`);
      }
      const stray = ours();
      for (const pid of stray)
        found.push(`podman: process ${pid} left after cleanup, killed: ${cmdline(pid).join(" ")}`);
      for (const pid of stray) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      return found;
    },
  };
}
