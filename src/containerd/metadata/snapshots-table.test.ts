import assert from "node:assert/strict";
import { test } from "node:test";
import { tempDbForFile } from "./scene.testing.ts";

const t = tempDbForFile("berth-meta-snapshots-");

test("snapshots map namespaced keys to unique backend keys", () => {
  const { db } = t;
  db.snapshots.insert("ns1", {
    snapshotter: "overlayfs",
    key: "k",
    backendKey: "ns1/1/k",
    parent: "",
    kind: "committed",
    labels: {},
  });
  assert.throws(() =>
    db.snapshots.insert("ns2", {
      snapshotter: "overlayfs",
      key: "k",
      backendKey: "ns1/1/k",
      parent: "",
      kind: "active",
      labels: {},
    }),
  );
  assert.equal(db.snapshots.get("ns2", "overlayfs", "k"), undefined);
  assert.ok(db.snapshots.referencedBackendKeys("overlayfs").has("ns1/1/k"));
});

test("snapshots: each snapshotter numbers its backend keys on its own sequence; children are counted", () => {
  const { db } = t;
  assert.equal(db.snapshots.newBackendKey("ns1", "native", "a"), "ns1/1/a");
  assert.equal(db.snapshots.newBackendKey("ns2", "native", "a"), "ns2/2/a");
  assert.equal(db.snapshots.newBackendKey("ns1", "memory", "a"), "ns1/1/a");
  const row = { snapshotter: "native", backendKey: "", parent: "", kind: "committed" as const, labels: {} };
  db.snapshots.insert("ns1", { ...row, key: "base", backendKey: "ns1/1/base" });
  db.snapshots.insert("ns1", { ...row, key: "top", backendKey: "ns1/2/top", parent: "base", kind: "active" });
  assert.equal(db.snapshots.children("ns1", "native", "base"), 1);
  assert.equal(db.snapshots.children("ns2", "native", "base"), 0);
  db.snapshots.setLabels("ns1", "native", "top", { l: "1" });
  assert.deepEqual(
    db.snapshots.list("ns1", "native").map((s) => [s.key, s.labels]),
    [
      ["base", {}],
      ["top", { l: "1" }],
    ],
  );
  db.snapshots.delete("ns1", "native", "top");
  assert.equal(db.snapshots.children("ns1", "native", "base"), 0);
});
