// What the client's image workflows (pull, push, unpack, export, import) need from a
// containerd-style daemon, as small typed ports. RemoteContainerd implements them over containerd's
// gRPC API (ours or the reference one); the daemon can implement them in-process. The workflows
// never see gRPC, so they read like the algorithm they are.
import type { Readable } from "node:stream";
import type { Mount } from "../../common/mount/mount.ts";

/** An OCI descriptor as the workflows pass it around. */
export interface BlobDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** An image as a daemon's image store holds it: a name for a target descriptor, with labels. */
export interface StoredImage {
  name: string;
  target: BlobDescriptor;
  labels: Record<string, string>;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface ContentPort {
  /** Labels of a blob present in the namespace, or undefined when it is absent. */
  info(digest: string): Promise<{ size: number; labels: Record<string, string> } | undefined>;
  read(digest: string): Readable;
  readAll(digest: string): Promise<Uint8Array>;
  /** Merges `labels` into the blob's labels (an empty value removes a label). */
  label(digest: string, labels: Record<string, string>): Promise<void>;
  /**
   * Writes a blob through the resumable ingest `ref`: `open(offset)` gives the bytes from `offset`
   * (the ingest may already hold a prefix after a crash). Verified against desc, committed with
   * `labels`. Resolves once the blob is committed.
   */
  write(
    ref: string,
    desc: BlobDescriptor,
    open: (offset: number) => Promise<Readable>,
    labels?: Record<string, string>,
    onProgress?: (written: number) => void,
  ): Promise<void>;
}

export interface SnapshotPort {
  readonly snapshotter: string;
  exists(key: string): Promise<boolean>;
  prepare(key: string, parent: string, labels?: Record<string, string>): Promise<Mount[]>;
  commit(name: string, key: string, labels?: Record<string, string>): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface DiffPort {
  /** Applies the layer blob onto the mounts; returns the uncompressed digest (the diffID). */
  apply(layer: BlobDescriptor, mounts: Mount[]): Promise<{ digest: string; size: number }>;
  /**
   * Optional hint, once the layer's blob is stored: it will be applied into `snapshotter`
   * (`bottom`: as the first layer of its chain). A daemon may extract it ahead of its chain, in
   * parallel with other layers, and make apply() a rename. Remote daemons ignore it.
   */
  prefetch?(layer: BlobDescriptor, snapshotter: string, bottom: boolean): void;
  /** Drops whatever prefetch() prepared and apply() did not use. */
  releasePrefetched?(): Promise<void>;
}

export interface ImagePort {
  get(name: string): Promise<StoredImage | undefined>;
  /** Creates the image or replaces its target and labels. */
  put(image: StoredImage): Promise<StoredImage>;
  /** With `sync`, what the image held is collected before the promise settles (docker rmi frees its layers at once). */
  delete(name: string, opts?: { sync?: boolean }): Promise<void>;
  list(): Promise<StoredImage[]>;
}

export interface LeasePort {
  /** A lease that protects everything written under it until released. */
  create(labels?: Record<string, string>): Promise<string>;
  release(id: string): Promise<void>;
}

/** Everything a workflow needs, all scoped to one namespace and (when set) one lease. */
export interface ContainerdPorts {
  content: ContentPort;
  snapshots(snapshotter: string): SnapshotPort;
  diff: DiffPort;
  images: ImagePort;
  leases: LeasePort;
  /** The same ports with every write protected by `lease`. */
  withLease(lease: string): ContainerdPorts;
}
