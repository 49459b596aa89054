import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
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
  assert.throws(() => db.createContainer("ns1", { ...container("c1"), spec: undefined }), /spec must not be empty/);
  assert.throws(() => db.createContainer("ns1", { ...container("c1"), runtime: { name: "" } }), /runtime name/);
  assert.throws(() => db.createContainer("ns1", { ...container("bad id") }), /must match/);
  assert.throws(
    () => db.createContainer("ns1", { ...container("c1"), snapshotter: "" }),
    /snapshotter must be set when snapshot key is set/,
  );
  const c = db.createContainer("ns1", { ...container("c1"), sandbox: "sb1" });
  assert.deepEqual(c.spec, spec);
  assert.equal(c.sandbox, "sb1");
  assert.throws(() => db.createContainer("ns1", container("c1")), /already exists/);

  const ext = { typeUrl: "x", value: new Uint8Array([9]) };
  let u = db.updateContainer("ns1", { ...container("c1"), labels: { b: "2" }, extensions: { e: ext } }, [
    "labels.b",
    "extensions.e",
  ]);
  assert.deepEqual(u.labels, { a: "1", b: "2" });
  assert.deepEqual(u.extensions, { e: ext });
  assert.equal(u.sandbox, "sb1");
  assert.throws(
    () => db.updateContainer("ns1", { ...container("c1"), runtime: { name: "other" } }, ["runtime"]),
    /cannot update "runtime"/,
  );
  assert.throws(
    () => db.updateContainer("ns1", { ...container("c1"), runtime: { name: "other" } }, []),
    /runtime name field is immutable/,
  );
  assert.throws(
    () => db.updateContainer("ns1", { ...container("c1"), snapshotter: "native" }, []),
    /snapshotter field is immutable/,
  );
  assert.throws(() => db.updateContainer("ns1", { ...container("c1"), spec: undefined }, ["spec"]), /spec must/);
  u = db.updateContainer("ns1", { ...container("c1"), labels: {}, image: "img:2", snapshotKey: "k2" }, []);
  assert.deepEqual(u.labels, {});
  assert.equal(u.image, "img:2");
  assert.equal(u.snapshotKey, "k2");
  assert.deepEqual(u.extensions, {}, "a full replace takes the extensions too");
  assert.deepEqual(
    db.listContainers("ns1", (x) => x.image === "img:2").map((x) => x.id),
    ["c1"],
  );
  assert.deepEqual(
    db.listContainers("ns1", (x) => x.image === "nope"),
    [],
  );
  db.deleteContainer("ns1", "c1");
  assert.throws(() => db.getContainer("ns1", "c1"), /container "c1": not found/);
});

test("labels: key and value together may take 4096 bytes, counted in bytes", () => {
  const ok = { k: "v".repeat(4095) };
  db.createNamespace("labels-ok", ok);
  // 2048 two-byte characters are 4096 bytes: with the key, one byte too many.
  assert.throws(() => db.createNamespace("labels-bad", { k: "é".repeat(2048) }), /4097 bytes\) greater than/);
  assert.throws(() => db.createLease("ns1", "l", { "": "x" }), /label key must not be empty/);
  db.deleteNamespace("labels-ok");
});

test("a database from a newer schema is refused; a reopened one keeps its rows", () => {
  const path = join(dir, "newer.db");
  const d1 = new MetadataDB(path);
  d1.createNamespace("kept", {});
  d1.close();
  const d2 = new MetadataDB(path);
  assert.deepEqual(
    d2.listNamespaces().map((n) => n.name),
    ["kept"],
  );
  d2.close();
  const raw = new DatabaseSync(path);
  raw.exec("UPDATE schema_version SET version = 99");
  raw.close();
  assert.throws(() => new MetadataDB(path), /schema version 99 is newer/);
});

test("schema 1 (backend keys unique across snapshotters) is migrated: rows kept, keys unique per snapshotter", () => {
  const path = join(dir, "v1.db");
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
    assert.equal(db.getSnapshot("ns1", "overlayfs", "layer")?.labels.a, "b");
    const row = { key: "layer", backendKey: "ns1/2/layer", parent: "", kind: "committed" as const, labels: {} };
    db.insertSnapshot("ns1", { ...row, snapshotter: "native" });
    assert.equal(db.getSnapshot("ns1", "native", "layer")?.backendKey, "ns1/2/layer");
    assert.throws(
      () => db.insertSnapshot("ns1", { ...row, key: "other", snapshotter: "native" }),
      /UNIQUE constraint failed: snapshots.snapshotter, snapshots.backend_key/,
    );
  } finally {
    db.close();
  }
  const check = new DatabaseSync(path);
  assert.equal((check.prepare("SELECT version FROM schema_version").get() as { version: number }).version, 2);
  check.close();
});

test("a daemon killed mid-transaction leaves the committed rows and none of the open transaction", async () => {
  const path = join(dir, "killed.db");
  const dbUrl = new URL("./db.ts", import.meta.url).href;
  const script = `
    import { MetadataDB } from ${JSON.stringify(dbUrl)};
    const db = new MetadataDB(${JSON.stringify(path)});
    db.createNamespace("committed", {});
    db.transaction(() => {
      db.createNamespace("torn", {});
      for (let i = 0; i < 2000; i++) db.putContent("torn", "sha256:" + i.toString(16).padStart(64, "0"), {});
      process.stdout.write("inside\\n");
      const until = Date.now() + 60000;
      while (Date.now() < until) {}
    });
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => b.toString().includes("inside") && resolve());
    child.on("exit", () => reject(new Error("child exited before the transaction")));
  });
  child.kill("SIGKILL");
  await exited;
  const reopened = new MetadataDB(path);
  try {
    assert.deepEqual(
      reopened.listNamespaces().map((n) => n.name),
      ["committed"],
    );
    assert.deepEqual(reopened.listContent("torn"), []);
    reopened.createNamespace("torn", {});
  } finally {
    reopened.close();
  }
});
