// The leases and lease_resources tables: a lease keeps what it names (blobs, ingests, snapshots)
// from the collector until it is deleted or expires (gc.ts reads its gc.expire label).
import { InvalidArgumentError } from "../../common/errors.ts";
import { all, type Connection, date, json, type Predicate, type Row } from "./connection.ts";
import { KeyedRows, type KeyedTable } from "./keyed-rows.ts";
import type { NamespacesTable } from "./namespaces-table.ts";
import { type Labels, LEASE_RESOURCE_TYPE, validateLabels } from "./validate.ts";

export interface LeaseRecord {
  id: string;
  labels: Labels;
  createdAt: Date;
}

export interface LeaseResource {
  id: string;
  type: string;
}

/** The leases table's rows, keyed by id, listed oldest first. */
const LEASES: KeyedTable<LeaseRecord> = {
  table: "leases",
  key: "id",
  order: "created",
  name: (id) => `lease ${id}`,
  parse: (r: Row) => ({
    id: String(r.id),
    labels: JSON.parse(String(r.labels)) as Labels,
    createdAt: date(r.created),
  }),
};

export class LeasesTable {
  readonly #conn: Connection;
  readonly #namespaces: NamespacesTable;
  readonly #rows: KeyedRows<LeaseRecord>;

  constructor(conn: Connection, namespaces: NamespacesTable) {
    this.#conn = conn;
    this.#namespaces = namespaces;
    this.#rows = new KeyedRows(conn, LEASES);
  }

  create(ns: string, id: string, labels: Labels): LeaseRecord {
    // containerd does not hold lease ids to the identifier rule (ctr's random ids end in "_").
    if (id === "" || id.length > 256 || /[\x00-\x1f/]/.test(id))
      throw new InvalidArgumentError(`invalid lease id ${JSON.stringify(id)}`);
    validateLabels(labels);
    return this.#conn.transaction(() => {
      this.#namespaces.ensure(ns);
      const now = Date.now();
      this.#rows.insertNew(ns, id, [ns, id, json(labels), now]);
      return { id, labels, createdAt: new Date(now) };
    });
  }

  get(ns: string, id: string): LeaseRecord {
    return this.#rows.get(ns, id);
  }

  list(ns: string, match: Predicate<LeaseRecord> = all): LeaseRecord[] {
    return this.#rows.list(ns, match);
  }

  /** Deletes the lease and its resources (what they name is left to the collector). */
  delete(ns: string, id: string): void {
    this.#conn.transaction(() => {
      this.#rows.delete(ns, id);
      this.#conn.run("DELETE FROM lease_resources WHERE ns = ? AND lease = ?", ns, id);
    });
  }

  addResource(ns: string, lease: string, r: LeaseResource): void {
    if (!r.id || !LEASE_RESOURCE_TYPE.test(r.type)) {
      throw new InvalidArgumentError(`invalid lease resource ${JSON.stringify(r)}`);
    }
    this.#conn.transaction(() => {
      this.#rows.require(ns, lease);
      this.#conn.run("INSERT INTO lease_resources VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", ns, lease, r.type, r.id);
    });
  }

  deleteResource(ns: string, lease: string, r: LeaseResource): void {
    this.#conn.transaction(() => {
      this.#rows.require(ns, lease);
      this.#conn.run(
        "DELETE FROM lease_resources WHERE ns = ? AND lease = ? AND type = ? AND rid = ?",
        ns,
        lease,
        r.type,
        r.id,
      );
    });
  }

  listResources(ns: string, lease: string): LeaseResource[] {
    this.#rows.require(ns, lease);
    return this.#conn
      .all("SELECT type, rid FROM lease_resources WHERE ns = ? AND lease = ? ORDER BY type, rid", ns, lease)
      .map((r) => ({ type: String(r.type), id: String(r.rid) }));
  }

  /** Every lease, for the garbage collector's graph. */
  gcRows(): { ns: string; id: string; labels: Labels }[] {
    return this.#conn
      .all("SELECT ns, id, labels FROM leases")
      .map((r) => this.#conn.checked("leases", r))
      .map((r) => ({ ns: String(r.ns), id: String(r.id), labels: JSON.parse(String(r.labels)) as Labels }));
  }

  /** Every lease's resources, for the garbage collector's graph. */
  gcResourceRows(): { ns: string; lease: string; type: string; id: string }[] {
    return this.#conn
      .all("SELECT ns, lease, type, rid FROM lease_resources")
      .map((r) => this.#conn.checked("lease_resources", r))
      .map((r) => ({ ns: String(r.ns), lease: String(r.lease), type: String(r.type), id: String(r.rid) }));
  }
}
