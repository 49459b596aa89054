// A full disk, said the way containerd says it: "write <path>: no space left on device". Node's
// errors for writes through a file descriptor name no file ("ENOSPC: no space left on device,
// write"), and SQLite's name neither the file nor the cause ("database or disk is full"), so the
// stores name the file they were writing before the error leaves them.
import { type WriteFileOptions, writeFileSync } from "node:fs";
import type { DatabaseSync } from "node:sqlite";
import { BerthError, errorMessage } from "./errors.ts";

const NO_SPACE: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
};

/**
 * The filesystem under `path` has no room (or the quota is used up). Kind "internal": containerd
 * has no status for it and answers with the message (gRPC Unknown). `code` stays the errno's, for
 * callers that test it.
 */
export class NoSpaceError extends BerthError {
  readonly path: string;
  readonly code: string;
  constructor(op: string, path: string, code: "ENOSPC" | "EDQUOT", detail?: string, options?: { cause?: unknown }) {
    super("internal", `${op} ${path}: ${NO_SPACE[code]}${detail ? ` (${detail})` : ""}`, options);
    this.path = path;
    this.code = code;
  }
}

/**
 * An error of `op` on `path` as the daemon answers it: a full disk or quota becomes a
 * NoSpaceError naming the path (the error's own when it has one); anything else is returned as it
 * is.
 */
export function storageError(err: unknown, path: string, op = "write"): unknown {
  if (err instanceof NoSpaceError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code !== "ENOSPC" && e?.code !== "EDQUOT") return err;
  return new NoSpaceError(e.syscall ?? op, e.path ?? path, e.code, undefined, { cause: err });
}

/** writeFileSync whose full-disk error names `path` (Node's names no file for the write itself). */
export function writeFileNamed(path: string, data: string | Uint8Array, opts: WriteFileOptions = {}): void {
  try {
    writeFileSync(path, data, opts);
  } catch (err) {
    throw storageError(err, path);
  }
}

// SQLite's primary result code for "database or disk is full"; errcode may carry extended bits.
const SQLITE_FULL = 13;

/** An error from node:sqlite on the database `path`: SQLITE_FULL names the file; others pass. */
export function sqliteStorageError(err: unknown, path: string): unknown {
  const code = (err as { errcode?: number } | undefined)?.errcode;
  if (code === undefined || (code & 0xff) !== SQLITE_FULL) return err;
  return new NoSpaceError("write", path, "ENOSPC", `SQLite: ${(err as Error).message}`, { cause: err });
}

/**
 * Runs `fn` in one write transaction on `db` (the file `path`), rolled back if it throws. SQLite
 * ends a transaction by itself on some errors (a full disk, an I/O error), and a ROLLBACK then
 * fails with "cannot rollback - no transaction is active": only a transaction still open is
 * rolled back, so the error that happened is the one answered.
 */
export function sqliteTransaction<T>(db: DatabaseSync, path: string, fn: () => T): T {
  try {
    db.exec("BEGIN IMMEDIATE");
  } catch (err) {
    throw sqliteStorageError(err, path);
  }
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (err) {
    const cause = sqliteStorageError(err, path);
    if (db.isTransaction) {
      try {
        db.exec("ROLLBACK");
      } catch (rollback) {
        throw new BerthError(
          "internal",
          `${errorMessage(cause)}; then the rollback failed: ${errorMessage(rollback)}`,
          {
            cause,
          },
        );
      }
    }
    throw cause;
  }
}
