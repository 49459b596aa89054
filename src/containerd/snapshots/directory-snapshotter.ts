// What the overlay and native snapshotters share: a snapshot is a row in the store plus a
// directory <root>/snapshots/<id>; the subclass says what goes in the directory and how it mounts.
//
// Crash safety: at no instant does a committed row name a directory that is not there (a reader
// of metadata.db, or a restart after kill -9, may look at any instant); a directory without a row
// is a leftover that cleanup() deletes. So a new snapshot's directory is filled under a temporary
// name ("new-*"), then one synchronous transaction inserts the row and renames the directory into
// place before its COMMIT; if that COMMIT fails (a full disk, and SQLite rolls the transaction
// back) the directory is moved back to its temporary name and deleted. Removal is the mirror
// image: the row's delete is committed first, then the directory is deleted.

import { renameSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "../../common/errors.ts";
import type { Mount } from "../../common/mount/mount.ts";
import { updatedLabels, validateLabels } from "./mounts.ts";
import type { SnapshotInfo, Snapshotter, SnapshotUsage } from "./snapshotter.ts";
import { type SnapshotRow, SnapshotStore } from "./store.ts";
import { diskUsage } from "./usage.ts";

/**
 * Runs `tx`, a store transaction that renames a directory; when it fails after the rename (the
 * row change rolled back), `renamed()` says how to move the directory back.
 */
function undoRename<T>(tx: () => T, renamed: () => { from: string; to: string } | undefined): T {
  try {
    return tx();
  } catch (err) {
    const r = renamed();
    try {
      if (r) renameSync(r.from, r.to);
    } catch {
      // The transaction's error is the one to answer (it says what went wrong first).
    }
    throw err;
  }
}

function info(row: SnapshotRow): SnapshotInfo {
  return {
    name: row.name,
    parent: row.parent,
    kind: row.kind,
    labels: { ...row.labels },
    created: new Date(row.created),
    updated: new Date(row.updated),
  };
}

export abstract class DirectorySnapshotter implements Snapshotter {
  abstract readonly name: string;
  readonly root: string;
  protected readonly store: SnapshotStore;
  /** Temporary directories being filled right now: cleanup() must leave them alone. */
  readonly #filling = new Set<string>();

  protected constructor(root: string, store: SnapshotStore) {
    this.root = root;
    this.store = store;
  }

  protected static async prepareRoot(root: string): Promise<SnapshotStore> {
    await mkdir(`${root}/snapshots`, { recursive: true, mode: 0o700 });
    return new SnapshotStore(`${root}/metadata.db`);
  }

  /** <root>/snapshots/<id> */
  protected dir(id: number): string {
    return `${this.root}/snapshots/${id}`;
  }

  /** Fills a new snapshot's (temporary) directory. `parents`: ids, nearest first. */
  protected abstract populate(tmp: string, kind: "active" | "view", parents: number[]): Promise<void>;
  /** The mounts of an active snapshot or view. `parents`: ids, nearest first. */
  protected abstract mountsOf(kind: "active" | "view", id: number, parents: number[]): Mount[];
  /** The directory whose usage is the snapshot's own. */
  protected abstract usageDir(id: number): string;

  #row(key: string): SnapshotRow {
    const row = this.store.get(key);
    if (!row) throw new NotFoundError(`snapshot ${JSON.stringify(key)} does not exist`);
    return row;
  }

  #parents(row: SnapshotRow): number[] {
    return row.parentId === null ? [] : this.store.chain(row.parentId);
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return info(this.#row(key));
  }

  async update(incoming: Pick<SnapshotInfo, "name" | "labels">, fieldPaths?: string[]): Promise<SnapshotInfo> {
    return this.store.transaction(() => {
      const row = this.#row(incoming.name);
      const labels = updatedLabels(incoming.name, row.labels, incoming.labels ?? {}, fieldPaths);
      validateLabels(labels);
      this.store.setLabels(row.id, labels, Date.now());
      return info(this.#row(incoming.name));
    });
  }

  async usage(key: string): Promise<SnapshotUsage> {
    const row = this.#row(key);
    if (row.kind === "active") return diskUsage(this.usageDir(row.id));
    return row.usage ?? { size: 0, inodes: 0 };
  }

  async mounts(key: string): Promise<Mount[]> {
    const row = this.#row(key);
    if (row.kind === "committed") {
      throw new FailedPreconditionError(
        `snapshot ${JSON.stringify(key)} is committed: only active snapshots and views mount`,
      );
    }
    return this.mountsOf(row.kind, row.id, this.#parents(row));
  }

  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    return this.#create("active", key, parent ?? "", labels ?? {});
  }

  view(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    return this.#create("view", key, parent ?? "", labels ?? {});
  }

  /** Validates a new snapshot against the store; returns its parent chain. Synchronous. */
  #check(key: string, parent: string): { parentId: number | null; parents: number[] } {
    if (key === "") throw new InvalidArgumentError("snapshot key must not be empty");
    if (this.store.get(key)) throw new AlreadyExistsError(`snapshot ${JSON.stringify(key)} already exists`);
    if (parent === "") return { parentId: null, parents: [] };
    const p = this.store.get(parent);
    if (!p) throw new NotFoundError(`parent snapshot ${JSON.stringify(parent)} does not exist`);
    if (p.kind !== "committed") {
      throw new InvalidArgumentError(`parent ${JSON.stringify(parent)} is not a committed snapshot`);
    }
    return { parentId: p.id, parents: this.store.chain(p.id) };
  }

  async #create(
    kind: "active" | "view",
    key: string,
    parent: string,
    labels: Record<string, string>,
  ): Promise<Mount[]> {
    validateLabels(labels);
    const { parents } = this.#check(key, parent);
    const tmp = await mkdtemp(`${this.root}/snapshots/new-`);
    this.#filling.add(tmp);
    try {
      await this.populate(tmp, kind, parents);
      // Synchronous from here: check again (others ran while we filled), insert, rename, commit.
      let placed: string | undefined;
      const id = undoRename(
        () =>
          this.store.transaction(() => {
            const checked = this.#check(key, parent);
            const id = this.store.insert({ name: key, parentId: checked.parentId, kind, labels, now: Date.now() });
            // A directory already there is a crash's leftover (no row owned this id).
            rmSync(this.dir(id), { recursive: true, force: true });
            renameSync(tmp, this.dir(id));
            placed = this.dir(id);
            return id;
          }),
        () => (placed ? { from: placed, to: tmp } : undefined),
      );
      return this.mountsOf(kind, id, parents);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    } finally {
      this.#filling.delete(tmp);
    }
  }

  async commit(name: string, key: string, labels?: Record<string, string>): Promise<void> {
    const newLabels = labels ?? {};
    validateLabels(newLabels);
    const check = () => {
      const row = this.#row(key);
      if (row.kind !== "active") throw new FailedPreconditionError(`snapshot ${JSON.stringify(key)} is not active`);
      if (this.store.get(name)) throw new AlreadyExistsError(`snapshot ${JSON.stringify(name)} already exists`);
      return row;
    };
    const row = check();
    const usage = await diskUsage(this.usageDir(row.id));
    this.store.transaction(() => {
      const again = check();
      if (again.id !== row.id)
        throw new FailedPreconditionError(`snapshot ${JSON.stringify(key)} changed during commit`);
      this.store.commit(row.id, name, newLabels, usage, Date.now());
    });
  }

  async remove(key: string): Promise<void> {
    // The row goes first, on its own: until its COMMIT is durable the directory stays whole, so a
    // failed COMMIT changes nothing and a crash after it leaves a directory without a row.
    const id = this.store.transaction(() => {
      const row = this.#row(key);
      if (this.store.hasChildren(row.id)) {
        throw new FailedPreconditionError(`cannot remove snapshot ${JSON.stringify(key)}: it has children`);
      }
      this.store.delete(row.id);
      return row.id;
    });
    await rm(this.dir(id), { recursive: true, force: true });
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    for (const row of this.store.all()) await fn(info(row));
  }

  async cleanup(): Promise<void> {
    const ids = this.store.ids();
    const dir = `${this.root}/snapshots`;
    for (const name of await readdir(dir)) {
      if (/^[0-9]+$/.test(name) && ids.has(Number(name))) continue;
      if (this.#filling.has(`${dir}/${name}`)) continue;
      await rm(`${dir}/${name}`, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
