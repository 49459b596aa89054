import assert from "node:assert/strict";
import { test } from "node:test";
import type { GcGraphInput } from "./db.ts";
import { labelRefs, markLive } from "./gc.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const empty = (): GcGraphInput => ({
  namespaces: ["ns"],
  images: [],
  containers: [],
  leases: [],
  leaseResources: [],
  content: [],
  snapshots: [],
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
