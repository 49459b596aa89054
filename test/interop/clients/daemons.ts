// The daemons the real-client tests (test/interop/clients-*.test.ts) drive: berthd (dist/, its own
// berth-containerd, private dirs) and, as the oracle, Debian's dockerd 20.10 (private roots,
// --bridge none), each given the busybox fixture as busybox:latest, so no client ever pulls from
// a registry: nothing leaves the machine. A client test runs its scenario against both and must
// see the same; where it cannot, the difference is named where it is asserted.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before } from "node:test";
import { writeImageArchive } from "../../fixtures/oci-image.ts";
import { type Berthd, httpOn, newBerthd } from "../../helpers/berthd.ts";
import { type Dockerd, startDockerd } from "../../helpers/peers.ts";

export const IMAGE = "busybox:latest";
const RUNTIME = join(import.meta.dirname, "..", "..", "..", "dist", "berth-runc.mjs");

/** Why these tests cannot run here, or undefined. */
export const skipReason =
  process.getuid?.() !== 0
    ? "berthd runs as root"
    : [join(import.meta.dirname, "..", "..", "..", "dist", "berthd.mjs"), RUNTIME]
        .find((b) => !existsSync(b))
        ?.concat(" not found (npm run build)");

/** Why the dockerd oracle cannot run here, or undefined. */
export const dockerdSkipReason = ["/usr/sbin/dockerd", "/usr/bin/containerd", "/usr/sbin/runc"]
  .find((b) => !existsSync(b))
  ?.concat(" not found (scripts/setup.sh installs it)");

/** One daemon a client is pointed at: its socket and how to stop it and remove what it left. */
export interface Target {
  name: "berthd" | "dockerd";
  socket: string;
  /** A private dir of the daemon's, for a client's own files (home, config). */
  dir: string;
  cleanup(): Promise<void>;
}

export async function berthdWithBusybox(): Promise<Target & { berthd: Berthd }> {
  const d = await newBerthd();
  try {
    await d.start();
    const archive = join(d.dir, "busybox.tar");
    await writeImageArchive(archive, { name: `docker.io/library/${IMAGE}` });
    const sock = join(d.execRoot, "containerd", "containerd.sock");
    const r = spawnSync("ctr", ["--address", sock, "-n", "berth", "images", "import", archive], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  } catch (e) {
    await d.cleanup();
    throw e;
  }
  return { name: "berthd", socket: d.socket, dir: d.dir, berthd: d, cleanup: () => d.cleanup() };
}

export async function dockerdWithBusybox(): Promise<Target & { dockerd: Dockerd }> {
  const d = await startDockerd(RUNTIME);
  try {
    const archive = join(d.dir, "busybox.tar");
    await writeImageArchive(archive, { name: `docker.io/library/${IMAGE}` });
    const r = await d.docker(["load", "-i", archive]);
    assert.equal(r.code, 0, r.stderr);
  } catch (e) {
    await d.stop();
    throw e;
  }
  return { name: "dockerd", socket: join(d.dir, "docker.sock"), dir: d.dir, dockerd: d, cleanup: () => d.stop() };
}

/**
 * Inside a describe: berthd, and dockerd where the machine has it, started before its tests and
 * cleaned up after them.
 */
export function bothDaemons(): { berthd(): Target; dockerd(): Target | undefined } {
  let berthd: Target | undefined;
  let dockerd: Target | undefined;
  before(async () => {
    berthd = await berthdWithBusybox();
    if (!dockerdSkipReason) dockerd = await dockerdWithBusybox();
  });
  after(async () => {
    await berthd?.cleanup();
    await dockerd?.cleanup();
  });
  return { berthd: () => berthd!, dockerd: () => dockerd };
}

/** The daemon's containers, stopped ones included (a scenario must leave none). */
export async function containersLeft(target: Target): Promise<unknown[]> {
  const r = await httpOn(target.socket, "GET", "/containers/json?all=1");
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body) as unknown[];
}
