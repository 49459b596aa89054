import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { afterEach, beforeEach, test } from "node:test";
import { DaemonLogger } from "../../common/log.ts";
import { GarbageCollector } from "./collector.ts";
import { type MetadataScene, metadataScene } from "./scene.testing.ts";

const digestOf = (b: string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const REF_SNAP = "containerd.io/gc.ref.snapshot.memory";

let t: MetadataScene;
let gc: GarbageCollector;

beforeEach(async () => {
  t = await metadataScene("berth-gc-");
  gc = new GarbageCollector(t.db, t.store, new Map([["memory", t.backend]]), new DaemonLogger("error"));
});
afterEach(() => t.close());

async function put(ns: string, data: string, labels: Record<string, string> = {}, lease = ""): Promise<string> {
  const w = await t.content.writer(ns, `ref-${data}`, {}, lease);
  await w.write(Buffer.from(data));
  const d = await gc.exclusive(async () => {
    const d = await w.commit(data.length, digestOf(data));
    t.content.committed(ns, d, labels, lease);
    return d;
  });
  return d;
}

const onDisk = (d: string) =>
  stat(t.store.blobPath(d)).then(
    () => true,
    () => false,
  );

/** Two images sharing their base layer, unpacked into a snapshot chain base ← top1, base ← top2. */
async function twoImages(ns: string) {
  const layerA = await put(ns, "layer A");
  const layerB = await put(ns, "layer B");
  const layerC = await put(ns, "layer C");
  await t.snapshots.prepare(ns, "extract-base", "", {});
  await t.snapshots.commit(ns, "base", "extract-base", {});
  await t.snapshots.prepare(ns, "extract-1", "base", {});
  await t.snapshots.commit(ns, "top1", "extract-1", {});
  await t.snapshots.prepare(ns, "extract-2", "base", {});
  await t.snapshots.commit(ns, "top2", "extract-2", {});
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
  t.db.images.create(ns, { name: "img:1", labels: {}, target: target(manifest1) });
  t.db.images.create(ns, { name: "img:2", labels: {}, target: target(manifest2) });
  return { layerA, layerB, layerC, config1, config2, manifest1, manifest2 };
}

test("deleting an image frees exactly what no other image shares; deleting the other frees the rest", async () => {
  const b = await twoImages("ns");
  assert.deepEqual(await gc.collect(), { removedContent: 0, removedSnapshots: 0, removedLeases: 0, removedIngests: 0 });

  t.db.images.delete("ns", "img:1");
  const first = await gc.collect();
  assert.equal(first.removedContent, 3);
  assert.equal(first.removedSnapshots, 1);
  for (const d of [b.manifest1, b.config1, b.layerB]) {
    assert.equal(await onDisk(d), false, `${d} removed`);
    await assert.rejects(t.content.info("ns", d), /not found/);
  }
  for (const d of [b.manifest2, b.config2, b.layerA, b.layerC]) {
    assert.equal(await onDisk(d), true, `${d} kept`);
    assert.equal((await t.content.info("ns", d)).digest, d);
  }
  assert.deepEqual(
    (await t.snapshots.list("ns")).map((s) => s.name),
    ["base", "top2"],
  );
  assert.equal(t.backend.snapshots.size, 2);

  t.db.images.delete("ns", "img:2");
  const second = await gc.collect();
  assert.equal(second.removedContent, 4);
  assert.equal(second.removedSnapshots, 2, "the child before its parent (the backend refuses otherwise)");
  assert.equal(t.backend.snapshots.size, 0);
  assert.deepEqual(t.db.content.list("ns"), []);
});

test("a blob two namespaces hold stays until both let go", async () => {
  const d = await put("one", "shared", { "containerd.io/gc.root": "" });
  t.db.content.put("two", d, { "containerd.io/gc.root": "" });
  t.content.delete("one", d);
  assert.equal((await gc.collect()).removedContent, 0);
  assert.equal(await onDisk(d), true);
  await assert.rejects(t.content.info("one", d), /not found/);
  t.content.delete("two", d);
  assert.equal((await gc.collect()).removedContent, 1);
  assert.equal(await onDisk(d), false);
});

test("files without rows (a crash between file and row) go; a container keeps its snapshot", async () => {
  // A blob committed to disk whose row never landed, and a backend snapshot with no row.
  const w = await t.store.writer("raw");
  await w.write(Buffer.from("orphan"));
  const orphan = await w.commit(0, "");
  await t.backend.prepare("ns/99/lost");
  await t.snapshots.prepare("ns", "rootfs", "", {});
  t.db.containers.create("ns", {
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
  assert.equal(t.backend.snapshots.has("ns/99/lost"), false);
  assert.equal((await t.snapshots.stat("ns", "rootfs")).kind, "active");
  t.db.containers.delete("ns", "c1");
  assert.equal((await gc.collect()).removedSnapshots, 1);
  await assert.rejects(t.snapshots.stat("ns", "rootfs"), /not found/);
});

test("leases hold content and snapshots until they expire; expired leases and their ingests go", async () => {
  const inAnHour = new Date(Date.now() + 3600_000).toISOString();
  t.db.leases.create("ns", "pull", { "containerd.io/gc.expire": inAnHour });
  const d = await put("ns", "leased blob", {}, "pull");
  await t.snapshots.prepare("ns", "leased-snap", "", {}, "pull");
  const w = await t.content.writer("ns", "half", {}, "pull");
  await w.write(Buffer.from("half a blob"));
  await w.close();
  const unleased = await t.content.writer("ns", "unleased", {});
  await unleased.close();

  assert.deepEqual(await gc.collect(), { removedContent: 0, removedSnapshots: 0, removedLeases: 0, removedIngests: 0 });
  assert.deepEqual((await t.content.listStatuses("ns")).map((s) => s.ref).sort(), ["half", "unleased"]);

  const twoHoursOn = new Date(Date.now() + 2 * 3600_000);
  const r = await gc.collect(twoHoursOn);
  assert.deepEqual(r, { removedContent: 1, removedSnapshots: 1, removedLeases: 1, removedIngests: 1 });
  assert.equal(await onDisk(d), false);
  assert.throws(() => t.db.leases.get("ns", "pull"), /lease pull: not found/);
  assert.deepEqual(
    (await t.content.listStatuses("ns")).map((s) => s.ref),
    ["unleased"],
    "an unleased ingest lasts a day",
  );
  const r2 = await gc.collect(new Date(Date.now() + 2 * 86400_000));
  assert.equal(r2.removedIngests, 1);
  assert.deepEqual(await t.content.listStatuses("ns"), []);
});

test("an ingest held by a writer survives a collection that finds it stale", async () => {
  const w = await t.content.writer("ns", "busy", {});
  await w.write(Buffer.from("x"));
  const r = await gc.collect(new Date(Date.now() + 2 * 86400_000));
  assert.equal(r.removedIngests, 0);
  assert.equal(w.offset(), 1);
  const d = await w.commit(1, digestOf("x"));
  assert.equal(d, digestOf("x"));
});

test("schedule() batches deletes into one deferred collection", async () => {
  const d = await put("ns", "soon gone");
  t.content.delete("ns", d);
  gc.schedule(10);
  gc.schedule(10);
  assert.equal(await onDisk(d), true, "not yet");
  await new Promise((r) => setTimeout(r, 60));
  await gc.exclusive(async () => {});
  assert.equal(await onDisk(d), false);
});
