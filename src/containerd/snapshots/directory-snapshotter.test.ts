// A snapshotter transaction whose COMMIT fails after the directory was renamed (issue 11: a full
// disk fails the write-ahead log's append at COMMIT, and SQLite rolls the transaction back): the
// row comes back, so must the directory. Before, remove() left the row with its directory renamed
// to rm-<id>, which the next cleanup deleted: the row named a snapshot that no longer existed.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { NativeSnapshotter } from "./native.ts";
import type { SnapshotStore } from "./store.ts";

/** Makes the store's next transaction fail at its end, as a COMMIT on a full disk does. */
function failNextCommit(s: NativeSnapshotter): void {
  const store = (s as unknown as { store: SnapshotStore }).store;
  const real = store.transaction.bind(store);
  store.transaction = <T>(fn: () => T): T => {
    store.transaction = real;
    return real(() => {
      fn();
      throw Object.assign(new Error("database or disk is full"), { errcode: 13 });
    });
  };
}

test("a failed commit of remove() keeps the snapshot's row and its directory", async () => {
  const root = await mkdtemp(`${tmpdir()}/berth-snap-`);
  const s = await NativeSnapshotter.open(root);
  try {
    const [m] = await s.prepare("a");
    await writeFile(`${m!.source}/f`, "kept");
    await s.commit("base", "a");
    failNextCommit(s);
    await assert.rejects(s.remove("base"), /no space left on device|database or disk is full/);
    assert.equal((await s.stat("base")).name, "base", "the row is still there");
    await s.cleanup();
    const [v] = await s.view("v", "base");
    assert.equal(await readFile(`${v!.source}/f`, "utf8"), "kept", "and so is its directory");
    await s.remove("v");
    await s.remove("base");
    assert.deepEqual(await readdir(`${root}/snapshots`), []);
  } finally {
    await s.close();
    await rm(root, { recursive: true, force: true });
  }
});

test("a failed commit of prepare() leaves no row and no directory", async () => {
  const root = await mkdtemp(`${tmpdir()}/berth-snap-`);
  const s = await NativeSnapshotter.open(root);
  try {
    failNextCommit(s);
    await assert.rejects(s.prepare("a"), /no space left on device|database or disk is full/);
    await assert.rejects(s.stat("a"), /does not exist/);
    assert.deepEqual(await readdir(`${root}/snapshots`), [], "no directory, renamed or temporary");
    const [m] = await s.prepare("a");
    assert.ok(existsSync(m!.source));
    await s.remove("a");
  } finally {
    await s.close();
    await rm(root, { recursive: true, force: true });
  }
});

/**
 * What another process (the invariants checker, or a restart after kill -9) sees of `root` right
 * now: committed rows whose directory is missing.
 */
function rowsWithoutDirectory(root: string): string[] {
  const db = new DatabaseSync(`${root}/metadata.db`, { readOnly: true });
  try {
    const rows = db.prepare("SELECT id, name FROM snapshots").all() as { id: number; name: string }[];
    return rows.filter((r) => !existsSync(`${root}/snapshots/${r.id}`)).map((r) => `${r.name} (id ${r.id})`);
  } finally {
    db.close();
  }
}

// A kill -9 or an outside reader can land between any two steps. The last instant before a
// transaction's COMMIT is the one that matters: everything the transaction did to the disk is
// done, nothing of its rows is. Before, remove() renamed the directory away inside the transaction,
// so for the length of the COMMIT (an fsync of the write-ahead log) the committed row named a
// directory that was gone: test/faults/full-root.test.ts's checker caught it about once in 20 runs,
// and a kill -9 there left a row whose directory the next cleanup() deleted.
test("at the last instant before each COMMIT, every committed row has its directory", async () => {
  const root = await mkdtemp(`${tmpdir()}/berth-snap-`);
  const s = await NativeSnapshotter.open(root);
  const seen: string[] = [];
  const store = (s as unknown as { store: SnapshotStore }).store;
  const real = store.transaction.bind(store);
  let step = "";
  store.transaction = <T>(fn: () => T): T =>
    real(() => {
      const out = fn();
      for (const r of rowsWithoutDirectory(root)) seen.push(`${step}: ${r}`);
      return out;
    });
  try {
    step = "prepare";
    const [m] = await s.prepare("a");
    await writeFile(`${m!.source}/f`, "x");
    step = "commit";
    await s.commit("base", "a");
    step = "view";
    await s.view("v", "base");
    step = "prepare on a parent";
    await s.prepare("b", "base");
    for (const key of ["v", "b", "base"]) {
      step = `remove ${key}`;
      await s.remove(key);
      assert.deepEqual(rowsWithoutDirectory(root), [], `after remove ${key}`);
    }
    assert.deepEqual(seen, [], "a committed row without its directory");
    assert.deepEqual(await readdir(`${root}/snapshots`), []);
  } finally {
    await s.close();
    await rm(root, { recursive: true, force: true });
  }
});
