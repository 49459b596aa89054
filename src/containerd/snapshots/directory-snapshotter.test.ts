// A snapshotter transaction whose COMMIT fails after the directory was renamed (issue 11: a full
// disk fails the write-ahead log's append at COMMIT, and SQLite rolls the transaction back): the
// row comes back, so must the directory. Before, remove() left the row with its directory renamed
// to rm-<id>, which the next cleanup deleted: the row named a snapshot that no longer existed.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
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
