// The metadata database: every namespaced record of the daemon in one SQLite file (WAL, one
// transaction per change), the role containerd's bolt database plays. Blobs and snapshot
// directories live in the content store and snapshotters; this holds which namespace sees them,
// their labels, images, containers and leases. A namespace exists once anything is written in it.
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "../../common/errors.ts";
import { sqliteTransaction } from "../../common/storage-errors.ts";
import type { SnapshotKind } from "../snapshots/snapshotter.ts";
import { corruptRow, metaRowProblem, sqliteFault } from "./corrupt.ts";

export type Labels = Record<string, string>;

export interface AnyValue {
  typeUrl: string;
  value: Uint8Array;
}

export interface DescriptorRecord {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Labels;
}

/** An image in a namespace of the metadata database (the Images API's record). */
export interface ImageMetadata {
  name: string;
  labels: Labels;
  target: DescriptorRecord;
  createdAt: Date;
  updatedAt: Date;
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

export interface LeaseRecord {
  id: string;
  labels: Labels;
  createdAt: Date;
}

export interface LeaseResource {
  id: string;
  type: string;
}

export interface ContentRow {
  digest: string;
  labels: Labels;
  createdAt: Date;
  updatedAt: Date;
}

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

// containerd's identifier rule for namespaces and container ids.
const IDENTIFIER = /^[A-Za-z0-9]+(?:[._-](?:[A-Za-z0-9]+))*$/;
const MAX_LABEL = 4096;

export function validateIdentifier(kind: string, id: string): string {
  if (id === "") throw new InvalidArgumentError(`${kind} name must not be empty`);
  if (id.length > 76) throw new InvalidArgumentError(`${kind} ${JSON.stringify(id)} is longer than 76 characters`);
  if (!IDENTIFIER.test(id))
    throw new InvalidArgumentError(`${kind} ${JSON.stringify(id)} must match ${IDENTIFIER.source}`);
  return id;
}

export function validateLabels(labels: Labels): Labels {
  for (const [k, v] of Object.entries(labels)) {
    if (k === "") throw new InvalidArgumentError("label key must not be empty");
    // containerd counts bytes, not characters.
    const total = Buffer.byteLength(k) + Buffer.byteLength(v);
    if (total > MAX_LABEL) {
      throw new InvalidArgumentError(
        `label key and value length (${total} bytes) greater than maximum size (${MAX_LABEL} bytes), key: ${k.slice(0, 64)}`,
      );
    }
  }
  return labels;
}

/** containerd's validation of a container record, on create and after every update. */
function validateContainer(c: Omit<ContainerMetadata, "createdAt" | "updatedAt">): void {
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

/**
 * Applies containerd's update-mask semantics to labels: "labels" replaces them all, "labels.k"
 * sets (or, with an empty value, removes) one; no paths means replace all.
 */
export function maskedLabels(current: Labels, incoming: Labels, paths: string[]): Labels {
  if (paths.length === 0 || paths.includes("labels")) return { ...incoming };
  const out = { ...current };
  for (const p of paths) {
    if (!p.startsWith("labels.")) continue;
    const k = p.slice(7);
    const v = incoming[k];
    if (v === undefined || v === "") delete out[k];
    else out[k] = v;
  }
  return out;
}

/** A filter the gRPC layer built from containerd's filter syntax; the store only applies it. */
export type Predicate<T> = (item: T) => boolean;
const all = () => true;

/**
 * The schema this code writes; a database from a newer berth is refused rather than misread.
 * 2: a snapshot's backend key is unique per snapshotter, not across them (each snapshotter
 * numbers its keys on its own sequence, so two of them unpacking one image met on one key).
 */
const SCHEMA_VERSION = 2;

/** The snapshots table; `name` lets a migration build it beside the old one. */
const snapshotsTable = (name: string) => `
  CREATE TABLE IF NOT EXISTS ${name} (ns TEXT, snapshotter TEXT, key TEXT, backend_key TEXT NOT NULL,
    parent TEXT NOT NULL, kind TEXT NOT NULL, labels TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (ns, snapshotter, key), UNIQUE (snapshotter, backend_key));`;

/**
 * The tables and columns this schema has, for the start-up check (integrity.ts) and the repair
 * command, which must recognise a database of this daemon before trusting or salvaging it.
 */
export const META_TABLES: Readonly<Record<string, readonly string[]>> = {
  schema_version: ["version"],
  namespaces: ["name", "labels", "created"],
  images: ["ns", "name", "target", "labels", "created", "updated"],
  containers: ["ns", "id", "record", "created", "updated"],
  leases: ["ns", "id", "labels", "created"],
  lease_resources: ["ns", "lease", "type", "rid"],
  content: ["ns", "digest", "labels", "created", "updated"],
  snapshots: ["ns", "snapshotter", "key", "backend_key", "parent", "kind", "labels", "created", "updated"],
  sequence: ["name", "value"],
};

const json = (x: unknown) => JSON.stringify(x);
const date = (ms: unknown) => new Date(Number(ms));

function anyToJson(a: AnyValue | undefined): unknown {
  return a ? { typeUrl: a.typeUrl, value: Buffer.from(a.value).toString("base64") } : null;
}
function anyFromJson(x: unknown): AnyValue | undefined {
  if (!x || typeof x !== "object") return undefined;
  const o = x as { typeUrl: string; value: string };
  return { typeUrl: o.typeUrl, value: new Uint8Array(Buffer.from(o.value, "base64")) };
}

export class MetadataDB {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  /** The file, for messages: a damaged file or a corrupt row is named. */
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.#db = new DatabaseSync(path);
    try {
      this.#init();
    } catch (err) {
      if (this.#db.isOpen) this.#db.close();
      throw sqliteFault(path, err);
    }
  }

  #init(): void {
    const path = this.path;
    this.#db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, labels TEXT NOT NULL, created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS images (ns TEXT, name TEXT, target TEXT NOT NULL, labels TEXT NOT NULL,
        created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (ns, name));
      CREATE TABLE IF NOT EXISTS containers (ns TEXT, id TEXT, record TEXT NOT NULL,
        created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (ns, id));
      CREATE TABLE IF NOT EXISTS leases (ns TEXT, id TEXT, labels TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (ns, id));
      CREATE TABLE IF NOT EXISTS lease_resources (ns TEXT, lease TEXT, type TEXT, rid TEXT, PRIMARY KEY (ns, lease, type, rid));
      CREATE TABLE IF NOT EXISTS content (ns TEXT, digest TEXT, labels TEXT NOT NULL,
        created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (ns, digest));
      ${snapshotsTable("snapshots")}
      CREATE TABLE IF NOT EXISTS sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    const v = this.#db.prepare("SELECT version FROM schema_version").get() as { version: number } | undefined;
    if (!v) this.#db.prepare("INSERT INTO schema_version VALUES (?)").run(SCHEMA_VERSION);
    else if (Number(v.version) > SCHEMA_VERSION) {
      throw new FailedPreconditionError(
        `metadata database ${path}: schema version ${v.version} is newer than this daemon's (${SCHEMA_VERSION})`,
      );
    } else if (Number(v.version) < 2) this.#migrateToV2();
  }

  /** Version 1 had backend_key unique across snapshotters: the table is rebuilt, rows kept. */
  #migrateToV2(): void {
    this.transaction(() => {
      this.#db.exec(`
        ${snapshotsTable("snapshots_v2")}
        INSERT INTO snapshots_v2 SELECT ns, snapshotter, key, backend_key, parent, kind, labels, created, updated FROM snapshots;
        DROP TABLE snapshots;
        ALTER TABLE snapshots_v2 RENAME TO snapshots;
        UPDATE schema_version SET version = 2;
      `);
    });
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
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
   * (a Content.Read of one 32 KiB chunk made several). The texts are this file's literals, so the
   * cache is bounded by the code; SQLite re-prepares a kept statement itself after a schema change.
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
  #all(sql: string, ...args: SQLInputValue[]): Record<string, unknown>[] {
    try {
      return this.#stmt(sql).all(...args) as Record<string, unknown>[];
    } catch (err) {
      throw sqliteFault(this.path, err);
    }
  }
  #get(sql: string, ...args: SQLInputValue[]): Record<string, unknown> | undefined {
    try {
      return this.#stmt(sql).get(...args) as Record<string, unknown> | undefined;
    } catch (err) {
      throw sqliteFault(this.path, err);
    }
  }
  #run(sql: string, ...args: SQLInputValue[]): number {
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
  #checked(table: string, r: Record<string, unknown>): Record<string, unknown> {
    const problem = metaRowProblem(table, r);
    if (problem) throw corruptRow(this.path, table, r, problem);
    return r;
  }

  nextSequence(name: string): number {
    return this.transaction(() => {
      this.#run("INSERT INTO sequence VALUES (?, 0) ON CONFLICT(name) DO NOTHING", name);
      this.#run("UPDATE sequence SET value = value + 1 WHERE name = ?", name);
      return Number(this.#get("SELECT value FROM sequence WHERE name = ?", name)!.value);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Namespaces

  ensureNamespace(ns: string): void {
    validateIdentifier("namespace", ns);
    this.#run("INSERT INTO namespaces VALUES (?, '{}', ?) ON CONFLICT(name) DO NOTHING", ns, Date.now());
  }

  createNamespace(ns: string, labels: Labels): void {
    validateIdentifier("namespace", ns);
    validateLabels(labels);
    this.transaction(() => {
      if (this.#get("SELECT 1 FROM namespaces WHERE name = ?", ns))
        throw new AlreadyExistsError(`namespace ${ns}: already exists`);
      this.#run("INSERT INTO namespaces VALUES (?, ?, ?)", ns, json(labels), Date.now());
    });
  }

  /** Labels of a namespace; an unknown namespace has none (containerd answers so too). */
  namespaceLabels(ns: string): Labels {
    const row = this.#get("SELECT name, labels FROM namespaces WHERE name = ?", ns);
    return row ? (JSON.parse(String(this.#checked("namespaces", row).labels)) as Labels) : {};
  }

  listNamespaces(match: Predicate<{ name: string; labels: Labels }> = all): { name: string; labels: Labels }[] {
    return this.#all("SELECT name, labels FROM namespaces ORDER BY name")
      .map((r) => this.#checked("namespaces", r))
      .map((r) => ({
        name: String(r.name),
        labels: JSON.parse(String(r.labels)) as Labels,
      }))
      .filter(match);
  }

  updateNamespace(ns: string, labels: Labels, paths: string[]): Labels {
    validateLabels(labels);
    return this.transaction(() => {
      const row = this.#get("SELECT name, labels FROM namespaces WHERE name = ?", ns);
      if (!row) throw new NotFoundError(`namespace ${ns}: not found`);
      const next = maskedLabels(JSON.parse(String(this.#checked("namespaces", row).labels)) as Labels, labels, paths);
      this.#run("UPDATE namespaces SET labels = ? WHERE name = ?", json(next), ns);
      return next;
    });
  }

  deleteNamespace(ns: string): void {
    this.transaction(() => {
      if (!this.#get("SELECT 1 FROM namespaces WHERE name = ?", ns))
        throw new NotFoundError(`namespace ${ns}: not found`);
      for (const [table, what] of [
        ["images", "images"],
        ["containers", "containers"],
        ["leases", "leases"],
        ["content", "content"],
        ["snapshots", "snapshots"],
      ] as const) {
        if (this.#get(`SELECT 1 FROM ${table} WHERE ns = ? LIMIT 1`, ns)) {
          throw new FailedPreconditionError(`namespace ${ns} must be empty, but it still has ${what}`);
        }
      }
      this.#run("DELETE FROM namespaces WHERE name = ?", ns);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Images

  #image(r: Record<string, unknown>): ImageMetadata {
    this.#checked("images", r);
    return {
      name: String(r.name),
      labels: JSON.parse(String(r.labels)) as Labels,
      target: JSON.parse(String(r.target)) as DescriptorRecord,
      createdAt: date(r.created),
      updatedAt: date(r.updated),
    };
  }

  getImage(ns: string, name: string): ImageMetadata {
    const r = this.#get("SELECT * FROM images WHERE ns = ? AND name = ?", ns, name);
    if (!r) throw new NotFoundError(`image "${name}": not found`);
    return this.#image(r);
  }

  listImages(ns: string, match: Predicate<ImageMetadata> = all): ImageMetadata[] {
    return this.#all("SELECT * FROM images WHERE ns = ? ORDER BY name", ns)
      .map((r) => this.#image(r))
      .filter(match);
  }

  createImage(ns: string, image: Omit<ImageMetadata, "createdAt" | "updatedAt">): ImageMetadata {
    validateImage(image);
    return this.transaction(() => {
      this.ensureNamespace(ns);
      if (this.#get("SELECT 1 FROM images WHERE ns = ? AND name = ?", ns, image.name)) {
        throw new AlreadyExistsError(`image "${image.name}": already exists`);
      }
      const now = Date.now();
      this.#run(
        "INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)",
        ns,
        image.name,
        json(image.target),
        json(image.labels),
        now,
        now,
      );
      return this.getImage(ns, image.name);
    });
  }

  updateImage(ns: string, image: Omit<ImageMetadata, "createdAt" | "updatedAt">, paths: string[]): ImageMetadata {
    return this.transaction(() => {
      const cur = this.getImage(ns, image.name);
      let { target, labels } = cur;
      if (paths.length === 0) {
        validateImage(image);
        target = image.target;
        labels = image.labels;
      } else {
        for (const p of paths) {
          if (p === "target") target = image.target;
          else if (p === "annotations") target = { ...target, annotations: image.target.annotations };
          else if (p.startsWith("annotations.")) {
            const k = p.slice(12);
            const annotations = { ...target.annotations };
            const v = image.target.annotations[k];
            if (v) annotations[k] = v;
            else delete annotations[k];
            target = { ...target, annotations };
          } else if (p === "labels" || p.startsWith("labels.")) continue;
          else
            throw new InvalidArgumentError(
              `cannot update ${JSON.stringify(p)} field on image ${JSON.stringify(image.name)}`,
            );
        }
        labels = maskedLabels(
          cur.labels,
          image.labels,
          paths.filter((p) => p === "labels" || p.startsWith("labels.")),
        );
        if (!paths.some((p) => p === "labels" || p.startsWith("labels."))) labels = cur.labels;
        validateImage({ name: image.name, target, labels });
      }
      this.#run(
        "UPDATE images SET target = ?, labels = ?, updated = ? WHERE ns = ? AND name = ?",
        json(target),
        json(labels),
        Date.now(),
        ns,
        image.name,
      );
      return this.getImage(ns, image.name);
    });
  }

  deleteImage(ns: string, name: string): void {
    if (this.#run("DELETE FROM images WHERE ns = ? AND name = ?", ns, name) === 0) {
      throw new NotFoundError(`image "${name}": not found`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Containers

  #container(r: Record<string, unknown>): ContainerMetadata {
    this.#checked("containers", r);
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

  #containerJson(c: Omit<ContainerMetadata, "createdAt" | "updatedAt">): string {
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

  getContainer(ns: string, id: string): ContainerMetadata {
    const r = this.#get("SELECT * FROM containers WHERE ns = ? AND id = ?", ns, id);
    if (!r) throw new NotFoundError(`container "${id}": not found`);
    return this.#container(r);
  }

  listContainers(ns: string, match: Predicate<ContainerMetadata> = all): ContainerMetadata[] {
    return this.#all("SELECT * FROM containers WHERE ns = ? ORDER BY id", ns)
      .map((r) => this.#container(r))
      .filter(match);
  }

  createContainer(ns: string, c: Omit<ContainerMetadata, "createdAt" | "updatedAt">): ContainerMetadata {
    validateContainer(c);
    return this.transaction(() => {
      this.ensureNamespace(ns);
      if (this.#get("SELECT 1 FROM containers WHERE ns = ? AND id = ?", ns, c.id)) {
        throw new AlreadyExistsError(`container "${c.id}": already exists`);
      }
      const now = Date.now();
      this.#run("INSERT INTO containers VALUES (?, ?, ?, ?, ?)", ns, c.id, this.#containerJson(c), now, now);
      return this.getContainer(ns, c.id);
    });
  }

  /**
   * containerd's update: no paths replaces labels, spec, extensions, image and snapshot key (and
   * refuses a different runtime or snapshotter); runtime, snapshotter and sandbox never change.
   */
  updateContainer(
    ns: string,
    c: Omit<ContainerMetadata, "createdAt" | "updatedAt">,
    paths: string[],
  ): ContainerMetadata {
    return this.transaction(() => {
      const cur = this.getContainer(ns, c.id);
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
      this.#run(
        "UPDATE containers SET record = ?, updated = ? WHERE ns = ? AND id = ?",
        this.#containerJson(next),
        Date.now(),
        ns,
        c.id,
      );
      return this.getContainer(ns, c.id);
    });
  }

  deleteContainer(ns: string, id: string): void {
    if (this.#run("DELETE FROM containers WHERE ns = ? AND id = ?", ns, id) === 0) {
      throw new NotFoundError(`container "${id}": not found`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Leases

  createLease(ns: string, id: string, labels: Labels): LeaseRecord {
    // containerd does not hold lease ids to the identifier rule (ctr's random ids end in "_").
    if (id === "" || id.length > 256 || /[\x00-\x1f/]/.test(id))
      throw new InvalidArgumentError(`invalid lease id ${JSON.stringify(id)}`);
    validateLabels(labels);
    return this.transaction(() => {
      this.ensureNamespace(ns);
      if (this.#get("SELECT 1 FROM leases WHERE ns = ? AND id = ?", ns, id))
        throw new AlreadyExistsError(`lease ${id}: already exists`);
      const now = Date.now();
      this.#run("INSERT INTO leases VALUES (?, ?, ?, ?)", ns, id, json(labels), now);
      return { id, labels, createdAt: new Date(now) };
    });
  }

  #lease(r: Record<string, unknown>): LeaseRecord {
    this.#checked("leases", r);
    return { id: String(r.id), labels: JSON.parse(String(r.labels)) as Labels, createdAt: date(r.created) };
  }

  getLease(ns: string, id: string): LeaseRecord {
    const r = this.#get("SELECT * FROM leases WHERE ns = ? AND id = ?", ns, id);
    if (!r) throw new NotFoundError(`lease ${id}: not found`);
    return this.#lease(r);
  }

  listLeases(ns: string, match: Predicate<LeaseRecord> = all): LeaseRecord[] {
    return this.#all("SELECT * FROM leases WHERE ns = ? ORDER BY created", ns)
      .map((r) => this.#lease(r))
      .filter(match);
  }

  deleteLease(ns: string, id: string): void {
    this.transaction(() => {
      if (this.#run("DELETE FROM leases WHERE ns = ? AND id = ?", ns, id) === 0)
        throw new NotFoundError(`lease ${id}: not found`);
      this.#run("DELETE FROM lease_resources WHERE ns = ? AND lease = ?", ns, id);
    });
  }

  #requireLease(ns: string, id: string): void {
    if (!this.#get("SELECT 1 FROM leases WHERE ns = ? AND id = ?", ns, id))
      throw new NotFoundError(`lease ${id}: not found`);
  }

  addLeaseResource(ns: string, lease: string, r: LeaseResource): void {
    if (!r.id || !/^(content|ingests|snapshots\/[A-Za-z0-9_.-]+)$/.test(r.type)) {
      throw new InvalidArgumentError(`invalid lease resource ${JSON.stringify(r)}`);
    }
    this.transaction(() => {
      this.#requireLease(ns, lease);
      this.#run("INSERT INTO lease_resources VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", ns, lease, r.type, r.id);
    });
  }

  deleteLeaseResource(ns: string, lease: string, r: LeaseResource): void {
    this.transaction(() => {
      this.#requireLease(ns, lease);
      this.#run(
        "DELETE FROM lease_resources WHERE ns = ? AND lease = ? AND type = ? AND rid = ?",
        ns,
        lease,
        r.type,
        r.id,
      );
    });
  }

  listLeaseResources(ns: string, lease: string): LeaseResource[] {
    this.#requireLease(ns, lease);
    return this.#all(
      "SELECT type, rid FROM lease_resources WHERE ns = ? AND lease = ? ORDER BY type, rid",
      ns,
      lease,
    ).map((r) => ({
      type: String(r.type),
      id: String(r.rid),
    }));
  }

  // -------------------------------------------------------------------------------------------
  // Content rows: which namespace sees which blob, with its labels

  #content(r: Record<string, unknown>): ContentRow {
    this.#checked("content", r);
    return {
      digest: String(r.digest),
      labels: JSON.parse(String(r.labels)) as Labels,
      createdAt: date(r.created),
      updatedAt: date(r.updated),
    };
  }

  getContent(ns: string, digest: string): ContentRow | undefined {
    const r = this.#get("SELECT * FROM content WHERE ns = ? AND digest = ?", ns, digest);
    return r ? this.#content(r) : undefined;
  }

  listContent(ns: string, match: Predicate<ContentRow> = all): ContentRow[] {
    return this.#all("SELECT * FROM content WHERE ns = ? ORDER BY digest", ns)
      .map((r) => this.#content(r))
      .filter(match);
  }

  /** Adds the blob to the namespace (merging labels when it is there already). */
  putContent(ns: string, digest: string, labels: Labels, lease?: string): ContentRow {
    validateLabels(labels);
    return this.transaction(() => {
      this.ensureNamespace(ns);
      const now = Date.now();
      const cur = this.getContent(ns, digest);
      if (cur) {
        this.#run(
          "UPDATE content SET labels = ?, updated = ? WHERE ns = ? AND digest = ?",
          json({ ...cur.labels, ...labels }),
          now,
          ns,
          digest,
        );
      } else {
        this.#run("INSERT INTO content VALUES (?, ?, ?, ?, ?)", ns, digest, json(labels), now, now);
      }
      if (lease) this.addLeaseResource(ns, lease, { type: "content", id: digest });
      return this.getContent(ns, digest)!;
    });
  }

  updateContentLabels(ns: string, digest: string, labels: Labels, paths: string[]): ContentRow {
    validateLabels(labels);
    return this.transaction(() => {
      const cur = this.getContent(ns, digest);
      if (!cur) throw new NotFoundError(`content digest ${digest}: not found`);
      for (const p of paths) {
        if (p !== "labels" && !p.startsWith("labels.")) {
          throw new InvalidArgumentError(`cannot update ${JSON.stringify(p)} field on content info ${digest}`);
        }
      }
      const next = maskedLabels(cur.labels, labels, paths);
      this.#run(
        "UPDATE content SET labels = ?, updated = ? WHERE ns = ? AND digest = ?",
        json(next),
        Date.now(),
        ns,
        digest,
      );
      return this.getContent(ns, digest)!;
    });
  }

  deleteContent(ns: string, digest: string): void {
    if (this.#run("DELETE FROM content WHERE ns = ? AND digest = ?", ns, digest) === 0) {
      throw new NotFoundError(`content digest ${digest}: not found`);
    }
  }

  /** Every digest some namespace sees. */
  referencedDigests(): Set<string> {
    return new Set(this.#all("SELECT DISTINCT digest FROM content").map((r) => String(r.digest)));
  }

  // -------------------------------------------------------------------------------------------
  // Snapshot rows: namespaced keys over the snapshotters' backend keys

  #snapshot(r: Record<string, unknown>): SnapshotRow {
    this.#checked("snapshots", r);
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

  getSnapshot(ns: string, snapshotter: string, key: string): SnapshotRow | undefined {
    const r = this.#get("SELECT * FROM snapshots WHERE ns = ? AND snapshotter = ? AND key = ?", ns, snapshotter, key);
    return r ? this.#snapshot(r) : undefined;
  }

  listSnapshots(ns: string, snapshotter: string, match: Predicate<SnapshotRow> = all): SnapshotRow[] {
    return this.#all("SELECT * FROM snapshots WHERE ns = ? AND snapshotter = ? ORDER BY key", ns, snapshotter)
      .map((r) => this.#snapshot(r))
      .filter(match);
  }

  snapshotChildren(ns: string, snapshotter: string, key: string): number {
    return Number(
      this.#get(
        "SELECT COUNT(*) AS n FROM snapshots WHERE ns = ? AND snapshotter = ? AND parent = ?",
        ns,
        snapshotter,
        key,
      )!.n,
    );
  }

  insertSnapshot(ns: string, row: Omit<SnapshotRow, "createdAt" | "updatedAt">, lease?: string): void {
    this.transaction(() => {
      this.ensureNamespace(ns);
      const now = Date.now();
      this.#run(
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
      if (lease) this.addLeaseResource(ns, lease, { type: `snapshots/${row.snapshotter}`, id: row.key });
    });
  }

  setSnapshotLabels(ns: string, snapshotter: string, key: string, labels: Labels): void {
    this.#run(
      "UPDATE snapshots SET labels = ?, updated = ? WHERE ns = ? AND snapshotter = ? AND key = ?",
      json(labels),
      Date.now(),
      ns,
      snapshotter,
      key,
    );
  }

  deleteSnapshotRow(ns: string, snapshotter: string, key: string): void {
    this.#run("DELETE FROM snapshots WHERE ns = ? AND snapshotter = ? AND key = ?", ns, snapshotter, key);
  }

  /** Every backend key any namespace refers to, for one snapshotter. */
  referencedBackendKeys(snapshotter: string): Set<string> {
    return new Set(
      this.#all("SELECT backend_key FROM snapshots WHERE snapshotter = ?", snapshotter).map((r) =>
        String(r.backend_key),
      ),
    );
  }

  /** The whole graph GC needs, read in one transaction. */
  gcSnapshot(): GcGraphInput {
    return this.transaction(() => ({
      namespaces: this.#all("SELECT name FROM namespaces")
        .map((r) => this.#checked("namespaces", r))
        .map((r) => String(r.name)),
      images: this.#all("SELECT ns, target, labels FROM images")
        .map((r) => this.#checked("images", r))
        .map((r) => ({
          ns: String(r.ns),
          target: (JSON.parse(String(r.target)) as DescriptorRecord).digest,
          labels: JSON.parse(String(r.labels)) as Labels,
        })),
      containers: this.#all("SELECT ns, record FROM containers")
        .map((r) => this.#checked("containers", r))
        .map((r) => {
          const o = JSON.parse(String(r.record)) as { labels: Labels; snapshotter: string; snapshotKey: string };
          return { ns: String(r.ns), labels: o.labels, snapshotter: o.snapshotter, snapshotKey: o.snapshotKey };
        }),
      leases: this.#all("SELECT ns, id, labels FROM leases")
        .map((r) => this.#checked("leases", r))
        .map((r) => ({
          ns: String(r.ns),
          id: String(r.id),
          labels: JSON.parse(String(r.labels)) as Labels,
        })),
      leaseResources: this.#all("SELECT ns, lease, type, rid FROM lease_resources")
        .map((r) => this.#checked("lease_resources", r))
        .map((r) => ({
          ns: String(r.ns),
          lease: String(r.lease),
          type: String(r.type),
          id: String(r.rid),
        })),
      content: this.#all("SELECT ns, digest, labels FROM content")
        .map((r) => this.#checked("content", r))
        .map((r) => ({
          ns: String(r.ns),
          digest: String(r.digest),
          labels: JSON.parse(String(r.labels)) as Labels,
        })),
      snapshots: this.#all("SELECT ns, snapshotter, key, parent, labels FROM snapshots")
        .map((r) => this.#checked("snapshots", r))
        .map((r) => ({
          ns: String(r.ns),
          snapshotter: String(r.snapshotter),
          key: String(r.key),
          parent: String(r.parent),
          labels: JSON.parse(String(r.labels)) as Labels,
        })),
      ingests: [],
    }));
  }
}

export interface GcGraphInput {
  namespaces: string[];
  images: { ns: string; target: string; labels: Labels }[];
  containers: { ns: string; labels: Labels; snapshotter: string; snapshotKey: string }[];
  leases: { ns: string; id: string; labels: Labels }[];
  leaseResources: { ns: string; lease: string; type: string; id: string }[];
  content: { ns: string; digest: string; labels: Labels }[];
  snapshots: { ns: string; snapshotter: string; key: string; parent: string; labels: Labels }[];
  /** Ingests in progress, by namespace-local ref; the content store knows them, not the database. */
  ingests: { ns: string; ref: string; expected: string; updatedAt: Date }[];
}

function validateImage(image: Pick<ImageMetadata, "name" | "target" | "labels">): void {
  if (!image.name) throw new InvalidArgumentError("image name must not be empty");
  if (!image.target.mediaType)
    throw new InvalidArgumentError(`image "${image.name}": target media type must not be empty`);
  if (!/^sha256:[a-f0-9]{64}$/.test(image.target.digest)) {
    throw new InvalidArgumentError(
      `image "${image.name}": invalid target digest ${JSON.stringify(image.target.digest)}`,
    );
  }
  validateLabels(image.labels);
}
