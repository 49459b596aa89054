// The pieces of the randomised kill -9 tests (test/faults/kill9-*.test.ts): a seeded random
// source, the iteration count, an image with several layers (so a pull, an import or a collection
// takes long enough to be interrupted in the middle), and "run this ctr command and SIGKILL the
// daemon after D ms", then the restart on the same dirs.
//
// BERTH_FAULT_SEED replays a run (each test prints its seed); BERTH_FAULT_ITERATIONS raises the
// iteration count of every randomised test.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, rmdirSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { makeTempDir } from "../fixtures/busybox.ts";
import { gzipLayer } from "../fixtures/layer-tar.ts";
import { MEDIA_TYPES, tarDirectory, writeImageArchive, writeOciLayout } from "../fixtures/oci-image.ts";
import { type BerthContainerd, CTR, type CtrResult, outputOf, startBerthContainerd } from "./berth-containerd.ts";
import { checkReferences, leftovers, type ReferenceCounts, shimsOf } from "./invariants.ts";

/** The seed of this run: BERTH_FAULT_SEED, else a fresh one (print it to replay the run). */
export function faultSeed(): number {
  const env = process.env.BERTH_FAULT_SEED;
  if (env !== undefined && /^\d+$/.test(env)) return Number(env) >>> 0;
  return randomBytes(4).readUInt32LE(0);
}

/** Iterations of a randomised fault: BERTH_FAULT_ITERATIONS when set, else the test's default. */
export function faultIterations(fallback: number): number {
  const n = Number(process.env.BERTH_FAULT_ITERATIONS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** A randomised test's seed, random source and iteration count, printed so the run can be replayed. */
export function faultRun(
  t: TestContext,
  fallbackIterations: number,
): { seed: number; random: () => number; n: number } {
  const seed = faultSeed();
  const random = seededRandom(seed);
  const n = faultIterations(fallbackIterations);
  t.diagnostic(`seed ${seed} (BERTH_FAULT_SEED=${seed} replays it), ${n} iterations`);
  return { seed, random, n };
}

/** mulberry32: a small, fast, seedable generator; returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sha256 = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export interface LayeredImage {
  name: string;
  manifestDigest: string;
  configDigest: string;
  /** Bottom first: the busybox layer, then the extra ones. */
  layerDigests: string[];
}

/**
 * The busybox image (test/fixtures/oci-image.ts) with `extraLayers` more layers on top, each one
 * file of `layerBytes` random (incompressible) bytes, written as an OCI layout into `layout`.
 */
export async function writeLayeredLayout(
  layout: string,
  opts: { name: string; extraLayers: number; layerBytes: number },
): Promise<LayeredImage> {
  const base = await writeOciLayout(layout, { name: opts.name, cmd: ["sh"] });
  const blob = (d: string) => join(layout, "blobs/sha256", d.slice("sha256:".length));
  const put = async (data: Uint8Array) => {
    const digest = sha256(data);
    await writeFile(blob(digest), data);
    return { digest, size: data.length };
  };
  const manifest = JSON.parse(await readFile(blob(base.manifestDigest), "utf8")) as {
    config: { digest: string; size: number; mediaType: string };
    layers: { mediaType: string; digest: string; size: number }[];
  };
  const config = JSON.parse(await readFile(blob(base.configDigest), "utf8")) as {
    rootfs: { diff_ids: string[] };
    history: { created: string; created_by: string }[];
  };
  for (let i = 0; i < opts.extraLayers; i++) {
    const l = await gzipLayer([{ name: `fault-layer-${i}.bin`, body: randomBytes(opts.layerBytes) }]);
    const b = await put(l.blob);
    manifest.layers.push({ mediaType: MEDIA_TYPES.layerGzip, ...b });
    config.rootfs.diff_ids.push(l.diffId);
    config.history.push({ created: "1970-01-01T00:00:00Z", created_by: `fault layer ${i}` });
  }
  const cfg = await put(Buffer.from(JSON.stringify(config)));
  manifest.config = { ...manifest.config, ...cfg };
  const man = await put(Buffer.from(JSON.stringify(manifest)));
  for (const old of [base.manifestDigest, base.configDigest]) await rm(blob(old));
  const index = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
    manifests: { digest: string; size: number }[];
  };
  index.manifests[0] = { ...index.manifests[0]!, digest: man.digest, size: man.size };
  await writeFile(join(layout, "index.json"), JSON.stringify(index));
  const docker = JSON.parse(await readFile(join(layout, "manifest.json"), "utf8")) as {
    Config: string;
    Layers: string[];
  }[];
  docker[0]!.Config = `blobs/sha256/${cfg.digest.slice(7)}`;
  docker[0]!.Layers = manifest.layers.map((l) => `blobs/sha256/${l.digest.slice(7)}`);
  await writeFile(join(layout, "manifest.json"), JSON.stringify(docker));
  return {
    name: opts.name,
    manifestDigest: man.digest,
    configDigest: cfg.digest,
    layerDigests: manifest.layers.map((l) => l.digest),
  };
}

/** writeLayeredLayout packed as one tar for `ctr images import` (and skopeo's oci-archive:). */
export async function writeLayeredArchive(
  out: string,
  opts: { name: string; extraLayers: number; layerBytes: number },
): Promise<LayeredImage> {
  const tmp = await makeTempDir("berth-layered-");
  try {
    const info = await writeLayeredLayout(tmp, opts);
    await tarDirectory(tmp, out);
    return info;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export interface KillOutcome {
  /** What ctr printed and its exit status (it fails when the daemon dies under it). */
  ctr: CtrResult;
  /** The daemon was killed while ctr was still running (else after ctr had finished). */
  during: boolean;
  /** ctr's wall time, ms. */
  ms: number;
  /** ctr was still waiting for the dead daemon CTR_GRACE_MS after the kill, and was killed too. */
  stuck: boolean;
}

/** How long ctr may go on after the daemon's death before it is killed as well. */
const CTR_GRACE_MS = 8_000;

/**
 * Runs `ctr ARGS` against `d` (or several ctr commands one after the other, each whatever the one
 * before gave) and SIGKILLs the daemon `delayMs` after starting, whether ctr is still running (a
 * fault in the middle) or has finished (a fault in what the daemon does after its answer: a
 * scheduled collection, a shim's clean-up). Then waits for ctr to give up.
 */
export async function ctrAndKill(
  d: BerthContainerd,
  args: string[] | string[][],
  delayMs: number,
  opts: { namespace: string },
): Promise<KillOutcome> {
  const t0 = Date.now();
  const commands = (Array.isArray(args[0]) ? args : [args]) as string[][];
  // ctr dials with no timeout by default: killed before it had connected, it would wait for the
  // daemon to come back, and the daemon comes back only once ctr has given up.
  const argv = (a: string[]) => [
    CTR,
    "--address",
    d.address,
    "--connect-timeout",
    "3s",
    "--namespace",
    opts.namespace,
    ...a,
  ];
  const quote = (x: string) => `'${x.replaceAll("'", "'\\''")}'`;
  // Its own process group, so that a ctr still waiting for the dead daemon can be stopped whole.
  const child =
    commands.length === 1
      ? spawn(CTR, argv(commands[0]!).slice(1), { stdio: ["ignore", "pipe", "pipe"], detached: true })
      : spawn("sh", ["-c", commands.map((c) => argv(c).map(quote).join(" ")).join("; ")], {
          stdio: ["ignore", "pipe", "pipe"],
          detached: true,
        });
  let ms = Number.NaN;
  const done = outputOf(child).then((r) => {
    ms = Date.now() - t0;
    return r;
  });
  await new Promise((r) => setTimeout(r, delayMs));
  const during = child.exitCode === null && child.signalCode === null;
  await d.kill9();
  // ctr gives up on a dead daemon within its connect timeout, except when a call was already
  // waiting for the connection to be ready again: then it would wait for the restart, which waits
  // for ctr. Such a ctr is stopped after a grace period (the client died too, then).
  let stuck = false;
  const grace = setTimeout(() => {
    stuck = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }, CTR_GRACE_MS);
  const ctr = await done;
  clearTimeout(grace);
  return { ctr, during, ms, stuck };
}

/** Where the kill fell, for messages: during the command or after it, and whether ctr hung. */
export function killPoint(k: KillOutcome): string {
  const where = k.during ? "during it" : "after it ended";
  return k.stuck ? `${where}; ctr still waited for the dead daemon ${CTR_GRACE_MS} ms later and was killed` : where;
}

/** Times `ctr ARGS` without a fault (to size the window the kills are spread over). */
export async function timedCtr(
  d: BerthContainerd,
  args: string[],
  namespace: string,
): Promise<{ r: CtrResult; ms: number }> {
  const t0 = Date.now();
  const r = await d.ctrAsync(args, { namespace });
  return { r, ms: Date.now() - t0 };
}

/** Starts the daemon again on the same dirs; a refusal fails the test with the daemon's log tail. */
export async function restart(d: BerthContainerd, what: string): Promise<number> {
  const t0 = Date.now();
  try {
    await d.start();
  } catch (e) {
    const tail = (await d.log()).split("\n").slice(-40).join("\n");
    throw new Error(`${what}: berth-containerd did not start again: ${(e as Error).message.slice(0, 2000)}\n${tail}`);
  }
  return Date.now() - t0;
}

/**
 * checkReferences(d.root), failing the test with every problem found; its notes (states a client's
 * own order of calls leaves) go to `note`, e.g. the test's diagnostics.
 */
export function assertReferences(
  d: BerthContainerd,
  what: string,
  note: (line: string) => void = () => {},
): ReferenceCounts {
  const { problems, notes, counts } = checkReferences(d.root);
  assert.deepEqual(problems, [], `${what}: the metadata references what is not on disk`);
  for (const n of notes) note(`${what}: ${n}`);
  return counts;
}

/**
 * The end of a randomised test: the daemon stops (SIGTERM), and within 3 s no shim, mount, bundle,
 * runtime state, shim socket or task cgroup of `ids` is left; `sockets`: spare sockets seen.
 */
export async function assertCleanAfterStop(
  d: BerthContainerd,
  scope: { namespace: string; ids: Iterable<string>; sockets?: Iterable<string> },
): Promise<void> {
  await d.stop();
  const s = { ...scope, dir: d.dir, state: d.state, address: d.address, spares: 0 };
  let left = leftovers(s);
  for (let i = 0; i < 30 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftovers(s);
  }
  assert.deepEqual(left, [], "left behind after the daemon stopped");
}

/** Spare-shim sockets of the daemon right now (collect them to check they go with their shims). */
export function spareSockets(d: BerthContainerd): string[] {
  return shimsOf(d.address)
    .filter((p) => p.spare && p.socket !== undefined)
    .map((p) => p.socket!);
}

/**
 * Deletes container `id` in whatever state a fault left it (task running, stopped or gone;
 * container or not): `task delete --force`, `containers rm`, then `snapshots rm` of ctr's snapshot
 * key (the id): a run killed between preparing the snapshot and creating the container leaves the
 * snapshot held by ctr's own lease (24 h, as with containerd), and a user removes it by hand.
 * Answers that say it is not there are fine; anything else fails the test.
 */
export async function removeContainer(d: BerthContainerd, id: string, namespace: string, what: string): Promise<void> {
  const gone = (r: CtrResult) => r.status === 0 || /not found/i.test(r.stderr);
  const task = await d.ctrAsync(["task", "delete", "--force", id], { namespace });
  assert.ok(gone(task), `${what}: ctr task delete --force ${id}: ${task.stderr}`);
  const c = await d.ctrAsync(["containers", "rm", id], { namespace });
  assert.ok(gone(c), `${what}: ctr containers rm ${id}: ${c.stderr}`);
  const snap = await d.ctrAsync(["snapshots", "rm", id], { namespace });
  assert.ok(gone(snap), `${what}: ctr snapshots rm ${id}: ${snap.stderr}`);
  const tasks = (await d.ctrAsync(["task", "ls", "-q"], { namespace })).stdout.split("\n");
  const containers = (await d.ctrAsync(["containers", "ls", "-q"], { namespace })).stdout.split("\n");
  assert.ok(!tasks.includes(id) && !containers.includes(id), `${what}: ${id} is still listed after its removal`);
}

/**
 * leftovers() of the running daemon for `ids`, allowing its one spare shim; retried for up to 3 s
 * (a shim or mount of `ids` may still be on its way out; a killed daemon's spare exits at once,
 * when the pipe it holds from its daemon reaches EOF).
 */
export async function assertNoLeftovers(
  d: BerthContainerd,
  scope: { namespace: string; ids: Iterable<string>; sockets?: Iterable<string> },
  what: string,
): Promise<void> {
  const s = { ...scope, dir: d.dir, state: d.state, address: d.address, spares: 1 };
  let left = leftovers(s);
  for (let i = 0; i < 30 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftovers(s);
  }
  assert.deepEqual(left, [], `${what}: left behind`);
}

/**
 * Removes the cgroup directory runc-style runtimes made for namespace `ns` (the parent of its
 * tasks' /<ns>/<id>) in every hierarchy, when empty: one still in use (another test's tasks) stays.
 */
export function removeNamespaceCgroups(ns: string): void {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = line.indexOf(" - ");
    const fstype = sep < 0 ? "" : line.slice(sep + 3).split(" ")[0];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    try {
      rmdirSync(join(line.split(" ")[4] ?? "", ns));
    } catch {
      // absent, or not empty
    }
  }
}

/**
 * Deletes every lease of `namespace` and collects (`leases rm --sync`). ctr takes a lease for each
 * pull, import or run and deletes it at the end; when the daemon dies first, the lease stays (its
 * 24 h expiry, as with containerd) and keeps what it holds, so a later pull finds its blobs and
 * has nothing left to interrupt. A user removes such leases by hand; so does each iteration.
 */
export async function removeLeases(d: BerthContainerd, namespace: string, what: string): Promise<number> {
  const ids = (await d.ctrAsync(["leases", "ls", "-q"], { namespace })).stdout.split("\n").filter(Boolean);
  for (const id of ids) {
    const r = await d.ctrAsync(["leases", "rm", "--sync", id], { namespace });
    assert.ok(r.status === 0 || /not found/.test(r.stderr), `${what}: ctr leases rm ${id}: ${r.stderr}`);
  }
  return ids.length;
}

/**
 * A daemon for the container fault tests: the busybox image `image` as an archive in its dir
 * (imported into `namespace` unless `importInto` is undefined) and a private dir for ctr's stdio
 * fifos (ctr leaves them when the daemon dies under it).
 */
export async function startForContainers(opts: {
  image: string;
  importInto?: string;
}): Promise<{ d: BerthContainerd & { cleanup(): Promise<void> }; archive: string; fifos: string }> {
  const d = await startBerthContainerd();
  const archive = join(d.dir, "busybox.tar");
  const fifos = join(d.dir, "fifo");
  try {
    await writeImageArchive(archive, { name: opts.image });
    if (opts.importInto !== undefined) {
      const r = await d.ctrAsync(["images", "import", archive], { namespace: opts.importInto });
      assert.equal(r.status, 0, r.stderr);
    }
    await mkdir(fifos);
  } catch (e) {
    await d.cleanup();
    throw e;
  }
  return { d, archive, fifos };
}

/**
 * The loop of the kill -9 tests of a command that brings image `ref` in (a pull, an import): two
 * undisturbed runs size the window (the faster, +10 % and 50 ms); then each iteration runs
 * `command`, kills the daemon at a random point of the window, restarts it, checks the metadata
 * references only what is on disk, runs the command again (a complete image with its five-layer
 * chain unpacked), and removes the image and every lease, after which nothing of it may remain.
 * At the end the daemon stops and nothing of it is left. `words` name the command in messages.
 */
export async function imageKillLoop(
  t: TestContext,
  d: BerthContainerd,
  opts: {
    namespace: string;
    ref: string;
    command: string[];
    iterations: number;
    words: { noun: string; doing: string; done: string };
  },
): Promise<void> {
  const { namespace: NS, ref, command, words } = opts;
  const { random, n } = faultRun(t, opts.iterations);
  let leasesLeft = 0;
  /** Removes the image and any lease a killed command left; then nothing of it may remain. */
  const removeImage = async (what: string) => {
    const r = await d.ctrAsync(["images", "rm", "--sync", ref], { namespace: NS });
    assert.ok(r.status === 0 || /not found/.test(r.stderr), `${what}: ctr images rm: ${r.stderr}`);
    leasesLeft += await removeLeases(d, NS, what);
    const c = assertReferences(d, `${what}, then removed`);
    assert.deepEqual(
      { blobs: c.blobs, snapshotRows: c.snapshotRows, snapshotDirs: c.snapshotDirs },
      { blobs: 0, snapshotRows: 0, snapshotDirs: 0 },
      `${what}: left on disk once the image and every lease are gone`,
    );
  };

  // The window the kills are spread over: an undisturbed run and its unpack (the faster of two:
  // the first also warms a registry), plus a margin for what follows the answer.
  const times: number[] = [];
  for (let i = 0; i < 2; i++) {
    const base = await timedCtr(d, command, NS);
    assert.equal(base.r.status, 0, base.r.stderr);
    times.push(base.ms);
    await removeImage("calibration");
  }
  const windowMs = Math.round(Math.min(...times) * 1.1) + 50;
  t.diagnostic(`undisturbed ${words.noun}s took ${times.join(", ")} ms; kills fall in 0-${windowMs} ms`);

  const sockets = new Set<string>(spareSockets(d));
  let during = 0;
  for (let i = 0; i < n; i++) {
    const it0 = Date.now();
    const delay = Math.floor(random() * windowMs);
    const k = await ctrAndKill(d, command, delay, { namespace: NS });
    if (k.during) during++;
    const what = `iteration ${i}: kill -9 ${delay} ms into the ${words.noun} (${killPoint(k)})`;
    const restartMs = await restart(d, what);
    for (const s of spareSockets(d)) sockets.add(s);
    assertReferences(d, what);

    const again = await d.ctrAsync(command, { namespace: NS });
    assert.equal(again.status, 0, `${what}: ${words.doing} again: ${again.stderr}`);
    const check = await d.ctrAsync(["images", "check"], { namespace: NS });
    assert.match(check.stdout, /complete \((\d+)\/\1\)/, `${what}: images check: ${check.stdout}${check.stderr}`);
    assert.doesNotMatch(check.stdout, /incomplete|missing/, `${what}: images check: ${check.stdout}`);
    const counts = assertReferences(d, `${what}, then ${words.done} again`);
    // The unpacked chain: one committed snapshot per layer.
    assert.ok(counts.snapshotRows >= 5, `${what}: ${counts.snapshotRows} snapshot rows after the ${words.noun}, not 5`);
    await removeImage(what);
    t.diagnostic(`${what}: restarted in ${restartMs} ms; the iteration took ${Date.now() - it0} ms`);
  }
  t.diagnostic(
    `${n} iterations: ${during} kills during the ${words.noun}, ${n - during} after it ended; ${leasesLeft} leases left by ctr removed`,
  );
  await assertCleanAfterStop(d, { namespace: NS, ids: [], sockets });
}
