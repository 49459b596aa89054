import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { test } from "node:test";
import { NoSpaceError, sqliteTransaction, storageError } from "./storage-errors.ts";

/** A database that is "full" after a few pages (max_page_count), as on a full disk: SQLITE_FULL. */
function smallDatabase(): { db: DatabaseSync; path: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), "berth-storage-errors-"));
  const path = join(dir, "meta.db");
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode=WAL; CREATE TABLE t (x BLOB); PRAGMA max_page_count = 20;");
  return {
    db,
    path,
    done: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const fill = (db: DatabaseSync) => {
  for (let i = 0; i < 100; i++) db.prepare("INSERT INTO t VALUES (?)").run(Buffer.alloc(4000));
};

test("a full database answers with its path and ENOSPC, not 'cannot rollback'", () => {
  const { db, path, done } = smallDatabase();
  try {
    // SQLite itself ends the transaction on SQLITE_FULL: a plain ROLLBACK would throw instead.
    const err = (() => {
      try {
        sqliteTransaction(db, path, () => fill(db));
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof NoSpaceError, String(err));
    assert.equal(err.message, `write ${path}: no space left on device (SQLite: database or disk is full)`);
    assert.equal(err.code, "ENOSPC");
    assert.equal(err.kind, "internal");
    assert.equal(db.isTransaction, false);
    assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 0, "rolled back");
    // The database is usable afterwards.
    assert.equal(
      sqliteTransaction(db, path, () => db.prepare("INSERT INTO t VALUES (?)").run(Buffer.from("x")).changes),
      1,
    );
  } finally {
    done();
  }
});

test("an error inside the transaction rolls it back and passes through unchanged", () => {
  const { db, path, done } = smallDatabase();
  try {
    const mine = new Error("mine");
    assert.throws(
      () =>
        sqliteTransaction(db, path, () => {
          db.prepare("INSERT INTO t VALUES (?)").run(Buffer.from("x"));
          throw mine;
        }),
      (e) => e === mine,
    );
    assert.equal(db.isTransaction, false);
    assert.equal((db.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 0);
  } finally {
    done();
  }
});

test("storageError names the path of a write that found no space; other errors pass", () => {
  const enospc = Object.assign(new Error("ENOSPC: no space left on device, write"), {
    code: "ENOSPC",
    syscall: "write",
  });
  const e = storageError(enospc, "/r/ingest/x/data");
  assert.ok(e instanceof NoSpaceError);
  assert.equal(e.message, "write /r/ingest/x/data: no space left on device");
  assert.equal(e.cause, enospc);
  // An error that names its own path (open, mkdir) keeps it.
  const open = Object.assign(new Error("x"), { code: "EDQUOT", syscall: "mkdir", path: "/r/a" });
  assert.equal((storageError(open, "/r") as Error).message, "mkdir /r/a: disk quota exceeded");
  const other = Object.assign(new Error("EACCES"), { code: "EACCES" });
  assert.equal(storageError(other, "/r"), other);
  assert.equal(storageError(e, "/elsewhere"), e);
});
