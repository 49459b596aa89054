// The metadata database's SQLite file as the tables use it: statements prepared once, SQLite's
// faults turned into errors that name the file, rows checked as they are read, and transactions
// that nest.
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { sqliteTransaction } from "../../common/storage-errors.ts";
import { corruptRow, metaRowProblem, sqliteFault } from "./corrupt.ts";

export type Row = Record<string, unknown>;

/** A filter the gRPC layer built from containerd's filter syntax; the store only applies it. */
export type Predicate<T> = (item: T) => boolean;
export const all = () => true;

/** Labels, descriptors and container records are kept as JSON text; times as epoch milliseconds. */
export const json = (x: unknown) => JSON.stringify(x);
export const date = (ms: unknown) => new Date(Number(ms));

export class Connection {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The file, for messages: a damaged file or a corrupt row is named. */
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.#db = new DatabaseSync(path);
  }

  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }

  /** Runs SQL text as it is (pragmas, the schema); errors are SQLite's own. */
  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /**
   * Runs `fn` in one transaction (nested calls join the outer one). A full disk is answered as
   * "write <this file>: no space left on device" (see sqliteTransaction).
   */
  transaction<T>(fn: () => T): T {
    if (this.#db.isTransaction) return fn();
    return sqliteTransaction(this.#db, this.path, fn);
  }

  /**
   * Each SQL text is prepared once and kept: preparing cost ~90 µs a call, paid by every lookup
   * (a Content.Read of one 32 KiB chunk made several). The texts are the tables' literals (or built
   * from their fixed table and column names), so the cache is bounded by the code; SQLite
   * re-prepares a kept statement itself after a schema change.
   */
  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  // SQLite's "database disk image is malformed" and "file is not a database" name no file: these
  // say which one.
  all(sql: string, ...args: SQLInputValue[]): Row[] {
    try {
      return this.#stmt(sql).all(...args) as Row[];
    } catch (err) {
      throw sqliteFault(this.path, err);
    }
  }
  get(sql: string, ...args: SQLInputValue[]): Row | undefined {
    try {
      return this.#stmt(sql).get(...args) as Row | undefined;
    } catch (err) {
      throw sqliteFault(this.path, err);
    }
  }
  /** Runs a change; returns how many rows it changed. */
  run(sql: string, ...args: SQLInputValue[]): number {
    try {
      return Number(this.#stmt(sql).run(...args).changes);
    } catch (err) {
      throw sqliteFault(this.path, err);
    }
  }

  /**
   * A row as read, checked: one that does not parse is reported as corrupt (file, table, key)
   * rather than failing later as a bare SyntaxError or a "not found".
   */
  checked(table: string, r: Row): Row {
    const problem = metaRowProblem(table, r);
    if (problem) throw corruptRow(this.path, table, r, problem);
    return r;
  }
}
