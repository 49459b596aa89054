// A namespace-blind snapshotter kept in memory, for the metadata tests: it enforces the contract's
// rules (committed parents, no removal under children) so the namespaced layer's use is checked.
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../../common/errors.ts";
import type { Mount } from "../../common/mount/mount.ts";
import type { SnapshotInfo, SnapshotKind, Snapshotter, SnapshotUsage } from "../snapshots/snapshotter.ts";

export class MemorySnapshotter implements Snapshotter {
  readonly name: string;
  readonly root = "/nonexistent";
  readonly snapshots = new Map<string, SnapshotInfo>();

  constructor(name = "memory") {
    this.name = name;
  }

  #get(key: string): SnapshotInfo {
    const s = this.snapshots.get(key);
    if (!s) throw new NotFoundError(`snapshot ${key}: not found`);
    return s;
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return { ...this.#get(key) };
  }

  async update(info: Pick<SnapshotInfo, "name" | "labels">): Promise<SnapshotInfo> {
    const s = this.#get(info.name);
    s.labels = { ...info.labels };
    return { ...s };
  }

  async usage(key: string): Promise<SnapshotUsage> {
    this.#get(key);
    return { size: 0, inodes: 0 };
  }

  async mounts(key: string): Promise<Mount[]> {
    const s = this.#get(key);
    return [{ type: "bind", source: `/mem/${key}`, options: [s.kind === "view" ? "ro" : "rw"] }];
  }

  #create(kind: SnapshotKind, key: string, parent = "", labels: Record<string, string> = {}): Promise<Mount[]> {
    if (this.snapshots.has(key)) throw new AlreadyExistsError(`snapshot ${key}: already exists`);
    if (parent && this.#get(parent).kind !== "committed")
      throw new FailedPreconditionError(`parent ${parent} is not committed`);
    const now = new Date();
    this.snapshots.set(key, { name: key, parent, kind, labels, created: now, updated: now });
    return this.mounts(key);
  }

  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    return this.#create("active", key, parent, labels);
  }

  view(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]> {
    return this.#create("view", key, parent, labels);
  }

  async commit(name: string, key: string, labels: Record<string, string> = {}): Promise<void> {
    const s = this.#get(key);
    if (s.kind !== "active") throw new FailedPreconditionError(`snapshot ${key} is not active`);
    if (this.snapshots.has(name)) throw new AlreadyExistsError(`snapshot ${name}: already exists`);
    this.snapshots.delete(key);
    this.snapshots.set(name, { ...s, name, kind: "committed", labels: { ...s.labels, ...labels } });
  }

  async remove(key: string): Promise<void> {
    this.#get(key);
    for (const s of this.snapshots.values()) {
      if (s.parent === key) throw new FailedPreconditionError(`snapshot ${key} has children`);
    }
    this.snapshots.delete(key);
  }

  async walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void> {
    for (const s of [...this.snapshots.values()]) await fn({ ...s });
  }

  async cleanup(): Promise<void> {}

  async close(): Promise<void> {}
}
