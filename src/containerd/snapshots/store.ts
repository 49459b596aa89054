// A snapshotter's own metadata: one node:sqlite file in its root. Rows are snapshots (id, key or
// name, parent, kind, labels, times, cached usage); ids name the storage directories. All calls
// are synchronous, so a transaction can wrap a rename of the storage directory with nothing else
// interleaving (the crash-safety protocol in directory-snapshotter.ts relies on it).
import { DatabaseSync } from "node:sqlite";
import { sqliteTransaction } from "../../common/storage-errors.ts";
import { CorruptDataError, snapshotterRowProblem, sqliteFault } from "../metadata/corrupt.ts";
import type { SnapshotKind, SnapshotUsage } from "./snapshotter.ts";

export interface SnapshotRow {
  id: number;
  name: string;
  parentId: number | null;
  /** The parent's name, "" for none. */
  parent: string;
  kind: SnapshotKind;
  labels: Record<string, string>;
  /** Milliseconds since the epoch. */
  created: number;
  updated: number;
  /** Stored at commit; null for active snapshots and views. */
  usage: SnapshotUsage | null;
}

interface DbRow {
  id: number;
  name: string;
  parent_id: number | null;
  parent: string | null;
  kind: string;
  labels: string;
  created: number;
  updated: number;
  size: number | null;
  inodes: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  parent_id INTEGER REFERENCES snapshots(id),
  kind TEXT NOT NULL CHECK (kind IN ('active', 'view', 'committed')),
  labels TEXT NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  size INTEGER,
  inodes INTEGER
);
CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id);
`;

/** The columns of the snapshots table, for the start-up check and the repair command. */
export const SNAPSHOT_COLUMNS: readonly string[] = [
  "id",
  "name",
  "parent_id",
  "kind",
  "labels",
  "created",
  "updated",
  "size",
  "inodes",
];

const SELECT = `SELECT s.*, p.name AS parent FROM snapshots s LEFT JOIN snapshots p ON p.id = s.parent_id`;

/** A row as read; one that does not parse is reported as corrupt, naming the file and the row. */
function toRow(path: string, r: DbRow): SnapshotRow {
  const problem = snapshotterRowProblem(r as unknown as Record<string, unknown>);
  if (problem) {
    throw new CorruptDataError(
      `snapshotter database ${path}: snapshots row id ${r.id} is corrupt: ${problem}; see berth-containerd repair`,
    );
  }
  return {
    id: r.id,
    name: r.name,
    parentId: r.parent_id,
    parent: r.parent ?? "",
    kind: r.kind as SnapshotKind,
    labels: JSON.parse(r.labels) as Record<string, string>,
    created: r.created,
    updated: r.updated,
    usage: r.size === null || r.inodes === null ? null : { size: r.size, inodes: r.inodes },
  };
}

export class SnapshotStore {
  readonly #db: DatabaseSync;
  /** The file, for messages. */
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.#db = new DatabaseSync(path);
    try {
      this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
      this.#db.exec(SCHEMA);
    } catch (err) {
      this.#db.close();
      throw sqliteFault(path, err);
    }
  }

  /** Runs a read; SQLite's errors for a damaged file are given the file's name. */
  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw sqliteFault(this.path, err);
    }
  }

  /**
   * Runs `fn` in one write transaction; rolled back if it throws. `fn` must be synchronous. A full
   * disk is answered as "write <this file>: no space left on device" (see sqliteTransaction).
   */
  transaction<T>(fn: () => T): T {
    return sqliteTransaction(this.#db, this.path, fn);
  }

  get(name: string): SnapshotRow | undefined {
    const r = this.#read(() => this.#db.prepare(`${SELECT} WHERE s.name = ?`).get(name) as DbRow | undefined);
    return r && toRow(this.path, r);
  }

  /** Ids of `id` and its ancestors, nearest first. */
  chain(id: number): number[] {
    const ids: number[] = [];
    const stmt = this.#db.prepare("SELECT parent_id FROM snapshots WHERE id = ?");
    for (let cur: number | null = id; cur !== null; ) {
      ids.push(cur);
      const r = stmt.get(cur) as { parent_id: number | null } | undefined;
      cur = r?.parent_id ?? null;
    }
    return ids;
  }

  hasChildren(id: number): boolean {
    return this.#db.prepare("SELECT 1 FROM snapshots WHERE parent_id = ? LIMIT 1").get(id) !== undefined;
  }

  insert(s: {
    name: string;
    parentId: number | null;
    kind: SnapshotKind;
    labels: Record<string, string>;
    now: number;
  }): number {
    const r = this.#db
      .prepare("INSERT INTO snapshots (name, parent_id, kind, labels, created, updated) VALUES (?, ?, ?, ?, ?, ?)")
      .run(s.name, s.parentId, s.kind, JSON.stringify(s.labels), s.now, s.now);
    return Number(r.lastInsertRowid);
  }

  /** Turns an active snapshot into a committed one named `name`. */
  commit(id: number, name: string, labels: Record<string, string>, usage: SnapshotUsage, now: number): void {
    this.#db
      .prepare(
        "UPDATE snapshots SET name = ?, kind = 'committed', labels = ?, created = ?, updated = ?, size = ?, inodes = ? WHERE id = ?",
      )
      .run(name, JSON.stringify(labels), now, now, usage.size, usage.inodes, id);
  }

  setLabels(id: number, labels: Record<string, string>, now: number): void {
    this.#db.prepare("UPDATE snapshots SET labels = ?, updated = ? WHERE id = ?").run(JSON.stringify(labels), now, id);
  }

  delete(id: number): void {
    this.#db.prepare("DELETE FROM snapshots WHERE id = ?").run(id);
  }

  /** Every snapshot, ordered by name. */
  all(): SnapshotRow[] {
    return this.#read(() => this.#db.prepare(`${SELECT} ORDER BY s.name`).all() as unknown as DbRow[]).map((r) =>
      toRow(this.path, r),
    );
  }

  ids(): Set<number> {
    return new Set(
      this.#read(() => this.#db.prepare("SELECT id FROM snapshots").all() as { id: number }[]).map((r) => r.id),
    );
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
