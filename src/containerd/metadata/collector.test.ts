import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { DaemonLogger } from "../../common/log.ts";
import { LocalContentStore } from "../content/local-store.ts";
import { GarbageCollector } from "./collector.ts";
import { MetadataDB } from "./db.ts";
import { MemorySnapshotter } from "./memory-snapshotter.testing.ts";
import { NamespacedContent, NamespacedSnapshotter } from "./namespaced.ts";

const digestOf = (b: string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const REF_SNAP = "containerd.io/gc.ref.snapshot.memory";

let dir: string;
let db: MetadataDB;
let store: LocalContentStore;
let backend: MemorySnapshotter;
let content: NamespacedContent;
let snapshots: NamespacedSnapshotter;
let gc: GarbageCollector;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-gc-"));
  db = new MetadataDB(join(dir, "meta.db"));
  store = await LocalContentStore.open(join(dir, "content"));
  backend = new MemorySnapshotter();
  content = new NamespacedContent(db, store);
  snapshots = new NamespacedSnapshotter(db, backend);
  gc = new GarbageCollector(db, store, new Map([["memory", backend]]), new DaemonLogger("error"));
});
afterEach(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

async function put(ns: string, data: string, labels: Record<string, string> = {}, lease = ""): Promise<string> {
  const w = await content.writer(ns, `ref-${data}`, {}, lease);
  await w.write(Buffer.from(data));
  const d = await gc.exclusive(async () => {
    const d = await w.commit(data.length, digestOf(data));
    content.committed(ns, d, labels, lease);
    return d;
  });
  return d;
}

const onDisk = (d: string) =>
  stat(store.blobPath(d)).then(
    () => true,
    () => false,
  );

/** Two images sharing their base layer, unpacked into a snapshot chain base ← top1, base ← top2. */
async function twoImages(ns: string) {
  const layerA = await put(ns, "layer A");
  const layerB = await put(ns, "layer B");
  const layerC = await put(ns, "layer C");
  await snapshots.prepare(ns, "extract-base", "", {});
  await snapshots.commit(ns, "base", "extract-base", {});
  await snapshots.prepare(ns, "extract-1", "base", {});
  await snapshots.commit(ns, "top1", "extract-1", {});
  await snapshots.prepare(ns, "extract-2", "base", {});
  await snapshots.commit(ns, "top2", "extract-2", {});
  const config1 = await put(ns, "config 1", { [REF_SNAP]: "top1" });
  const config2 = await put(ns, "config 2", { [REF_SNAP]: "top2" });
  const manifest = (name: string, config: string, layers: string[]) =>
    put(ns, name, {
      "containerd.io/gc.ref.content.config": config,
      ...Object.fromEntries(layers.map((l, i) => [`containerd.io/gc.ref.content.l.${i}`, l])),
    });
  const manifest1 = await manifest("manifest 1", config1, [layerA, layerB]);
  const manifest2 = await manifest("manifest 2", config2, [layerA, layerC]);
  const target = (digest: string) => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest,
    size: 10,
    annotations: {},
  });
  db.createImage(ns, { name: "img:1", labels: {}, target: target(manifest1) });
  db.createImage(ns, { name: "img:2", labels: {}, target: target(manifest2) });
  return { layerA, layerB, layerC, config1, config2, manifest1, manifest2 };
}

test("deleting an image frees exactly what no other image shares; deleting the other frees the rest", async () => {
  const b = await twoImages("ns");
  assert.deepEqual(await gc.collect(), { removedContent: 0, removedSnapshots: 0, removedLeases: 0, removedIngests: 0 });

  db.deleteImage("ns", "img:1");
  const first = await gc.collect();
  assert.equal(first.removedContent, 3);
  assert.equal(first.removedSnapshots, 1);
  for (const d of [b.manifest1, b.config1, b.layerB]) {
    assert.equal(await onDisk(d), false, `${d} removed`);
    await assert.rejects(content.info("ns", d), /not found/);
  }
  for (const d of [b.manifest2, b.config2, b.layerA, b.layerC]) {
    assert.equal(await onDisk(d), true, `${d} kept`);
    assert.equal((await content.info("ns", d)).digest, d);
  }
  assert.deepEqual(
    (await snapshots.list("ns")).map((s) => s.name),
    ["base", "top2"],
  );
  assert.equal(backend.snapshots.size, 2);

  db.deleteImage("ns", "img:2");
  const second = await gc.collect();
  assert.equal(second.removedContent, 4);
  assert.equal(second.removedSnapshots, 2, "the child before its parent (the backend refuses otherwise)");
  assert.equal(backend.snapshots.size, 0);
  assert.deepEqual(db.listContent("ns"), []);
});

test("a blob two namespaces hold stays until both let go", async () => {
  const d = await put("one", "shared", { "containerd.io/gc.root": "" });
  db.putContent("two", d, { "containerd.io/gc.root": "" });
  content.delete("one", d);
  assert.equal((await gc.collect()).removedContent, 0);
  assert.equal(await onDisk(d), true);
  await assert.rejects(content.info("one", d), /not found/);
  content.delete("two", d);
  assert.equal((await gc.collect()).removedContent, 1);
  assert.equal(await onDisk(d), false);
});

test("files without rows (a crash between file and row) go; a container keeps its snapshot", async () => {
  // A blob committed to disk whose row never landed, and a backend snapshot with no row.
  const w = await store.writer("raw");
  await w.write(Buffer.from("orphan"));
  const orphan = await w.commit(0, "");
  await backend.prepare("ns/99/lost");
  await snapshots.prepare("ns", "rootfs", "", {});
  db.createContainer("ns", {
    id: "c1",
    labels: {},
    image: "",
    runtime: { name: "io.containerd.runc.v2" },
    spec: { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new Uint8Array([1]) },
    snapshotter: "memory",
    snapshotKey: "rootfs",
    extensions: {},
  });
  const r = await gc.collect();
  assert.equal(r.removedContent, 1);
  assert.equal(r.removedSnapshots, 1);
  assert.equal(await onDisk(orphan), false);
  assert.equal(backend.snapshots.has("ns/99/lost"), false);
  assert.equal((await snapshots.stat("ns", "rootfs")).kind, "active");
  db.deleteContainer("ns", "c1");
  assert.equal((await gc.collect()).removedSnapshots, 1);
  await assert.rejects(snapshots.stat("ns", "rootfs"), /not found/);
});

test("leases hold content and snapshots until they expire; expired leases and their ingests go", async () => {
  const inAnHour = new Date(Date.now() + 3600_000).toISOString();
  db.createLease("ns", "pull", { "containerd.io/gc.expire": inAnHour });
  const d = await put("ns", "leased blob", {}, "pull");
  await snapshots.prepare("ns", "leased-snap", "", {}, "pull");
  const w = await content.writer("ns", "half", {}, "pull");
  await w.write(Buffer.from("half a blob"));
  await w.close();
  const unleased = await content.writer("ns", "unleased", {});
  await unleased.close();

  assert.deepEqual(await gc.collect(), { removedContent: 0, removedSnapshots: 0, removedLeases: 0, removedIngests: 0 });
  assert.deepEqual((await content.listStatuses("ns")).map((s) => s.ref).sort(), ["half", "unleased"]);

  const twoHoursOn = new Date(Date.now() + 2 * 3600_000);
  const r = await gc.collect(twoHoursOn);
  assert.deepEqual(r, { removedContent: 1, removedSnapshots: 1, removedLeases: 1, removedIngests: 1 });
  assert.equal(await onDisk(d), false);
  assert.throws(() => db.getLease("ns", "pull"), /lease pull: not found/);
  assert.deepEqual(
    (await content.listStatuses("ns")).map((s) => s.ref),
    ["unleased"],
    "an unleased ingest lasts a day",
  );
  const r2 = await gc.collect(new Date(Date.now() + 2 * 86400_000));
  assert.equal(r2.removedIngests, 1);
  assert.deepEqual(await content.listStatuses("ns"), []);
});

test("an ingest held by a writer survives a collection that finds it stale", async () => {
  const w = await content.writer("ns", "busy", {});
  await w.write(Buffer.from("x"));
  const r = await gc.collect(new Date(Date.now() + 2 * 86400_000));
  assert.equal(r.removedIngests, 0);
  assert.equal(w.offset(), 1);
  const d = await w.commit(1, digestOf("x"));
  assert.equal(d, digestOf("x"));
});

test("schedule() batches deletes into one deferred collection", async () => {
  const d = await put("ns", "soon gone");
  content.delete("ns", d);
  gc.schedule(10);
  gc.schedule(10);
  assert.equal(await onDisk(d), true, "not yet");
  await new Promise((r) => setTimeout(r, 60));
  await gc.exclusive(async () => {});
  assert.equal(await onDisk(d), false);
});
