// The snapshots table: a namespace's snapshot keys over the snapshotters' backend keys
// ("<ns>/<seq>/<key>", see validate.ts), with parent, kind and labels; and the sequence table that
// numbers each snapshotter's backend keys.
import type { SnapshotKind } from "../snapshots/snapshotter.ts";
import { all, type Connection, date, json, type Predicate, type Row } from "./connection.ts";
import type { LeasesTable } from "./leases-table.ts";
import type { NamespacesTable } from "./namespaces-table.ts";
import { backendKey, type Labels } from "./validate.ts";

export interface SnapshotRow {
  snapshotter: string;
  key: string;
  backendKey: string;
  parent: string;
  kind: SnapshotKind;
  labels: Labels;
  createdAt: Date;
  updatedAt: Date;
}

/** The row of the sequence table that numbers a snapshotter's backend keys. */
export const backendSequence = (snapshotter: string) => `snapshots/${snapshotter}`;

export class SnapshotsTable {
  readonly #conn: Connection;
  readonly #namespaces: NamespacesTable;
  readonly #leases: LeasesTable;

  constructor(conn: Connection, namespaces: NamespacesTable, leases: LeasesTable) {
    this.#conn = conn;
    this.#namespaces = namespaces;
    this.#leases = leases;
  }

  #parse(r: Row): SnapshotRow {
    this.#conn.checked("snapshots", r);
    return {
      snapshotter: String(r.snapshotter),
      key: String(r.key),
      backendKey: String(r.backend_key),
      parent: String(r.parent),
      kind: String(r.kind) as SnapshotKind,
      labels: JSON.parse(String(r.labels)) as Labels,
      createdAt: date(r.created),
      updatedAt: date(r.updated),
    };
  }

  get(ns: string, snapshotter: string, key: string): SnapshotRow | undefined {
    const r = this.#conn.get(
      "SELECT * FROM snapshots WHERE ns = ? AND snapshotter = ? AND key = ?",
      ns,
      snapshotter,
      key,
    );
    return r ? this.#parse(r) : undefined;
  }

  list(ns: string, snapshotter: string, match: Predicate<SnapshotRow> = all): SnapshotRow[] {
    return this.#conn
      .all("SELECT * FROM snapshots WHERE ns = ? AND snapshotter = ? ORDER BY key", ns, snapshotter)
      .map((r) => this.#parse(r))
      .filter(match);
  }

  /** How many snapshots of the namespace name `key` as their parent. */
  children(ns: string, snapshotter: string, key: string): number {
    return Number(
      this.#conn.get(
        "SELECT COUNT(*) AS n FROM snapshots WHERE ns = ? AND snapshotter = ? AND parent = ?",
        ns,
        snapshotter,
        key,
      )!.n,
    );
  }

  /** A backend name for the namespace's new snapshot `key`, on the snapshotter's own sequence. */
  newBackendKey(ns: string, snapshotter: string, key: string): string {
    const name = backendSequence(snapshotter);
    const seq = this.#conn.transaction(() => {
      this.#conn.run("INSERT INTO sequence VALUES (?, 0) ON CONFLICT(name) DO NOTHING", name);
      this.#conn.run("UPDATE sequence SET value = value + 1 WHERE name = ?", name);
      return Number(this.#conn.get("SELECT value FROM sequence WHERE name = ?", name)!.value);
    });
    return backendKey(ns, seq, key);
  }

  insert(ns: string, row: Omit<SnapshotRow, "createdAt" | "updatedAt">, lease?: string): void {
    this.#conn.transaction(() => {
      this.#namespaces.ensure(ns);
      const now = Date.now();
      this.#conn.run(
        "INSERT INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ns,
        row.snapshotter,
        row.key,
        row.backendKey,
        row.parent,
        row.kind,
        json(row.labels),
        now,
        now,
      );
      if (lease) this.#leases.addResource(ns, lease, { type: `snapshots/${row.snapshotter}`, id: row.key });
    });
  }

  setLabels(ns: string, snapshotter: string, key: string, labels: Labels): void {
    this.#conn.run(
      "UPDATE snapshots SET labels = ?, updated = ? WHERE ns = ? AND snapshotter = ? AND key = ?",
      json(labels),
      Date.now(),
      ns,
      snapshotter,
      key,
    );
  }

  delete(ns: string, snapshotter: string, key: string): void {
    this.#conn.run("DELETE FROM snapshots WHERE ns = ? AND snapshotter = ? AND key = ?", ns, snapshotter, key);
  }

  /** Every backend key any namespace refers to, for one snapshotter. */
  referencedBackendKeys(snapshotter: string): Set<string> {
    return new Set(
      this.#conn
        .all("SELECT backend_key FROM snapshots WHERE snapshotter = ?", snapshotter)
        .map((r) => String(r.backend_key)),
    );
  }

  /** Every snapshot's parent and labels, for the garbage collector's graph. */
  gcRows(): { ns: string; snapshotter: string; key: string; parent: string; labels: Labels }[] {
    return this.#conn
      .all("SELECT ns, snapshotter, key, parent, labels FROM snapshots")
      .map((r) => this.#conn.checked("snapshots", r))
      .map((r) => ({
        ns: String(r.ns),
        snapshotter: String(r.snapshotter),
        key: String(r.key),
        parent: String(r.parent),
        labels: JSON.parse(String(r.labels)) as Labels,
      }));
  }
}
