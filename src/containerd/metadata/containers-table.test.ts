import assert from "node:assert/strict";
import { test } from "node:test";
import { tempDbForFile } from "./scene.testing.ts";

const t = tempDbForFile("berth-meta-containers-");

const spec = { typeUrl: "types.containerd.io/opencontainers/runtime-spec/1/Spec", value: new Uint8Array([1, 2]) };
const container = (id: string) => ({
  id,
  labels: { a: "1" },
  image: "img:1",
  runtime: { name: "io.containerd.runc.v2" },
  spec,
  snapshotter: "overlayfs",
  snapshotKey: id,
  extensions: {},
});

test("containers: containerd's validation and field paths", () => {
  const { db } = t;
  assert.throws(() => db.containers.create("ns1", { ...container("c1"), spec: undefined }), /spec must not be empty/);
  assert.throws(() => db.containers.create("ns1", { ...container("c1"), runtime: { name: "" } }), /runtime name/);
  assert.throws(() => db.containers.create("ns1", { ...container("bad id") }), /must match/);
  assert.throws(
    () => db.containers.create("ns1", { ...container("c1"), snapshotter: "" }),
    /snapshotter must be set when snapshot key is set/,
  );
  const c = db.containers.create("ns1", { ...container("c1"), sandbox: "sb1" });
  assert.deepEqual(c.spec, spec);
  assert.equal(c.sandbox, "sb1");
  assert.throws(() => db.containers.create("ns1", container("c1")), /already exists/);

  const ext = { typeUrl: "x", value: new Uint8Array([9]) };
  let u = db.containers.update("ns1", { ...container("c1"), labels: { b: "2" }, extensions: { e: ext } }, [
    "labels.b",
    "extensions.e",
  ]);
  assert.deepEqual(u.labels, { a: "1", b: "2" });
  assert.deepEqual(u.extensions, { e: ext });
  assert.equal(u.sandbox, "sb1");
  assert.throws(
    () => db.containers.update("ns1", { ...container("c1"), runtime: { name: "other" } }, ["runtime"]),
    /cannot update "runtime"/,
  );
  assert.throws(
    () => db.containers.update("ns1", { ...container("c1"), runtime: { name: "other" } }, []),
    /runtime name field is immutable/,
  );
  assert.throws(
    () => db.containers.update("ns1", { ...container("c1"), snapshotter: "native" }, []),
    /snapshotter field is immutable/,
  );
  assert.throws(() => db.containers.update("ns1", { ...container("c1"), spec: undefined }, ["spec"]), /spec must/);
  u = db.containers.update("ns1", { ...container("c1"), labels: {}, image: "img:2", snapshotKey: "k2" }, []);
  assert.deepEqual(u.labels, {});
  assert.equal(u.image, "img:2");
  assert.equal(u.snapshotKey, "k2");
  assert.deepEqual(u.extensions, {}, "a full replace takes the extensions too");
  assert.deepEqual(
    db.containers.list("ns1", (x) => x.image === "img:2").map((x) => x.id),
    ["c1"],
  );
  assert.deepEqual(
    db.containers.list("ns1", (x) => x.image === "nope"),
    [],
  );
  db.containers.delete("ns1", "c1");
  assert.throws(() => db.containers.get("ns1", "c1"), /container "c1": not found/);
});
