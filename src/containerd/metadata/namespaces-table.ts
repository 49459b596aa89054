// The namespaces table. A namespace exists once anything is written in it (ensure), or when a
// client creates it with labels; it can be deleted only once it holds nothing.
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../../common/errors.ts";
import { all, type Connection, json, type Predicate } from "./connection.ts";
import { type Labels, maskedLabels, validateIdentifier, validateLabels } from "./validate.ts";

export interface NamespaceRow {
  name: string;
  labels: Labels;
}

/** The tables whose rows belong to a namespace, and what a refused deletion says it still has. */
const NAMESPACED_TABLES = ["images", "containers", "leases", "content", "snapshots"] as const;

export class NamespacesTable {
  readonly #conn: Connection;

  constructor(conn: Connection) {
    this.#conn = conn;
  }

  #labels(row: Record<string, unknown>): Labels {
    return JSON.parse(String(this.#conn.checked("namespaces", row).labels)) as Labels;
  }

  /** Makes the namespace if it is not there (every write into a namespace does). */
  ensure(ns: string): void {
    validateIdentifier("namespace", ns);
    this.#conn.run("INSERT INTO namespaces VALUES (?, '{}', ?) ON CONFLICT(name) DO NOTHING", ns, Date.now());
  }

  create(ns: string, labels: Labels): void {
    validateIdentifier("namespace", ns);
    validateLabels(labels);
    this.#conn.transaction(() => {
      if (this.#conn.get("SELECT 1 FROM namespaces WHERE name = ?", ns))
        throw new AlreadyExistsError(`namespace ${ns}: already exists`);
      this.#conn.run("INSERT INTO namespaces VALUES (?, ?, ?)", ns, json(labels), Date.now());
    });
  }

  /** Labels of a namespace; an unknown namespace has none (containerd answers so too). */
  labels(ns: string): Labels {
    const row = this.#conn.get("SELECT name, labels FROM namespaces WHERE name = ?", ns);
    return row ? this.#labels(row) : {};
  }

  list(match: Predicate<NamespaceRow> = all): NamespaceRow[] {
    return this.#conn
      .all("SELECT name, labels FROM namespaces ORDER BY name")
      .map((r) => ({ name: String(r.name), labels: this.#labels(r) }))
      .filter(match);
  }

  update(ns: string, labels: Labels, paths: string[]): Labels {
    validateLabels(labels);
    return this.#conn.transaction(() => {
      const row = this.#conn.get("SELECT name, labels FROM namespaces WHERE name = ?", ns);
      if (!row) throw new NotFoundError(`namespace ${ns}: not found`);
      const next = maskedLabels(this.#labels(row), labels, paths);
      this.#conn.run("UPDATE namespaces SET labels = ? WHERE name = ?", json(next), ns);
      return next;
    });
  }

  delete(ns: string): void {
    this.#conn.transaction(() => {
      if (!this.#conn.get("SELECT 1 FROM namespaces WHERE name = ?", ns))
        throw new NotFoundError(`namespace ${ns}: not found`);
      for (const table of NAMESPACED_TABLES) {
        if (this.#conn.get(`SELECT 1 FROM ${table} WHERE ns = ? LIMIT 1`, ns)) {
          throw new FailedPreconditionError(`namespace ${ns} must be empty, but it still has ${table}`);
        }
      }
      this.#conn.run("DELETE FROM namespaces WHERE name = ?", ns);
    });
  }

  /** Every namespace's name, for the garbage collector's graph. */
  gcRows(): string[] {
    return this.#conn
      .all("SELECT name FROM namespaces")
      .map((r) => this.#conn.checked("namespaces", r))
      .map((r) => String(r.name));
  }
}
