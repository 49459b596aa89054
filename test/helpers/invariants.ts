// What must hold for a berth-containerd root and state after any fault, read from the outside:
//
// - references: every blob and snapshot the metadata database vouches for is on disk. Images
//   reach their manifests, configs and layers (content rows and blob files) and, through the
//   containerd.io/gc.ref.snapshot.* labels of what they reach, their unpacked snapshots; a
//   namespace's snapshot rows name a backend snapshot that has a row and a directory. A container
//   whose snapshot is gone is only noted: ctr removes the snapshot before the container. The
//   databases are opened read-only (node:sqlite), and the daemon may be running, even collecting:
//   see checkReferences for why its reads are consistent.
// - leftovers: no mounts under the daemon's dirs, no shim processes but live tasks' and the
//   daemon's one spare, no bundles, runtime state, shim sockets, keepers (processes, sockets) or
//   cgroups of tasks that are gone.
//
// Each check returns the problems it found as sentences naming the path, so a failing test says
// what is wrong where; an empty list means the invariant holds.

import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { TASK_BUNDLES } from "../../src/shim/bundle.ts";
import { keeperSocketPath } from "../../src/shim/keeper.ts";
import { NAMESPACE_GROUP, socketPathFor } from "../../src/shim/start.ts";
import { pidsWithArgument } from "./peers.ts";

const CONTENT = "io.containerd.content.v1.content";
const META_DB = "io.containerd.metadata.v1.sqlite/meta.db";
const snapshotterRoot = (root: string, name: string) => join(root, `io.containerd.snapshotter.v1.${name}`);
const blobPath = (root: string, digest: string) => {
  const [alg, hex] = digest.split(":");
  return join(root, CONTENT, "blobs", alg ?? "", hex ?? "");
};

const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);
const MANIFEST_TYPES = new Set([
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
]);

/** What the references check counted, for the test's diagnostics. */
export interface ReferenceCounts {
  images: number;
  contentRows: number;
  blobs: number;
  snapshotRows: number;
  backendSnapshots: number;
  /** Entries under the snapshotters' snapshots/ directories (with or without a row). */
  snapshotDirs: number;
  containers: number;
}

export interface ReferenceReport {
  problems: string[];
  /**
   * What a client's own order of calls can leave, as it does with containerd: `ctr containers rm`
   * removes the snapshot first and the container row after it, so a kill between the two leaves a
   * container whose snapshot is gone (removing the container again finishes the job).
   */
  notes: string[];
  counts: ReferenceCounts;
}

/** `path` opened read-only, in a read transaction: every query sees the same commit. */
function openReadOnly(path: string): DatabaseSync | undefined {
  if (!existsSync(path)) return undefined;
  const db = new DatabaseSync(path, { readOnly: true });
  db.exec("BEGIN");
  return db;
}

function rows<T>(db: DatabaseSync, sql: string): T[] {
  return db.prepare(sql).all() as T[];
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  platform?: { architecture?: string; os?: string };
}

const GO_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" };
const thisPlatform = (d: Descriptor) =>
  !d.platform || (d.platform.os === "linux" && d.platform.architecture === GO_ARCH[process.arch]);

/** The children a manifest or index names (nothing for other blobs); undefined when unreadable. */
function childrenOf(path: string, mediaType: string): Descriptor[] | undefined {
  if (!INDEX_TYPES.has(mediaType) && !MANIFEST_TYPES.has(mediaType)) return [];
  try {
    const doc = JSON.parse(readFileSync(path, "utf8")) as {
      manifests?: Descriptor[];
      config?: Descriptor;
      layers?: Descriptor[];
    };
    if (INDEX_TYPES.has(mediaType)) return (doc.manifests ?? []).filter(thisPlatform);
    return [...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])];
  } catch {
    return undefined;
  }
}

/**
 * Every blob and snapshot the metadata database of `root` references exists: see the file comment.
 * Out of an index only this machine's platform is followed (ctr fetches one platform).
 *
 * The rows and the disk are read one after the other, not at one instant, so a single pass run
 * beside a collection can see a row that was deleted, and its file after it, between the two
 * reads. The daemon keeps a referenced file there for as long as its row is committed (the file
 * is made before the row is committed and deleted after the row's delete is), so the check makes
 * two passes and reports what both found: a row seen in the first pass and again in the second
 * was there all along in between (snapshot ids and backend keys are never reused; a blob would
 * have to be collected and fetched again between the passes), so its file missing at the first
 * pass's look is a real loss, not a row on its way out.
 */
export function checkReferences(root: string): ReferenceReport {
  const first = readReferences(root);
  const second = readReferences(root);
  const both = (a: string[], b: string[]) => b.filter((x) => a.includes(x));
  return {
    problems: both(first.problems, second.problems),
    notes: both(first.notes, second.notes),
    counts: second.counts,
  };
}

/** One pass of checkReferences: the rows as read, each held against the disk right after. */
function readReferences(root: string): ReferenceReport {
  const problems: string[] = [];
  const notes: string[] = [];
  const counts: ReferenceCounts = {
    images: 0,
    contentRows: 0,
    blobs: 0,
    snapshotRows: 0,
    backendSnapshots: 0,
    snapshotDirs: 0,
    containers: 0,
  };
  const metaPath = join(root, META_DB);
  const meta = openReadOnly(metaPath);
  if (!meta) return { problems: [`${metaPath} does not exist`], notes, counts };
  const backends = new Map<
    string,
    { db: DatabaseSync; byName: Map<string, { id: number; parent_id: number | null }> }
  >();
  try {
    const content = new Map<string, Map<string, Record<string, string>>>();
    for (const r of rows<{ ns: string; digest: string; labels: string }>(
      meta,
      "SELECT ns, digest, labels FROM content",
    )) {
      if (!content.has(r.ns)) content.set(r.ns, new Map());
      content.get(r.ns)!.set(r.digest, JSON.parse(r.labels) as Record<string, string>);
      counts.contentRows++;
      if (!existsSync(blobPath(root, r.digest))) {
        problems.push(`content ${r.digest} of namespace ${r.ns}: no blob ${blobPath(root, r.digest)}`);
      }
    }
    const blobDir = join(root, CONTENT, "blobs", "sha256");
    counts.blobs = existsSync(blobDir) ? readdirSync(blobDir).length : 0;

    // Backend snapshotters: each row has its directory and its parent row.
    const backend = (name: string) => {
      let b = backends.get(name);
      if (b) return b;
      const path = join(snapshotterRoot(root, name), "metadata.db");
      const db = openReadOnly(path);
      if (!db) return undefined;
      const byName = new Map<string, { id: number; parent_id: number | null }>();
      const ids = new Set<number>();
      for (const r of rows<{ id: number; name: string; parent_id: number | null }>(
        db,
        "SELECT id, name, parent_id FROM snapshots",
      )) {
        byName.set(r.name, r);
        ids.add(Number(r.id));
      }
      for (const [n, r] of byName) {
        counts.backendSnapshots++;
        const dir = join(snapshotterRoot(root, name), "snapshots", String(r.id));
        if (!existsSync(dir)) problems.push(`${name} snapshot ${JSON.stringify(n)} (${path}): no directory ${dir}`);
        if (r.parent_id !== null && !ids.has(Number(r.parent_id))) {
          problems.push(`${name} snapshot ${JSON.stringify(n)} (${path}): parent id ${r.parent_id} has no row`);
        }
      }
      b = { db, byName };
      backends.set(name, b);
      return b;
    };

    // Namespaced snapshot rows → a backend snapshot; parents within the namespace.
    const snapshots = new Map<string, Set<string>>(); // `${ns}/${snapshotter}` → keys
    const snapRows = rows<{ ns: string; snapshotter: string; key: string; backend_key: string; parent: string }>(
      meta,
      "SELECT ns, snapshotter, key, backend_key, parent FROM snapshots",
    );
    for (const r of snapRows) {
      const k = `${r.ns}/${r.snapshotter}`;
      if (!snapshots.has(k)) snapshots.set(k, new Set());
      snapshots.get(k)!.add(r.key);
    }
    for (const r of snapRows) {
      counts.snapshotRows++;
      const what = `snapshot ${JSON.stringify(r.key)} (${r.snapshotter}, namespace ${r.ns})`;
      const b = backend(r.snapshotter);
      if (!b) problems.push(`${what}: no ${r.snapshotter} snapshotter database`);
      else if (!b.byName.has(r.backend_key)) {
        problems.push(`${what}: backend snapshot ${JSON.stringify(r.backend_key)} has no row in ${r.snapshotter}`);
      }
      if (r.parent !== "" && !snapshots.get(`${r.ns}/${r.snapshotter}`)?.has(r.parent)) {
        problems.push(`${what}: parent ${JSON.stringify(r.parent)} has no row`);
      }
    }
    // Backends nobody references are checked too (their directories must match their rows).
    for (const name of ["overlayfs", "native"]) {
      backend(name);
      const dir = join(snapshotterRoot(root, name), "snapshots");
      counts.snapshotDirs += existsSync(dir) ? readdirSync(dir).length : 0;
    }

    // Images → blobs (rows and files) → snapshots named by their labels.
    const images = rows<{ ns: string; name: string; target: string }>(meta, "SELECT ns, name, target FROM images");
    for (const img of images) {
      counts.images++;
      const seen = new Set<string>();
      const walk = (d: Descriptor, from: string) => {
        if (seen.has(d.digest)) return;
        seen.add(d.digest);
        const labels = content.get(img.ns)?.get(d.digest);
        if (!labels) {
          problems.push(`image ${img.name} (namespace ${img.ns}): ${from} ${d.digest} has no content row`);
          return;
        }
        const path = blobPath(root, d.digest);
        if (!existsSync(path)) return; // reported with the content rows
        for (const [k, v] of Object.entries(labels)) {
          const m = /^containerd\.io\/gc\.ref\.snapshot\.([^/]+)/.exec(k);
          if (m && !snapshots.get(`${img.ns}/${m[1]}`)?.has(v)) {
            problems.push(
              `image ${img.name} (namespace ${img.ns}): ${d.digest} labels ${k}=${v}, a snapshot with no row`,
            );
          }
        }
        const children = childrenOf(path, d.mediaType ?? "");
        if (children === undefined) problems.push(`image ${img.name}: ${path} is not a readable ${d.mediaType}`);
        for (const c of children ?? []) walk(c, "child");
      };
      walk(JSON.parse(img.target) as Descriptor, "target");
    }

    // Containers → their snapshot.
    for (const c of rows<{ ns: string; id: string; record: string }>(meta, "SELECT ns, id, record FROM containers")) {
      counts.containers++;
      const rec = JSON.parse(c.record) as { snapshotter?: string; snapshotKey?: string };
      if (rec.snapshotKey && !snapshots.get(`${c.ns}/${rec.snapshotter}`)?.has(rec.snapshotKey)) {
        notes.push(`container ${c.id} (namespace ${c.ns}): snapshot ${JSON.stringify(rec.snapshotKey)} has no row`);
      }
    }
  } finally {
    meta.close();
    for (const b of backends.values()) b.db.close();
  }
  return { problems, notes, counts };
}

// ---------------------------------------------------------------------------------------------
// Leftovers

/** Mount points at or below `dir`. */
export function mountsUnder(dir: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const mp = (line.split(" ")[4] ?? "").replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(Number.parseInt(o, 8)),
    );
    if (mp === dir || mp.startsWith(`${dir}/`)) found.push(mp);
  }
  return found;
}

export interface ShimProcess {
  pid: number;
  argv: string[];
  spare: boolean;
  socket: string | undefined;
}

/** Every shim process started for the daemon at `address` (its argv names the address). */
export function shimsOf(address: string): ShimProcess[] {
  const out: ShimProcess[] = [];
  for (const pid of pidsWithArgument(address)) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!argv.some((a) => /\/(berth-shim\.mjs|containerd-shim-[\w-]+)$/.test(a))) continue;
      const i = argv.indexOf("-socket");
      out.push({ pid, argv, spare: argv.includes("-spare"), socket: i >= 0 ? argv[i + 1] : undefined });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Cgroup directories ctr's tasks of `ns`/`id` get, in every mounted hierarchy. */
function taskCgroups(ns: string, id: string): string[] {
  const found: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = line.indexOf(" - ");
    const fstype = sep < 0 ? "" : line.slice(sep + 3).split(" ")[0];
    if (fstype !== "cgroup" && fstype !== "cgroup2") continue;
    const dir = join(line.split(" ")[4] ?? "", ns, id);
    if (existsSync(dir)) found.push(dir);
  }
  return found;
}

export interface LeftoverScope {
  /** The daemon's private directory (root, state, socket below it). */
  dir: string;
  state: string;
  address: string;
  namespace: string;
  /** Container ids the test used (and has deleted). */
  ids: Iterable<string>;
  /** Shim sockets seen during the test (spares'), which must be gone with their shims. */
  sockets?: Iterable<string>;
  /** Shims allowed to remain: 1 with a running daemon (its spare), 0 after it stopped. */
  spares: number;
}

/**
 * What is left of tasks that are gone: mounts under the dirs, shims beyond the allowed spares,
 * bundles and runtime state of the namespace, shim sockets, task cgroups. Call it when no task of
 * the namespace should exist.
 */
export function leftovers(s: LeftoverScope): string[] {
  const left: string[] = [];
  for (const mp of mountsUnder(s.dir)) left.push(`mount ${mp}`);
  const shims = shimsOf(s.address);
  const serving = shims.filter((p) => !p.spare || adoptedSpare(s.state, p));
  for (const p of serving) left.push(`shim pid ${p.pid} serving a task: ${p.argv.join(" ")}`);
  const spares = shims.filter((p) => !serving.includes(p));
  if (spares.length > s.spares) {
    left.push(
      `${spares.length} spare shims (at most ${s.spares} expected): ${spares.map((p) => `pid ${p.pid} ${p.socket}`).join(", ")}`,
    );
  }
  for (const sub of ["io.containerd.runtime.v2.task", "runc"]) {
    const dir = join(s.state, sub, s.namespace);
    for (const e of existsSync(dir) ? readdirSync(dir) : []) left.push(`state ${join(dir, e)}`);
  }
  const live = new Set(shims.map((p) => p.socket));
  // The namespace's shim (serve.ts removes its socket when it exits with its last task).
  const nsSocket = socketPathFor(s.address, s.namespace, NAMESPACE_GROUP);
  if (!live.has(nsSocket) && existsSync(nsSocket)) left.push(`socket ${nsSocket} of namespace ${s.namespace}'s shim`);
  for (const id of s.ids) {
    const sock = socketPathFor(s.address, s.namespace, id);
    if (existsSync(sock)) left.push(`shim socket ${sock} of ${id}`);
    const keeper = keeperSocketPath(join(s.state, TASK_BUNDLES, s.namespace, id));
    if (existsSync(keeper)) left.push(`keeper socket ${keeper} of ${id}`);
    for (const cg of taskCgroups(s.namespace, id)) left.push(`cgroup ${cg}`);
  }
  for (const k of keepersUnder(join(s.state, TASK_BUNDLES, s.namespace))) left.push(`keeper ${k}`);
  for (const sock of s.sockets ?? []) {
    if (!live.has(sock) && existsSync(sock)) left.push(`socket ${sock} of a shim that is gone`);
  }
  return left;
}

/** The berth-keepers keeping a bundle below `dir` (their fd 3), bundle removed or not: "pid (bundle)". */
export function keepersUnder(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "berth-keeper") continue;
      const bundle = readlinkSync(`/proc/${pid}/fd/3`).replace(/ \(deleted\)$/, "");
      if (bundle.startsWith(`${dir}/`)) found.push(`pid ${pid} (${bundle})`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** A spare that took a task: some bundle's `address` file names its socket. */
function adoptedSpare(state: string, p: ShimProcess): boolean {
  const tasks = join(state, "io.containerd.runtime.v2.task");
  for (const ns of existsSync(tasks) ? readdirSync(tasks) : []) {
    for (const id of readdirSync(join(tasks, ns))) {
      try {
        if (readFileSync(join(tasks, ns, id, "address"), "utf8").replace(/^unix:\/\//, "") === p.socket) return true;
      } catch {
        // no address file (yet)
      }
    }
  }
  return false;
}
