import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { MetadataDB, maskedLabels } from "./db.ts";

let dir: string;
let db: MetadataDB;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "berth-meta-"));
  db = new MetadataDB(join(dir, "meta.db"));
});
after(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

const target = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${"1".repeat(64)}`,
  size: 10,
  annotations: {},
};

test("namespaces: created implicitly by a write, refused deletion while not empty, labels by mask", () => {
  db.createImage("ns1", { name: "img:1", labels: {}, target });
  assert.deepEqual(
    db.listNamespaces().map((n) => n.name),
    ["ns1"],
  );
  assert.throws(() => db.deleteNamespace("ns1"), /must be empty, but it still has images/);
  assert.deepEqual(db.namespaceLabels("unknown"), {});
  assert.throws(() => db.createNamespace("bad name", {}), /must match/);
  db.createNamespace("ns2", { a: "1", b: "2" });
  assert.deepEqual(db.updateNamespace("ns2", { b: "", c: "3" }, ["labels.b", "labels.c"]), { a: "1", c: "3" });
  db.deleteNamespace("ns2");
});

test("images: duplicate, update by field path, delete; namespaces do not see each other", () => {
  assert.throws(() => db.createImage("ns1", { name: "img:1", labels: {}, target }), /already exists/);
  const other = { ...target, digest: `sha256:${"2".repeat(64)}` };
  const u = db.updateImage("ns1", { name: "img:1", labels: { x: "y" }, target: other }, ["target"]);
  assert.equal(u.target.digest, other.digest);
  assert.deepEqual(u.labels, {}, "labels untouched when the mask names only the target");
  assert.throws(() => db.getImage("ns3", "img:1"), /not found/);
  assert.throws(() => db.updateImage("ns1", { name: "img:1", labels: {}, target }, ["bogus"]), /cannot update "bogus"/);
  assert.throws(
    () => db.createImage("ns1", { name: "x", labels: {}, target: { ...target, digest: "sha256:zz" } }),
    /invalid target digest/,
  );
  db.deleteImage("ns1", "img:1");
  assert.throws(() => db.deleteImage("ns1", "img:1"), /not found/);
});

test("leases hold resources; snapshots map namespaced keys to unique backend keys", () => {
  db.createLease("ns1", "123-ab_", {});
  db.putContent("ns1", target.digest, { a: "b" }, "123-ab_");
  assert.deepEqual(db.listLeaseResources("ns1", "123-ab_"), [{ type: "content", id: target.digest }]);
  assert.throws(() => db.addLeaseResource("ns1", "123-ab_", { type: "bogus", id: "x" }), /invalid lease resource/);
  db.deleteLease("ns1", "123-ab_");
  assert.throws(() => db.listLeaseResources("ns1", "123-ab_"), /not found/);
  db.insertSnapshot("ns1", {
    snapshotter: "overlayfs",
    key: "k",
    backendKey: "ns1/1/k",
    parent: "",
    kind: "committed",
    labels: {},
  });
  assert.throws(() =>
    db.insertSnapshot("ns2", {
      snapshotter: "overlayfs",
      key: "k",
      backendKey: "ns1/1/k",
      parent: "",
      kind: "active",
      labels: {},
    }),
  );
  assert.equal(db.getSnapshot("ns2", "overlayfs", "k"), undefined);
  assert.ok(db.referencedBackendKeys("overlayfs").has("ns1/1/k"));
});

test("label masks", () => {
  assert.deepEqual(maskedLabels({ a: "1" }, { b: "2" }, []), { b: "2" });
  assert.deepEqual(maskedLabels({ a: "1" }, { b: "2" }, ["labels.b"]), { a: "1", b: "2" });
  assert.deepEqual(maskedLabels({ a: "1" }, {}, ["labels.a"]), {});
});
