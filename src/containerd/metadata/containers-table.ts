// The containers table: containerd's container records (spec, runtime, snapshot, extensions,
// labels), one JSON record per row. containerd's validation holds on create and after every update.
import { InvalidArgumentError } from "../../common/errors.ts";
import { all, type Connection, date, json, type Predicate, type Row } from "./connection.ts";
import { KeyedRows, type KeyedTable } from "./keyed-rows.ts";
import type { NamespacesTable } from "./namespaces-table.ts";
import { type Labels, validateIdentifier, validateLabels } from "./validate.ts";

export interface AnyValue {
  typeUrl: string;
  value: Uint8Array;
}

/** A container in a namespace of the metadata database (the Containers API's record). */
export interface ContainerMetadata {
  id: string;
  labels: Labels;
  image: string;
  runtime: { name: string; options?: AnyValue };
  spec?: AnyValue;
  snapshotter: string;
  snapshotKey: string;
  extensions: Record<string, AnyValue>;
  /** The sandbox the container belongs to ("" for none); set at creation only. */
  sandbox?: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A container as a client writes it: the database sets the times. */
export type NewContainer = Omit<ContainerMetadata, "createdAt" | "updatedAt">;

/** containerd's validation of a container record, on create and after every update. */
function validateContainer(c: NewContainer): void {
  validateIdentifier("container id", c.id);
  for (const k of Object.keys(c.extensions)) {
    if (k === "") throw new InvalidArgumentError(`container "${c.id}": extension keys must not be empty`);
  }
  validateLabels(c.labels);
  if (!c.runtime.name) throw new InvalidArgumentError(`container "${c.id}": must specify a runtime name`);
  if (!c.spec) throw new InvalidArgumentError(`container "${c.id}": spec must not be empty`);
  if (c.snapshotKey && !c.snapshotter) {
    throw new InvalidArgumentError(`container "${c.id}": snapshotter must be set when snapshot key is set`);
  }
}

// An Any is kept as { typeUrl, value: base64 }.
function anyToJson(a: AnyValue | undefined): unknown {
  return a ? { typeUrl: a.typeUrl, value: Buffer.from(a.value).toString("base64") } : null;
}
function anyFromJson(x: unknown): AnyValue | undefined {
  if (!x || typeof x !== "object") return undefined;
  const o = x as { typeUrl: string; value: string };
  return { typeUrl: o.typeUrl, value: new Uint8Array(Buffer.from(o.value, "base64")) };
}

function fromRow(r: Row): ContainerMetadata {
  const o = JSON.parse(String(r.record)) as Record<string, unknown>;
  const rt = o.runtime as { name: string; options: unknown };
  const ext: Record<string, AnyValue> = {};
  for (const [k, v] of Object.entries((o.extensions as Record<string, unknown>) ?? {})) {
    const a = anyFromJson(v);
    if (a) ext[k] = a;
  }
  return {
    id: String(r.id),
    labels: o.labels as Labels,
    image: String(o.image ?? ""),
    runtime: { name: rt.name, options: anyFromJson(rt.options) },
    spec: anyFromJson(o.spec),
    snapshotter: String(o.snapshotter ?? ""),
    snapshotKey: String(o.snapshotKey ?? ""),
    extensions: ext,
    sandbox: String(o.sandbox ?? ""),
    createdAt: date(r.created),
    updatedAt: date(r.updated),
  };
}

/** The row's `record` column: everything but the id and the times. */
function recordJson(c: NewContainer): string {
  return json({
    labels: c.labels,
    image: c.image,
    runtime: { name: c.runtime.name, options: anyToJson(c.runtime.options) },
    spec: anyToJson(c.spec),
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    extensions: Object.fromEntries(Object.entries(c.extensions).map(([k, v]) => [k, anyToJson(v)])),
    sandbox: c.sandbox ?? "",
  });
}

/** The containers table's rows, keyed by id. */
const CONTAINERS: KeyedTable<ContainerMetadata> = {
  table: "containers",
  key: "id",
  order: "id",
  name: (id) => `container "${id}"`,
  parse: fromRow,
};

export class ContainersTable {
  readonly #conn: Connection;
  readonly #namespaces: NamespacesTable;
  readonly #rows: KeyedRows<ContainerMetadata>;

  constructor(conn: Connection, namespaces: NamespacesTable) {
    this.#conn = conn;
    this.#namespaces = namespaces;
    this.#rows = new KeyedRows(conn, CONTAINERS);
  }

  get(ns: string, id: string): ContainerMetadata {
    return this.#rows.get(ns, id);
  }

  list(ns: string, match: Predicate<ContainerMetadata> = all): ContainerMetadata[] {
    return this.#rows.list(ns, match);
  }

  create(ns: string, c: NewContainer): ContainerMetadata {
    validateContainer(c);
    return this.#conn.transaction(() => {
      this.#namespaces.ensure(ns);
      const now = Date.now();
      this.#rows.insertNew(ns, c.id, [ns, c.id, recordJson(c), now, now]);
      return this.get(ns, c.id);
    });
  }

  /**
   * containerd's update: no paths replaces labels, spec, extensions, image and snapshot key (and
   * refuses a different runtime or snapshotter); runtime, snapshotter and sandbox never change.
   */
  update(ns: string, c: NewContainer, paths: string[]): ContainerMetadata {
    return this.#conn.transaction(() => {
      const cur = this.get(ns, c.id);
      if (paths.length === 0) {
        if (c.snapshotter !== cur.snapshotter)
          throw new InvalidArgumentError(`container "${c.id}": snapshotter field is immutable`);
        if (c.runtime.name !== cur.runtime.name)
          throw new InvalidArgumentError(`container "${c.id}": runtime name field is immutable`);
        paths = ["labels", "spec", "extensions", "image", "snapshotkey"];
      }
      const next: ContainerMetadata = { ...cur, labels: { ...cur.labels }, extensions: { ...cur.extensions } };
      for (const p of paths) {
        if (p.startsWith("labels.")) {
          const k = p.slice(7);
          const v = c.labels[k];
          if (v) next.labels[k] = v;
          else delete next.labels[k];
        } else if (p.startsWith("extensions.")) {
          const k = p.slice(11);
          const v = c.extensions[k];
          if (v) next.extensions[k] = v;
          else delete next.extensions[k];
        } else if (p === "labels") next.labels = { ...c.labels };
        else if (p === "spec") next.spec = c.spec;
        else if (p === "extensions") next.extensions = { ...c.extensions };
        else if (p === "image") next.image = c.image;
        else if (p === "snapshotkey") next.snapshotKey = c.snapshotKey;
        else
          throw new InvalidArgumentError(
            `cannot update ${JSON.stringify(p)} field on container ${JSON.stringify(c.id)}`,
          );
      }
      validateContainer(next);
      this.#conn.run(
        "UPDATE containers SET record = ?, updated = ? WHERE ns = ? AND id = ?",
        recordJson(next),
        Date.now(),
        ns,
        c.id,
      );
      return this.get(ns, c.id);
    });
  }

  delete(ns: string, id: string): void {
    this.#rows.delete(ns, id);
  }

  /** Every container's labels and snapshot, for the garbage collector's graph. */
  gcRows(): { ns: string; labels: Labels; snapshotter: string; snapshotKey: string }[] {
    return this.#conn
      .all("SELECT ns, record FROM containers")
      .map((r) => this.#conn.checked("containers", r))
      .map((r) => {
        const o = JSON.parse(String(r.record)) as { labels: Labels; snapshotter: string; snapshotKey: string };
        return { ns: String(r.ns), labels: o.labels, snapshotter: o.snapshotter, snapshotKey: o.snapshotKey };
      });
  }
}
