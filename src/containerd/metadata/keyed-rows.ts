// What every table keyed by (namespace, one column) does alike: find a row, list a namespace's
// rows, insert one that must be new, delete one that must exist; rows are checked as they are read
// (connection.ts) and missing or duplicate ones are named the way containerd names them.
import type { SQLInputValue } from "node:sqlite";
import { AlreadyExistsError, NotFoundError } from "../../common/errors.ts";
import { all, type Connection, type Predicate, type Row } from "./connection.ts";

export interface KeyedTable<T> {
  table: string;
  /** The key column beside `ns`. */
  key: string;
  /** The ORDER BY of a listing. */
  order: string;
  /** A checked row as the callers see it. */
  parse: (r: Row) => T;
  /** How messages name a row: `image "x"`, `lease x`. */
  name: (key: string) => string;
}

export class KeyedRows<T> {
  readonly #conn: Connection;
  readonly #t: KeyedTable<T>;
  // The texts, built once from the table's fixed names (see the statement cache in connection.ts).
  readonly #select: string;
  readonly #exists: string;
  readonly #list: string;
  readonly #delete: string;

  constructor(conn: Connection, t: KeyedTable<T>) {
    this.#conn = conn;
    this.#t = t;
    this.#select = `SELECT * FROM ${t.table} WHERE ns = ? AND ${t.key} = ?`;
    this.#exists = `SELECT 1 FROM ${t.table} WHERE ns = ? AND ${t.key} = ?`;
    this.#list = `SELECT * FROM ${t.table} WHERE ns = ? ORDER BY ${t.order}`;
    this.#delete = `DELETE FROM ${t.table} WHERE ns = ? AND ${t.key} = ?`;
  }

  #parse(r: Row): T {
    return this.#t.parse(this.#conn.checked(this.#t.table, r));
  }

  find(ns: string, key: string): T | undefined {
    const r = this.#conn.get(this.#select, ns, key);
    return r ? this.#parse(r) : undefined;
  }

  /** The row, or NotFoundError naming it. */
  get(ns: string, key: string): T {
    const found = this.find(ns, key);
    if (found === undefined) throw new NotFoundError(`${this.#t.name(key)}: not found`);
    return found;
  }

  /** NotFoundError unless the row exists (without reading it). */
  require(ns: string, key: string): void {
    if (!this.#conn.get(this.#exists, ns, key)) throw new NotFoundError(`${this.#t.name(key)}: not found`);
  }

  list(ns: string, match: Predicate<T> = all): T[] {
    return this.#conn
      .all(this.#list, ns)
      .map((r) => this.#parse(r))
      .filter(match);
  }

  /**
   * Inserts a new row (`values`: every column, in the table's order); AlreadyExistsError if the
   * key is taken. The caller holds the transaction.
   */
  insertNew(ns: string, key: string, values: SQLInputValue[]): void {
    if (this.#conn.get(this.#exists, ns, key)) throw new AlreadyExistsError(`${this.#t.name(key)}: already exists`);
    this.#conn.run(`INSERT INTO ${this.#t.table} VALUES (${values.map(() => "?").join(", ")})`, ...values);
  }

  /** Deletes the row; NotFoundError if there was none. */
  delete(ns: string, key: string): void {
    if (this.#conn.run(this.#delete, ns, key) === 0) throw new NotFoundError(`${this.#t.name(key)}: not found`);
  }
}
