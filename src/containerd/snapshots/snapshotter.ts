// The snapshotter contract, shaped like containerd's snapshots.Snapshotter: keys name active
// snapshots and views, names name committed ones, and a snapshot's parent must be committed.
// Implementations: OverlaySnapshotter (overlayfs, the default) and NativeSnapshotter (plain
// copies). They are namespace-blind; the metadata layer maps namespaced keys onto them.
import type { Mount } from "../../common/mount/mount.ts";

export type SnapshotKind = "view" | "active" | "committed";

export interface SnapshotInfo {
  /** The key of an active snapshot or view, or the name of a committed one. */
  name: string;
  /** The committed snapshot this one is based on; "" for none. */
  parent: string;
  kind: SnapshotKind;
  labels: Record<string, string>;
  created: Date;
  updated: Date;
}

/** Disk usage of the snapshot's own layer (not its parents). */
export interface SnapshotUsage {
  size: number;
  inodes: number;
}

export interface Snapshotter {
  /** "overlayfs" or "native": the name clients select it by. */
  readonly name: string;
  /** Absolute root directory of its storage. */
  readonly root: string;
  stat(key: string): Promise<SnapshotInfo>;
  /** Updates labels only; `fieldPaths` like ["labels", "labels.foo"]; empty means all labels. */
  update(info: Pick<SnapshotInfo, "name" | "labels">, fieldPaths?: string[]): Promise<SnapshotInfo>;
  usage(key: string): Promise<SnapshotUsage>;
  mounts(key: string): Promise<Mount[]>;
  prepare(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  view(key: string, parent?: string, labels?: Record<string, string>): Promise<Mount[]>;
  commit(name: string, key: string, labels?: Record<string, string>): Promise<void>;
  remove(key: string): Promise<void>;
  walk(fn: (info: SnapshotInfo) => void | Promise<void>): Promise<void>;
  /** Removes storage no snapshot refers to (left by crashes or removals). */
  cleanup(): Promise<void>;
  close(): Promise<void>;
}
