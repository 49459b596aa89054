import assert from "node:assert/strict";
import { test } from "node:test";
import { tempDbForFile } from "./scene.testing.ts";

const t = tempDbForFile("berth-meta-leases-");

const digest = `sha256:${"1".repeat(64)}`;

test("leases hold resources; deleting a lease deletes its resources", () => {
  const { db } = t;
  db.leases.create("ns1", "123-ab_", {});
  db.content.put("ns1", digest, { a: "b" }, "123-ab_");
  assert.deepEqual(db.leases.listResources("ns1", "123-ab_"), [{ type: "content", id: digest }]);
  assert.throws(() => db.leases.addResource("ns1", "123-ab_", { type: "bogus", id: "x" }), /invalid lease resource/);
  db.leases.delete("ns1", "123-ab_");
  assert.throws(() => db.leases.listResources("ns1", "123-ab_"), /not found/);
});

test("leases: ids are not identifiers, but no control characters or slashes; duplicates refused", () => {
  const { db } = t;
  assert.throws(() => db.leases.create("ns1", "a/b", {}), /invalid lease id/);
  assert.throws(() => db.leases.create("ns1", "", {}), /invalid lease id/);
  db.leases.create("ns1", "l1", { x: "1" });
  assert.throws(() => db.leases.create("ns1", "l1", {}), /lease l1: already exists/);
  assert.deepEqual(db.leases.get("ns1", "l1").labels, { x: "1" });
  db.leases.addResource("ns1", "l1", { type: "snapshots/overlayfs", id: "k" });
  db.leases.deleteResource("ns1", "l1", { type: "snapshots/overlayfs", id: "k" });
  assert.deepEqual(db.leases.listResources("ns1", "l1"), []);
  assert.throws(() => db.leases.addResource("ns1", "nope", { type: "content", id: digest }), /lease nope: not found/);
  db.leases.delete("ns1", "l1");
  assert.throws(() => db.leases.delete("ns1", "l1"), /lease l1: not found/);
});

test("labels: a lease's label key must not be empty", () => {
  assert.throws(() => t.db.leases.create("ns1", "l", { "": "x" }), /label key must not be empty/);
});
