import assert from "node:assert/strict";
import { test } from "node:test";
import { type GcGraphInput, labelRefs, markLive } from "./gc.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const empty = (): GcGraphInput => ({
  namespaces: ["ns"],
  images: [],
  containers: [],
  leases: [],
  leaseResources: [],
  content: [],
  snapshots: [],
  ingests: [],
});

/** Two images sharing a layer: manifest → config + layers, config → top snapshot → parent. */
function twoImages(): GcGraphInput {
  const g = empty();
  const manifest = (m: string, cfg: string, layers: string[]) => ({
    ns: "ns",
    digest: d(m),
    labels: Object.fromEntries([
      ["containerd.io/gc.ref.content.config", d(cfg)],
      ...layers.map((l, i) => [`containerd.io/gc.ref.content.l.${i}`, d(l)]),
    ]),
  });
  g.content.push(
    manifest("1", "2", ["a", "b"]),
    { ns: "ns", digest: d("2"), labels: { "containerd.io/gc.ref.snapshot.overlayfs": "top1" } },
    manifest("3", "4", ["a", "c"]),
    { ns: "ns", digest: d("4"), labels: { "containerd.io/gc.ref.snapshot.overlayfs": "top2" } },
    { ns: "ns", digest: d("a"), labels: {} },
    { ns: "ns", digest: d("b"), labels: {} },
    { ns: "ns", digest: d("c"), labels: {} },
  );
  g.snapshots.push(
    { ns: "ns", snapshotter: "overlayfs", key: "base", parent: "", labels: {} },
    { ns: "ns", snapshotter: "overlayfs", key: "top1", parent: "base", labels: {} },
    { ns: "ns", snapshotter: "overlayfs", key: "top2", parent: "base", labels: {} },
  );
  g.images.push({ ns: "ns", target: d("1"), labels: {} }, { ns: "ns", target: d("3"), labels: {} });
  return g;
}

test("labelRefs reads content and snapshot references", () => {
  assert.deepEqual(
    labelRefs("ns", {
      "containerd.io/gc.ref.content.l.0": "x",
      "containerd.io/gc.ref.snapshot.native/1": "k",
      other: "y",
    }),
    ["content\u0000ns\u0000x", "snapshot\u0000ns\u0000native\u0000k"],
  );
});

test("everything two images reach is live", () => {
  const m = markLive(twoImages());
  assert.deepEqual(m.deadContent, []);
  assert.deepEqual(m.deadSnapshots, []);
});

test("deleting one image frees only what the other does not share", () => {
  const g = twoImages();
  g.images = g.images.filter((i) => i.target !== d("1"));
  const m = markLive(g);
  assert.deepEqual(m.deadContent.map((c) => c.digest).sort(), [d("1"), d("2"), d("b")].sort());
  assert.deepEqual(
    m.deadSnapshots.map((s) => s.key),
    ["top1"],
  );
});

test("a live lease protects its resources; an expired one does not", () => {
  const g = empty();
  g.content.push({ ns: "ns", digest: d("a"), labels: {} }, { ns: "ns", digest: d("b"), labels: {} });
  g.leases.push(
    { ns: "ns", id: "live", labels: { "containerd.io/gc.expire": new Date(Date.now() + 60_000).toISOString() } },
    { ns: "ns", id: "old", labels: { "containerd.io/gc.expire": new Date(Date.now() - 60_000).toISOString() } },
  );
  g.leaseResources.push(
    { ns: "ns", lease: "live", type: "content", id: d("a") },
    { ns: "ns", lease: "old", type: "content", id: d("b") },
  );
  assert.deepEqual(
    markLive(g).deadContent.map((c) => c.digest),
    [d("b")],
  );
});

test("gc.root labels and containers are roots; namespaces do not see each other", () => {
  const g = empty();
  g.content.push(
    { ns: "a", digest: d("1"), labels: { "containerd.io/gc.root": "" } },
    { ns: "b", digest: d("1"), labels: {} },
  );
  g.snapshots.push(
    { ns: "a", snapshotter: "overlayfs", key: "rw", parent: "ro", labels: {} },
    { ns: "a", snapshotter: "overlayfs", key: "ro", parent: "", labels: {} },
  );
  g.containers.push({ ns: "a", labels: {}, snapshotter: "overlayfs", snapshotKey: "rw" });
  const m = markLive(g);
  assert.deepEqual(m.deadContent, [{ ns: "b", digest: d("1") }]);
  assert.deepEqual(m.deadSnapshots, []);
});

test("expired leases are swept; an unreadable expiry keeps the lease, as containerd does", () => {
  const g = empty();
  g.leases.push(
    { ns: "ns", id: "old", labels: { "containerd.io/gc.expire": "2000-01-01T00:00:00Z" } },
    { ns: "ns", id: "odd", labels: { "containerd.io/gc.expire": "yesterday" } },
    { ns: "ns", id: "forever", labels: {} },
  );
  assert.deepEqual(markLive(g).deadLeases, [{ ns: "ns", id: "old" }]);
});

test("a flat lease keeps only its direct resources, not what they reference", () => {
  const g = empty();
  g.content.push(
    { ns: "ns", digest: d("1"), labels: { "containerd.io/gc.ref.content.l": d("2") } },
    { ns: "ns", digest: d("2"), labels: {} },
  );
  g.snapshots.push(
    { ns: "ns", snapshotter: "native", key: "child", parent: "base", labels: {} },
    { ns: "ns", snapshotter: "native", key: "base", parent: "", labels: {} },
  );
  g.leases.push({ ns: "ns", id: "flat", labels: { "containerd.io/gc.flat": "" } });
  g.leaseResources.push(
    { ns: "ns", lease: "flat", type: "content", id: d("1") },
    { ns: "ns", lease: "flat", type: "snapshots/native", id: "child" },
  );
  let m = markLive(g);
  assert.deepEqual(
    m.deadContent.map((c) => c.digest),
    [d("2")],
  );
  assert.deepEqual(
    m.deadSnapshots.map((s) => s.key),
    ["base"],
  );
  // The same resources under an ordinary lease keep everything they reach.
  g.leases[0]!.labels = {};
  m = markLive(g);
  assert.deepEqual(m.deadContent, []);
  assert.deepEqual(m.deadSnapshots, []);
});

test("ingests: a live lease keeps one, an expired lease does not; unleased ones last a day", () => {
  const now = new Date("2030-01-02T00:00:00Z");
  const g = empty();
  const hourAgo = new Date(now.getTime() - 3600_000);
  const twoDaysAgo = new Date(now.getTime() - 2 * 86400_000);
  g.content.push({ ns: "ns", digest: d("e"), labels: {} });
  g.ingests.push(
    { ns: "ns", ref: "fresh", expected: d("e"), updatedAt: hourAgo },
    { ns: "ns", ref: "stale", expected: "", updatedAt: twoDaysAgo },
    { ns: "ns", ref: "leased-old", expected: "", updatedAt: twoDaysAgo },
    { ns: "ns", ref: "expired-lease", expected: "", updatedAt: hourAgo },
  );
  g.leases.push(
    { ns: "ns", id: "live", labels: {} },
    { ns: "ns", id: "gone", labels: { "containerd.io/gc.expire": "2030-01-01T00:00:00Z" } },
  );
  g.leaseResources.push(
    { ns: "ns", lease: "live", type: "ingests", id: "leased-old" },
    { ns: "ns", lease: "gone", type: "ingests", id: "expired-lease" },
  );
  const m = markLive(g, now);
  assert.deepEqual(m.deadIngests.map((i) => i.ref).sort(), ["expired-lease", "stale"]);
  assert.deepEqual(m.deadContent, [], "a live ingest keeps its expected blob");
  assert.deepEqual(m.deadLeases, [{ ns: "ns", id: "gone" }]);
});
