// Garbage collection, containerd's way: a mark phase over the reference graph that the labels
// describe, then a sweep of what nothing reaches. The mark is a pure function of the database's
// rows, so its policy is tested without a disk.
//
// Roots: images, containers, unexpired leases, in-progress ingests, and anything labelled
// containerd.io/gc.root. Edges: labels containerd.io/gc.ref.content[.*] → a blob,
// containerd.io/gc.ref.snapshot.<snapshotter>[.*] → a snapshot of the same namespace, a snapshot →
// its parent, a lease → its resources (only those, without following edges, if the lease is
// labelled containerd.io/gc.flat), a container → its snapshot, an ingest → its expected blob.
// Expired leases are themselves swept. An ingest lives while a live lease holds it or, held by no
// lease, for a day after its last write (containerd's expiry for unleased ingests).
import type { Labels } from "./validate.ts";

/** The rows the mark reads (MetadataDB.gcSnapshot), and the ingests the content store knows. */
export interface GcGraphInput {
  namespaces: string[];
  images: { ns: string; target: string; labels: Labels }[];
  containers: { ns: string; labels: Labels; snapshotter: string; snapshotKey: string }[];
  leases: { ns: string; id: string; labels: Labels }[];
  leaseResources: { ns: string; lease: string; type: string; id: string }[];
  content: { ns: string; digest: string; labels: Labels }[];
  snapshots: { ns: string; snapshotter: string; key: string; parent: string; labels: Labels }[];
  /** Ingests in progress, by namespace-local ref; the content store knows them, not the database. */
  ingests: { ns: string; ref: string; expected: string; updatedAt: Date }[];
}

const ROOT = "containerd.io/gc.root";
const EXPIRE = "containerd.io/gc.expire";
const FLAT = "containerd.io/gc.flat";
const REF_CONTENT = "containerd.io/gc.ref.content";
const REF_SNAPSHOT = "containerd.io/gc.ref.snapshot.";
/** How long an ingest no lease holds survives without a write. */
export const UNLEASED_INGEST_TTL_MS = 24 * 60 * 60 * 1000;

export type GcNode = `content\u0000${string}\u0000${string}` | `snapshot\u0000${string}\u0000${string}\u0000${string}`;

export const contentNode = (ns: string, digest: string): GcNode => `content\u0000${ns}\u0000${digest}`;
export const snapshotNode = (ns: string, snapshotter: string, key: string): GcNode =>
  `snapshot\u0000${ns}\u0000${snapshotter}\u0000${key}`;

/** The nodes a label set points at. */
export function labelRefs(ns: string, labels: Labels): GcNode[] {
  const out: GcNode[] = [];
  for (const [k, v] of Object.entries(labels)) {
    if (k === REF_CONTENT || k.startsWith(`${REF_CONTENT}.`)) out.push(contentNode(ns, v));
    else if (k.startsWith(REF_SNAPSHOT)) {
      // "containerd.io/gc.ref.snapshot.<snapshotter>[/<anything>]"
      const snapshotter = k.slice(REF_SNAPSHOT.length).split("/")[0]!;
      if (snapshotter) out.push(snapshotNode(ns, snapshotter, v));
    }
  }
  return out;
}

export interface MarkResult {
  live: Set<GcNode>;
  deadContent: { ns: string; digest: string }[];
  deadSnapshots: { ns: string; snapshotter: string; key: string }[];
  deadLeases: { ns: string; id: string }[];
  deadIngests: { ns: string; ref: string }[];
}

/** containerd reads gc.expire as RFC 3339; an unreadable value leaves the lease alive, as there. */
function expired(labels: Labels, now: Date): boolean {
  const v = labels[EXPIRE];
  if (v === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v)) return false;
  const at = Date.parse(v);
  return !Number.isNaN(at) && at < now.getTime();
}

/** Marks everything reachable from the roots; returns the rows to sweep. */
export function markLive(g: GcGraphInput, now: Date = new Date()): MarkResult {
  const edges = new Map<GcNode, GcNode[]>();
  const add = (from: GcNode, to: GcNode[]) => {
    const list = edges.get(from);
    if (list) list.push(...to);
    else edges.set(from, [...to]);
  };
  for (const c of g.content) add(contentNode(c.ns, c.digest), labelRefs(c.ns, c.labels));
  for (const s of g.snapshots) {
    const refs = labelRefs(s.ns, s.labels);
    if (s.parent) refs.push(snapshotNode(s.ns, s.snapshotter, s.parent));
    add(snapshotNode(s.ns, s.snapshotter, s.key), refs);
  }

  const roots: GcNode[] = [];
  for (const i of g.images) roots.push(contentNode(i.ns, i.target), ...labelRefs(i.ns, i.labels));
  for (const c of g.containers) {
    roots.push(...labelRefs(c.ns, c.labels));
    if (c.snapshotter && c.snapshotKey) roots.push(snapshotNode(c.ns, c.snapshotter, c.snapshotKey));
  }
  const flatLeases = new Set<string>();
  const liveLeases = new Set<string>();
  const deadLeases: MarkResult["deadLeases"] = [];
  for (const l of g.leases) {
    if (expired(l.labels, now)) {
      deadLeases.push({ ns: l.ns, id: l.id });
      continue;
    }
    liveLeases.add(`${l.ns}\u0000${l.id}`);
    if (l.labels[FLAT] !== undefined) flatLeases.add(`${l.ns}\u0000${l.id}`);
  }
  const flatRoots = new Set<GcNode>();
  const leasedIngests = new Set<string>();
  const liveIngests = new Set<string>();
  for (const r of g.leaseResources) {
    const lease = `${r.ns}\u0000${r.lease}`;
    if (r.type === "ingests") {
      leasedIngests.add(`${r.ns}\u0000${r.id}`);
      if (liveLeases.has(lease)) liveIngests.add(`${r.ns}\u0000${r.id}`);
      continue;
    }
    if (!liveLeases.has(lease)) continue;
    let node: GcNode | undefined;
    if (r.type === "content") node = contentNode(r.ns, r.id);
    else if (r.type.startsWith("snapshots/")) node = snapshotNode(r.ns, r.type.slice(10), r.id);
    if (!node) continue;
    if (flatLeases.has(lease)) flatRoots.add(node);
    else roots.push(node);
  }
  for (const c of g.content) if (c.labels[ROOT] !== undefined) roots.push(contentNode(c.ns, c.digest));
  for (const s of g.snapshots) if (s.labels[ROOT] !== undefined) roots.push(snapshotNode(s.ns, s.snapshotter, s.key));
  const deadIngests: MarkResult["deadIngests"] = [];
  for (const i of g.ingests) {
    const id = `${i.ns}\u0000${i.ref}`;
    const live = leasedIngests.has(id)
      ? liveIngests.has(id)
      : now.getTime() - i.updatedAt.getTime() < UNLEASED_INGEST_TTL_MS;
    if (!live) deadIngests.push({ ns: i.ns, ref: i.ref });
    else if (i.expected) roots.push(contentNode(i.ns, i.expected));
  }

  const live = new Set<GcNode>(flatRoots);
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (live.has(n) && !flatRoots.has(n)) continue;
    live.add(n);
    flatRoots.delete(n);
    for (const m of edges.get(n) ?? []) if (!live.has(m)) stack.push(m);
  }
  return {
    live,
    deadContent: g.content
      .filter((c) => !live.has(contentNode(c.ns, c.digest)))
      .map(({ ns, digest }) => ({ ns, digest })),
    deadSnapshots: g.snapshots
      .filter((s) => !live.has(snapshotNode(s.ns, s.snapshotter, s.key)))
      .map(({ ns, snapshotter, key }) => ({ ns, snapshotter, key })),
    deadLeases,
    deadIngests,
  };
}
