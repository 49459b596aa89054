import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { MetadataDB } from "./db.ts";
import { tempDbForFile } from "./scene.testing.ts";

const t = tempDbForFile("berth-meta-schema-");

test("a database from a newer schema is refused; a reopened one keeps its rows", () => {
  const path = join(t.dir, "newer.db");
  const d1 = new MetadataDB(path);
  d1.namespaces.create("kept", {});
  d1.close();
  const d2 = new MetadataDB(path);
  assert.deepEqual(
    d2.namespaces.list().map((n) => n.name),
    ["kept"],
  );
  d2.close();
  const raw = new DatabaseSync(path);
  raw.exec("UPDATE schema_version SET version = 99");
  raw.close();
  assert.throws(() => new MetadataDB(path), /schema version 99 is newer/);
});

test("schema 1 (backend keys unique across snapshotters) is migrated: rows kept, keys unique per snapshotter", () => {
  const path = join(t.dir, "v1.db");
  const raw = new DatabaseSync(path);
  raw.exec(`
    CREATE TABLE schema_version (version INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1);
    CREATE TABLE snapshots (ns TEXT, snapshotter TEXT, key TEXT, backend_key TEXT NOT NULL UNIQUE,
      parent TEXT NOT NULL, kind TEXT NOT NULL, labels TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
      PRIMARY KEY (ns, snapshotter, key));
    INSERT INTO snapshots VALUES ('ns1', 'overlayfs', 'layer', 'ns1/2/layer', '', 'committed', '{"a":"b"}', 1, 2);
  `);
  raw.close();
  const db = new MetadataDB(path);
  try {
    assert.equal(db.snapshots.get("ns1", "overlayfs", "layer")?.labels.a, "b");
    const row = { key: "layer", backendKey: "ns1/2/layer", parent: "", kind: "committed" as const, labels: {} };
    db.snapshots.insert("ns1", { ...row, snapshotter: "native" });
    assert.equal(db.snapshots.get("ns1", "native", "layer")?.backendKey, "ns1/2/layer");
    assert.throws(
      () => db.snapshots.insert("ns1", { ...row, key: "other", snapshotter: "native" }),
      /UNIQUE constraint failed: snapshots.snapshotter, snapshots.backend_key/,
    );
  } finally {
    db.close();
  }
  const check = new DatabaseSync(path);
  assert.equal((check.prepare("SELECT version FROM schema_version").get() as { version: number }).version, 2);
  check.close();
});
