// Namespaced views of the namespace-blind content store and snapshotters, like containerd's
// metadata package: a namespace sees a blob only once it committed (or was given) it, and
// snapshot keys are per namespace, mapped onto backend keys "<ns>/<seq>/<key>". Deletions remove
// the namespace's record first; the files go at the next garbage collection (collector.ts).
import type { Readable } from "node:stream";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "../../common/errors.ts";
import type { Mount } from "../../common/mount/mount.ts";
import type { ContentStore, ContentWriter, IngestStatus } from "../content/content-store.ts";
import type { SnapshotInfo, Snapshotter, SnapshotUsage } from "../snapshots/snapshotter.ts";
import type { ContentRow } from "./content-table.ts";
import { CorruptDataError } from "./corrupt.ts";
import type { MetadataDB } from "./db.ts";
import type { SnapshotRow } from "./snapshots-table.ts";
import { type Labels, labelPathsOnly, maskedLabels, validateLabels } from "./validate.ts";

const INGEST_SCHEME = "1";

/** The shared store's ref for a namespace's ingest: "<ns>/1/<ref>" (namespaces cannot hold "/"). */
export function namespacedIngestRef(ns: string, ref: string): string {
  if (!ref) throw new InvalidArgumentError("ref must not be empty");
  return `${ns}/${INGEST_SCHEME}/${ref}`;
}

/** The namespace and namespace-local ref of a shared store's ref; undefined for refs of no namespace. */
export function splitIngestRef(storeRef: string): { ns: string; ref: string } | undefined {
  const m = /^([^/]+)\/([^/]+)\/(.+)$/s.exec(storeRef);
  if (!m || m[2] !== INGEST_SCHEME) return undefined;
  return { ns: m[1]!, ref: m[3]! };
}

export class NamespacedContent {
  readonly db: MetadataDB;
  readonly store: ContentStore;

  constructor(db: MetadataDB, store: ContentStore) {
    this.db = db;
    this.store = store;
  }

  async info(ns: string, digest: string): Promise<ContentRow & { size: number }> {
    const row = this.db.content.get(ns, digest);
    if (!row) throw new NotFoundError(`content digest ${digest}: not found`);
    const blob = await this.store.info(digest);
    return { ...row, size: blob.size };
  }

  async list(ns: string): Promise<(ContentRow & { size: number })[]> {
    const out = [];
    for (const row of this.db.content.list(ns)) {
      const blob = await this.store.info(row.digest).catch(() => undefined);
      if (blob) out.push({ ...row, size: blob.size });
    }
    return out;
  }

  async update(ns: string, digest: string, labels: Labels, paths: string[]): Promise<ContentRow & { size: number }> {
    this.db.content.updateLabels(ns, digest, labels, paths);
    return this.info(ns, digest);
  }

  delete(ns: string, digest: string): void {
    this.db.content.delete(ns, digest);
  }

  async read(ns: string, digest: string, offset = 0, size = 0): Promise<Readable> {
    await this.info(ns, digest);
    return this.store.read(digest, offset, size);
  }

  /** Ingest refs are namespaced in the shared store. */
  #ref(ns: string, ref: string): string {
    return namespacedIngestRef(ns, ref);
  }

  /**
   * Opens (or resumes) the namespace's ingest `ref`. With a lease the ingest lives as long as the
   * lease; without one, a day after its last write (see gc.ts). The caller records the committed
   * blob with committed() under the collector's lock.
   */
  async writer(
    ns: string,
    ref: string,
    opts: { total?: number; expected?: string },
    lease = "",
  ): Promise<ContentWriter> {
    const storeRef = this.#ref(ns, ref);
    if (lease) this.db.leases.addResource(ns, lease, { type: "ingests", id: ref });
    return this.store.writer(storeRef, opts);
  }

  /** Records a committed blob in the namespace (and the lease). */
  committed(ns: string, digest: string, labels: Labels, lease: string): void {
    validateLabels(labels);
    this.db.content.put(ns, digest, labels, lease || undefined);
  }

  async status(ns: string, ref: string): Promise<IngestStatus> {
    const s = await this.store.status(this.#ref(ns, ref)).catch(localNotFound(ref));
    return { ...s, ref };
  }

  async listStatuses(ns: string): Promise<IngestStatus[]> {
    const out: IngestStatus[] = [];
    for (const s of await this.store.listStatuses()) {
      const owner = splitIngestRef(s.ref);
      if (owner?.ns === ns) out.push({ ...s, ref: owner.ref });
    }
    return out;
  }

  async abort(ns: string, ref: string): Promise<void> {
    await this.store.abort(this.#ref(ns, ref)).catch(localNotFound(ref));
  }
}

/** A missing ingest is named by the client's ref, not the shared store's "<ns>/1/<ref>". */
function localNotFound(ref: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof NotFoundError) throw new NotFoundError(`ingest ${ref}: not found`);
    throw err;
  };
}

export class NamespacedSnapshotter {
  readonly db: MetadataDB;
  readonly backend: Snapshotter;

  constructor(db: MetadataDB, backend: Snapshotter) {
    this.db = db;
    this.backend = backend;
  }

  get name(): string {
    return this.backend.name;
  }

  #row(ns: string, key: string): SnapshotRow {
    const row = this.db.snapshots.get(ns, this.name, key);
    if (!row) throw new NotFoundError(`snapshot ${key} does not exist: not found`);
    return row;
  }

  /**
   * Runs a backend call on the row's backend snapshot. The row says it exists: if the backend does
   * not have it, the row is what is wrong (a damaged or stale database), not the client's key.
   */
  async #onBackend<T>(ns: string, row: SnapshotRow, fn: (backendKey: string) => Promise<T>): Promise<T> {
    try {
      return await fn(row.backendKey);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      throw new CorruptDataError(
        `metadata database ${this.db.path}: snapshots row (${ns}, ${this.name}, ${row.key}) names backend snapshot ${JSON.stringify(row.backendKey)}, which the ${this.name} snapshotter does not have; see berth-containerd repair`,
      );
    }
  }

  async #info(ns: string, row: SnapshotRow): Promise<SnapshotInfo> {
    const b = await this.#onBackend(ns, row, (k) => this.backend.stat(k));
    return {
      name: row.key,
      parent: row.parent,
      kind: b.kind,
      labels: { ...row.labels },
      created: b.created,
      updated: row.updatedAt,
    };
  }

  async stat(ns: string, key: string): Promise<SnapshotInfo> {
    return this.#info(ns, this.#row(ns, key));
  }

  async #create(
    kind: "active" | "view",
    ns: string,
    key: string,
    parent: string,
    labels: Labels,
    lease: string,
  ): Promise<Mount[]> {
    if (!key) throw new InvalidArgumentError("snapshot key must not be empty");
    validateLabels(labels);
    if (this.db.snapshots.get(ns, this.name, key)) throw new AlreadyExistsError(`snapshot ${key}: already exists`);
    let backendParent: string | undefined;
    if (parent) {
      const p = this.db.snapshots.get(ns, this.name, parent);
      if (!p) throw new NotFoundError(`parent snapshot ${parent} does not exist: not found`);
      if (p.kind !== "committed") throw new InvalidArgumentError(`parent ${parent} is not a committed snapshot`);
      backendParent = p.backendKey;
    }
    const backendKey = this.db.snapshots.newBackendKey(ns, this.name, key);
    const mounts =
      kind === "active"
        ? await this.backend.prepare(backendKey, backendParent)
        : await this.backend.view(backendKey, backendParent);
    try {
      this.db.snapshots.insert(
        ns,
        { snapshotter: this.name, key, backendKey, parent, kind, labels },
        lease || undefined,
      );
    } catch (err) {
      await this.backend.remove(backendKey);
      throw err;
    }
    return mounts;
  }

  prepare(ns: string, key: string, parent: string, labels: Labels, lease = ""): Promise<Mount[]> {
    return this.#create("active", ns, key, parent, labels, lease);
  }

  view(ns: string, key: string, parent: string, labels: Labels, lease = ""): Promise<Mount[]> {
    return this.#create("view", ns, key, parent, labels, lease);
  }

  async mounts(ns: string, key: string): Promise<Mount[]> {
    return this.#onBackend(ns, this.#row(ns, key), (k) => this.backend.mounts(k));
  }

  async commit(ns: string, name: string, key: string, labels: Labels, lease = ""): Promise<void> {
    if (!name) throw new InvalidArgumentError("snapshot name must not be empty");
    validateLabels(labels);
    const row = this.#row(ns, key);
    if (row.kind !== "active") throw new FailedPreconditionError(`snapshot ${key} is not active`);
    if (this.db.snapshots.get(ns, this.name, name)) throw new AlreadyExistsError(`snapshot ${name}: already exists`);
    const backendName = this.db.snapshots.newBackendKey(ns, this.name, name);
    await this.backend.commit(backendName, row.backendKey);
    this.db.transaction(() => {
      this.db.snapshots.delete(ns, this.name, key);
      this.db.snapshots.insert(
        ns,
        {
          snapshotter: this.name,
          key: name,
          backendKey: backendName,
          parent: row.parent,
          kind: "committed",
          labels: { ...row.labels, ...labels },
        },
        lease || undefined,
      );
    });
  }

  async remove(ns: string, key: string): Promise<void> {
    const row = this.#row(ns, key);
    if (this.db.snapshots.children(ns, this.name, key) > 0) {
      throw new FailedPreconditionError(`cannot remove snapshot ${key}: it has children`);
    }
    this.db.snapshots.delete(ns, this.name, key);
    // The directory goes now (a crash here leaves it to the collector's backend sweep).
    await this.backend.remove(row.backendKey);
  }

  async update(ns: string, key: string, labels: Labels, paths: string[]): Promise<SnapshotInfo> {
    validateLabels(labels);
    labelPathsOnly(paths, `snapshot ${key}`);
    const row = this.#row(ns, key);
    this.db.snapshots.setLabels(ns, this.name, key, maskedLabels(row.labels, labels, paths));
    return this.stat(ns, key);
  }

  async usage(ns: string, key: string): Promise<SnapshotUsage> {
    return this.#onBackend(ns, this.#row(ns, key), (k) => this.backend.usage(k));
  }

  async list(ns: string): Promise<SnapshotInfo[]> {
    const out: SnapshotInfo[] = [];
    for (const row of this.db.snapshots.list(ns, this.name)) {
      const info = await this.#info(ns, row).catch(() => undefined);
      if (info) out.push(info);
    }
    return out;
  }
}
