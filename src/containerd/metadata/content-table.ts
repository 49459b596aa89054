// The content table: which namespace sees which blob, with its labels. The blobs themselves are in
// the content store; a blob no row names is the collector's.
import { all, type Connection, date, json, type Predicate, type Row } from "./connection.ts";
import { KeyedRows, type KeyedTable } from "./keyed-rows.ts";
import type { LeasesTable } from "./leases-table.ts";
import type { NamespacesTable } from "./namespaces-table.ts";
import { type Labels, labelPathsOnly, maskedLabels, validateLabels } from "./validate.ts";

export interface ContentRow {
  digest: string;
  labels: Labels;
  createdAt: Date;
  updatedAt: Date;
}

/** The content table's rows, keyed by digest. */
const CONTENT: KeyedTable<ContentRow> = {
  table: "content",
  key: "digest",
  order: "digest",
  name: (digest) => `content digest ${digest}`,
  parse: (r: Row) => ({
    digest: String(r.digest),
    labels: JSON.parse(String(r.labels)) as Labels,
    createdAt: date(r.created),
    updatedAt: date(r.updated),
  }),
};

export class ContentTable {
  readonly #conn: Connection;
  readonly #namespaces: NamespacesTable;
  readonly #leases: LeasesTable;
  readonly #rows: KeyedRows<ContentRow>;

  constructor(conn: Connection, namespaces: NamespacesTable, leases: LeasesTable) {
    this.#conn = conn;
    this.#namespaces = namespaces;
    this.#leases = leases;
    this.#rows = new KeyedRows(conn, CONTENT);
  }

  /** The namespace's row for the blob, or undefined when the namespace does not see it. */
  get(ns: string, digest: string): ContentRow | undefined {
    return this.#rows.find(ns, digest);
  }

  list(ns: string, match: Predicate<ContentRow> = all): ContentRow[] {
    return this.#rows.list(ns, match);
  }

  #setLabels(ns: string, digest: string, labels: Labels, now = Date.now()): void {
    this.#conn.run(
      "UPDATE content SET labels = ?, updated = ? WHERE ns = ? AND digest = ?",
      json(labels),
      now,
      ns,
      digest,
    );
  }

  /** Adds the blob to the namespace (merging labels when it is there already). */
  put(ns: string, digest: string, labels: Labels, lease?: string): ContentRow {
    validateLabels(labels);
    return this.#conn.transaction(() => {
      this.#namespaces.ensure(ns);
      const now = Date.now();
      const cur = this.get(ns, digest);
      if (cur) this.#setLabels(ns, digest, { ...cur.labels, ...labels }, now);
      else this.#conn.run("INSERT INTO content VALUES (?, ?, ?, ?, ?)", ns, digest, json(labels), now, now);
      if (lease) this.#leases.addResource(ns, lease, { type: "content", id: digest });
      return this.get(ns, digest)!;
    });
  }

  updateLabels(ns: string, digest: string, labels: Labels, paths: string[]): ContentRow {
    validateLabels(labels);
    return this.#conn.transaction(() => {
      const cur = this.#rows.get(ns, digest);
      labelPathsOnly(paths, `content info ${digest}`);
      this.#setLabels(ns, digest, maskedLabels(cur.labels, labels, paths));
      return this.get(ns, digest)!;
    });
  }

  delete(ns: string, digest: string): void {
    this.#rows.delete(ns, digest);
  }

  /** Every digest some namespace sees. */
  referencedDigests(): Set<string> {
    return new Set(this.#conn.all("SELECT DISTINCT digest FROM content").map((r) => String(r.digest)));
  }

  /** Every content row's labels, for the garbage collector's graph. */
  gcRows(): { ns: string; digest: string; labels: Labels }[] {
    return this.#conn
      .all("SELECT ns, digest, labels FROM content")
      .map((r) => this.#conn.checked("content", r))
      .map((r) => ({ ns: String(r.ns), digest: String(r.digest), labels: JSON.parse(String(r.labels)) as Labels }));
  }
}
