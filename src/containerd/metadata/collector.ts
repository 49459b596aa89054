// The garbage collector's effectful half: read the graph, mark (gc.ts), delete dead rows in one
// transaction, then delete files nothing refers to any more: blobs without a content row in any
// namespace, and backend snapshots without a row (children before parents). Rows go before files,
// so a crash between the two leaves only files, which the next collection removes.
import type { DaemonLogger } from "../../common/log.ts";
import type { ContentStore } from "../content/content-store.ts";
import type { Snapshotter } from "../snapshots/snapshotter.ts";
import type { MetadataDB } from "./db.ts";
import { markLive } from "./gc.ts";

export interface GcResult {
  removedContent: number;
  removedSnapshots: number;
}

export class GarbageCollector {
  readonly #db: MetadataDB;
  readonly #content: ContentStore;
  readonly #snapshotters: Map<string, Snapshotter>;
  readonly #log: DaemonLogger;
  #lock: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(db: MetadataDB, content: ContentStore, snapshotters: Map<string, Snapshotter>, log: DaemonLogger) {
    this.#db = db;
    this.#content = content;
    this.#snapshotters = snapshotters;
    this.#log = log;
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

  /** Collects now. */
  collect(): Promise<GcResult> {
    return this.exclusive(() => this.#collect());
  }

  async #collect(): Promise<GcResult> {
    const started = Date.now();
    const dead = this.#db.transaction(() => {
      const m = markLive(this.#db.gcSnapshot());
      for (const c of m.deadContent) this.#db.deleteContent(c.ns, c.digest);
      for (const s of m.deadSnapshots) this.#db.deleteSnapshotRow(s.ns, s.snapshotter, s.key);
      return m;
    });

    let removedContent = 0;
    const referenced = this.#db.referencedDigests();
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
      const keep = this.#db.referencedBackendKeys(name);
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
    if (removedContent + removedSnapshots + dead.deadContent.length > 0) {
      this.#log.info("garbage collected", {
        content: removedContent,
        snapshots: removedSnapshots,
        ms: Date.now() - started,
      });
    }
    return { removedContent, removedSnapshots };
  }
}
