import assert from "node:assert/strict";
import { test } from "node:test";
import { MANIFEST_TARGET, tempDbForFile } from "./scene.testing.ts";

const t = tempDbForFile("berth-meta-ns-");

const target = MANIFEST_TARGET;

test("namespaces: created implicitly by a write, refused deletion while not empty, labels by mask", () => {
  const { db } = t;
  db.images.create("ns1", { name: "img:1", labels: {}, target });
  assert.deepEqual(
    db.namespaces.list().map((n) => n.name),
    ["ns1"],
  );
  assert.throws(() => db.namespaces.delete("ns1"), /must be empty, but it still has images/);
  assert.deepEqual(db.namespaces.labels("unknown"), {});
  assert.throws(() => db.namespaces.create("bad name", {}), /must match/);
  db.namespaces.create("ns2", { a: "1", b: "2" });
  assert.deepEqual(db.namespaces.update("ns2", { b: "", c: "3" }, ["labels.b", "labels.c"]), { a: "1", c: "3" });
  db.namespaces.delete("ns2");
});

test("labels: key and value together may take 4096 bytes, counted in bytes", () => {
  const { db } = t;
  const ok = { k: "v".repeat(4095) };
  db.namespaces.create("labels-ok", ok);
  // 2048 two-byte characters are 4096 bytes: with the key, one byte too many.
  assert.throws(() => db.namespaces.create("labels-bad", { k: "é".repeat(2048) }), /4097 bytes\) greater than/);
  db.namespaces.delete("labels-ok");
});
