// The start-up check's pieces without a daemon: what counts as a corrupt row, how a database file
// is judged (missing, empty, damaged, another schema), the verdict on a root, and the stores'
// reads naming the file and the row instead of "not found" or a bare SQLite message.
import assert from "node:assert/strict";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { SnapshotStore } from "../snapshots/store.ts";
import { CorruptDataError, metaRowProblem, snapshotterRowProblem } from "./corrupt.ts";
import { MetadataDB } from "./db.ts";
import { CONTENT_DIR, checkRoot, META_DB, openChecked, snapshotterDir } from "./integrity.ts";
import { META_TABLES } from "./schema.ts";

const D1 = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;
const D3 = `sha256:${"c".repeat(64)}`;

function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), "berth-integrity-"));
}

test("rows: what parses passes; bad JSON, digests, kinds and backend keys are named", () => {
  const ok = { ns: "default", digest: D1, labels: "{}", created: 1, updated: 1 };
  assert.equal(metaRowProblem("content", ok), undefined);
  assert.match(metaRowProblem("content", { ...ok, labels: '{"a":' }) ?? "", /labels is not JSON/);
  assert.match(metaRowProblem("content", { ...ok, labels: '{"a":1}' }) ?? "", /labels is not an object of strings/);
  assert.match(metaRowProblem("content", { ...ok, digest: "sha256:XXXX" }) ?? "", /digest .* is not sha256/);
  const snap = {
    ns: "default",
    snapshotter: "overlayfs",
    key: "k",
    backend_key: "default/3/k",
    parent: "",
    kind: "committed",
    labels: "{}",
  };
  assert.equal(metaRowProblem("snapshots", snap), undefined);
  assert.match(metaRowProblem("snapshots", { ...snap, kind: "comXitted" }) ?? "", /kind "comXitted" is unknown/);
  assert.match(metaRowProblem("snapshots", { ...snap, backend_key: "other/3/k" }) ?? "", /backend_key/);
  assert.match(metaRowProblem("snapshots", { ...snap, backend_key: "default/XX/k" }) ?? "", /backend_key/);
  const target = JSON.stringify({ mediaType: "m", digest: D1, size: 1, annotations: {} });
  assert.equal(metaRowProblem("images", { ns: "default", name: "i", target, labels: "{}" }), undefined);
  assert.match(
    metaRowProblem("images", { ns: "default", name: "i", target: target.replace("aaaa", "aXaa"), labels: "{}" }) ?? "",
    /target digest/,
  );
  assert.match(metaRowProblem("containers", { ns: "default", id: "c", record: "{}" }) ?? "", /not a container record/);
  assert.equal(snapshotterRowProblem({ id: 1, name: "n", parent_id: null, kind: "active", labels: "{}" }), undefined);
  assert.match(snapshotterRowProblem({ id: 1, name: "n", parent_id: null, kind: "x", labels: "{}" }) ?? "", /kind/);
});

test("files: missing, empty, garbage header, a row that disagrees with its index, another schema", () => {
  const dir = tempRoot();
  try {
    const path = join(dir, "meta.db");
    assert.equal(openChecked(path, META_TABLES).state, "missing");
    writeFileSync(path, "");
    assert.equal(openChecked(path, META_TABLES).state, "empty");
    rmSync(path);

    const db = new MetadataDB(path);
    db.snapshots.insert("default", {
      snapshotter: "overlayfs",
      key: "layer",
      backendKey: "default/1/layer-marker",
      parent: "",
      kind: "committed",
      labels: {},
    });
    db.close();
    const good = openChecked(path, META_TABLES);
    assert.equal(good.state, "ok");
    if (good.state === "ok") good.db.close();

    // Four bytes of the row itself (the key and backend key stand side by side only there).
    const bytes = readFileSync(path);
    const at = bytes.indexOf("layerdefault/1/layer-marker");
    assert.ok(at > 0);
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.from("XXXX"), 0, 4, at + "layerdefault/1/".length);
    closeSync(fd);
    const flipped = openChecked(path, META_TABLES);
    assert.equal(flipped.state, "damaged");
    assert.match(flipped.state === "damaged" ? flipped.problem : "", /integrity check failed: .*missing from index/);

    writeFileSync(path, Buffer.concat([Buffer.from("not a sqlite header at all!!!!!!"), Buffer.alloc(4064)]));
    const garbage = openChecked(path, META_TABLES);
    assert.equal(garbage.state, "damaged");
    assert.match(garbage.state === "damaged" ? garbage.problem : "", /not a database/);

    rmSync(path);
    const other = new DatabaseSync(path);
    other.exec("CREATE TABLE content (ns TEXT, digest TEXT)");
    other.close();
    const schema = openChecked(path, META_TABLES);
    assert.equal(schema.state, "damaged");
    assert.match(schema.state === "damaged" ? schema.problem : "", /table schema_version is missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A root with blobs D1..D3 on disk and meta.db content rows for `rows`. */
function rootWith(rows: string[]): string {
  const root = tempRoot();
  const blobs = join(root, CONTENT_DIR, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  for (const d of [D1, D2, D3]) writeFileSync(join(blobs, d.slice(7)), d);
  mkdirSync(join(root, "io.containerd.metadata.v1.sqlite"));
  const db = new MetadataDB(join(root, META_DB));
  for (const d of rows) db.content.put("default", d, {});
  db.close();
  return root;
}

test("a root: fresh, healthy, an empty database beside blobs, a few and most rows dangling", () => {
  const fresh = tempRoot();
  const roots = [fresh];
  try {
    assert.deepEqual(checkRoot(fresh), { fatal: [], suspect: [] });

    const healthy = rootWith([D1, D2, D3]);
    roots.push(healthy);
    assert.deepEqual(checkRoot(healthy), { fatal: [], suspect: [] });

    const empty = rootWith([]);
    roots.push(empty);
    writeFileSync(join(empty, META_DB), "");
    const e = checkRoot(empty);
    assert.equal(e.fatal.length, 1);
    assert.match(e.fatal[0]!, /meta\.db is empty while the content store holds 3 blobs/);

    // A valid database that was never used (made anew by someone) beside blobs.
    const fresh2 = rootWith([]);
    roots.push(fresh2);
    assert.match(
      checkRoot(fresh2).fatal[0] ?? "",
      /meta\.db is a new database \(no namespace\) while the content store holds 3 blobs/,
    );

    const one = rootWith([D1, D2, D3]);
    roots.push(one);
    rmSync(join(one, CONTENT_DIR, "blobs", "sha256", D1.slice(7)));
    const o = checkRoot(one);
    assert.deepEqual(o.fatal, []);
    assert.equal(o.suspect.length, 1);
    assert.match(o.suspect[0]!, /content row \(default, sha256:a+\) has no blob/);

    const most = rootWith([D1, D2, D3]);
    roots.push(most);
    rmSync(join(most, CONTENT_DIR, "blobs", "sha256", D1.slice(7)));
    rmSync(join(most, CONTENT_DIR, "blobs", "sha256", D2.slice(7)));
    assert.match(checkRoot(most).fatal[0] ?? "", /2 of its 3 content rows have no blob/);

    // A snapshotter database emptied beside its directories.
    const snaps = tempRoot();
    roots.push(snaps);
    mkdirSync(join(snaps, snapshotterDir("overlayfs"), "snapshots", "7"), { recursive: true });
    writeFileSync(join(snaps, snapshotterDir("overlayfs"), "metadata.db"), "");
    assert.match(checkRoot(snaps).fatal[0] ?? "", /metadata\.db is empty while .* holds 1 snapshot directories/);
  } finally {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  }
});

test("reads of a corrupt row name the file, the table and the key, not 'not found'", () => {
  const dir = tempRoot();
  try {
    const path = join(dir, "meta.db");
    const db = new MetadataDB(path);
    db.images.create("default", {
      name: "img",
      labels: {},
      target: { mediaType: "m", digest: D1, size: 1, annotations: {} },
    });
    db.content.put("default", D2, { a: "b" });
    db.close();
    const raw = new DatabaseSync(path);
    raw.exec(`UPDATE images SET labels = '{"a":' ; UPDATE content SET digest = 'sha256:XX' WHERE digest = '${D2}'`);
    raw.close();
    const again = new MetadataDB(path);
    try {
      assert.throws(
        () => again.images.get("default", "img"),
        (err: Error) =>
          err instanceof CorruptDataError &&
          err.message.includes(path) &&
          /images row \(default, img\) is corrupt: labels is not JSON/.test(err.message),
      );
      assert.throws(() => again.content.list("default"), /content row \(default, sha256:XX\) is corrupt: digest/);
      // The collector reads everything: it stops on the corrupt row instead of misreading it.
      assert.throws(() => again.gcSnapshot(), CorruptDataError);
    } finally {
      again.close();
    }

    // A damaged file: SQLite's own message, with the file's name.
    const spath = join(dir, "metadata.db");
    writeFileSync(spath, Buffer.concat([Buffer.from("garbage garbage garbage garbage!"), Buffer.alloc(4064)]));
    assert.throws(
      () => new SnapshotStore(spath),
      (err: Error) =>
        err instanceof CorruptDataError && err.message.includes(spath) && /not a database/.test(err.message),
    );
    assert.throws(
      () => new MetadataDB(spath),
      (err: Error) => err instanceof CorruptDataError && err.message.includes(spath),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("integrity_check stays quick on a database of many rows", (t) => {
  const dir = tempRoot();
  try {
    const path = join(dir, "meta.db");
    const db = new MetadataDB(path);
    const rows = 20_000;
    db.transaction(() => {
      for (let i = 0; i < rows; i++) {
        db.content.put("default", `sha256:${i.toString(16).padStart(64, "0")}`, { "containerd.io/gc.root": "x" });
        db.snapshots.insert("default", {
          snapshotter: "overlayfs",
          key: `k${i}`,
          backendKey: `default/${i}/k${i}`,
          parent: "",
          kind: "committed",
          labels: {},
        });
      }
    });
    db.close();
    const started = performance.now();
    const s = openChecked(path, META_TABLES);
    const ms = performance.now() - started;
    assert.equal(s.state, "ok");
    if (s.state === "ok") s.db.close();
    t.diagnostic(`integrity_check and schema check of ${rows * 2} rows: ${ms.toFixed(1)} ms`);
    assert.ok(ms < 5000, `${ms} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
