// The garbage collector's effectful half: read the graph, mark (gc.ts), delete dead rows (content,
// snapshots, expired leases) in one transaction, then delete files nothing refers to any more:
// stale ingests, blobs without a content row in any namespace, and backend snapshots without a row
// (children before parents). Rows go before files, so a crash between the two leaves only files,
// which the next collection removes. When the start-up check found rows naming files that are
// gone (integrity.ts), the database is suspect and the collector deletes rows only: a file no row
// vouches for may be one the database lost, so it waits for `berth-containerd repair`.
import { NotFoundError, UnavailableError } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import type { ContentStore } from "../content/content-store.ts";
import type { Snapshotter } from "../snapshots/snapshotter.ts";
import type { MetadataDB } from "./db.ts";
import { type GcGraphInput, markLive } from "./gc.ts";
import { namespacedIngestRef, splitIngestRef } from "./namespaced.ts";

export interface GcResult {
  /** Blobs deleted from the content store. */
  removedContent: number;
  /** Snapshots deleted from the backends. */
  removedSnapshots: number;
  removedLeases: number;
  removedIngests: number;
}

export class GarbageCollector {
  readonly #db: MetadataDB;
  readonly #content: ContentStore;
  readonly #snapshotters: Map<string, Snapshotter>;
  readonly #log: DaemonLogger;
  #lock: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  /** Why files nothing refers to are kept rather than deleted (the metadata is suspect). */
  #keepFiles: string | undefined;

  constructor(db: MetadataDB, content: ContentStore, snapshotters: Map<string, Snapshotter>, log: DaemonLogger) {
    this.#db = db;
    this.#content = content;
    this.#snapshotters = snapshotters;
    this.#log = log;
  }

  /**
   * From now on, delete dead rows but no file: the rows cannot vouch for what is on disk
   * (`reason` is logged with each collection that kept something).
   */
  keepFiles(reason: string): void {
    this.#keepFiles = reason;
  }

  /** Asks for a collection soon (deletes batch up). */
  schedule(delayMs = 100): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.collect().catch((err) => this.#log.error("garbage collection failed", { error: String(err) }));
    }, delayMs);
    this.#timer.unref();
  }

  /**
   * Runs `fn` while no collection runs. Work that creates a file before its row (a blob commit, a
   * snapshot prepare) runs under it, so a collection never sees the file without the row.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Collects now (`now` stands in for the clock, for expiry). */
  collect(now?: Date): Promise<GcResult> {
    return this.exclusive(() => this.#collect(now));
  }

  async #collect(now = new Date()): Promise<GcResult> {
    const started = Date.now();
    const ingests: GcGraphInput["ingests"] = [];
    for (const s of await this.#content.listStatuses()) {
      const owner = splitIngestRef(s.ref);
      if (owner) ingests.push({ ...owner, expected: s.expected, updatedAt: s.updatedAt });
    }
    const dead = this.#db.transaction(() => {
      const m = markLive({ ...this.#db.gcSnapshot(), ingests }, now);
      for (const c of m.deadContent) this.#db.content.delete(c.ns, c.digest);
      for (const s of m.deadSnapshots) this.#db.snapshots.delete(s.ns, s.snapshotter, s.key);
      for (const l of m.deadLeases) this.#db.leases.delete(l.ns, l.id);
      return m;
    });

    let removedIngests = 0;
    for (const i of dead.deadIngests) {
      try {
        await this.#content.abort(namespacedIngestRef(i.ns, i.ref));
        removedIngests++;
      } catch (err) {
        // A writer took it up again (it is live after all) or an abort beat us to it.
        if (!(err instanceof UnavailableError || err instanceof NotFoundError)) throw err;
      }
    }

    if (this.#keepFiles !== undefined) {
      this.#log.warn("garbage collection deleted rows but kept every file", {
        reason: this.#keepFiles,
        rows: dead.deadContent.length + dead.deadSnapshots.length + dead.deadLeases.length,
      });
      return { removedContent: 0, removedSnapshots: 0, removedLeases: dead.deadLeases.length, removedIngests };
    }

    let removedContent = 0;
    const referenced = this.#db.content.referencedDigests();
    const blobs: string[] = [];
    await this.#content.walk((info) => {
      if (!referenced.has(info.digest)) blobs.push(info.digest);
    });
    for (const digest of blobs) {
      await this.#content.delete(digest);
      removedContent++;
    }

    let removedSnapshots = 0;
    for (const [name, sn] of this.#snapshotters) {
      const keep = this.#db.snapshots.referencedBackendKeys(name);
      const orphans = new Map<string, string>();
      await sn.walk((info) => {
        if (!keep.has(info.name)) orphans.set(info.name, info.parent);
      });
      // Children first: remove those no other orphan names as parent, until none are left.
      while (orphans.size > 0) {
        const parents = new Set(orphans.values());
        const leaves = [...orphans.keys()].filter((k) => !parents.has(k));
        if (leaves.length === 0) break;
        for (const k of leaves) {
          await sn.remove(k);
          orphans.delete(k);
          removedSnapshots++;
        }
      }
      await sn.cleanup();
    }
    const removedLeases = dead.deadLeases.length;
    if (removedContent + removedSnapshots + removedLeases + removedIngests + dead.deadContent.length > 0) {
      this.#log.info("garbage collected", {
        content: removedContent,
        snapshots: removedSnapshots,
        leases: removedLeases,
        ingests: removedIngests,
        ms: Date.now() - started,
      });
    }
    return { removedContent, removedSnapshots, removedLeases, removedIngests };
  }
}
