// One connection to a containerd-API daemon in one namespace, with every client a container's life
// needs sharing it, and the two steps containerd's client makes around a container record: a new
// container on a fresh writable snapshot of its image (under a temporary lease, so the snapshot is
// not collected before the record references it), and its removal with that snapshot.
import type * as grpc from "@grpc/grpc-js";
import { NotFoundError } from "../common/errors.ts";
import type { Mount } from "../common/mount/mount.ts";
import type { PlatformSpec } from "../oci/image/platforms.ts";
import { openChannel } from "../rpc/grpc.ts";
import type { TraceContext } from "../rpc/trace.ts";
import { type ContainerCreate, type ContainerRecord, ContainersClient } from "./containers.ts";
import { EventsClient } from "./events.ts";
import { withTemporaryLease } from "./lease.ts";
import { RemoteContainerd } from "./remote.ts";
import { type ResolvedImage, RootfsSnapshots, resolveImage } from "./rootfs.ts";
import { TasksClient } from "./tasks.ts";

export interface NewContainer extends Omit<ContainerCreate, "snapshotKey"> {
  /** The image whose rootfs the container's writable snapshot is prepared on. */
  image: string;
  /** The snapshot's key; default the container id (as ctr names it). */
  snapshotKey?: string;
  platform?: PlatformSpec;
  /** `image` resolved already: the snapshot is prepared on its top chain ID (else `image` is resolved). */
  resolved?: ResolvedImage;
  /**
   * Makes the record's spec (in place of `spec`) from the prepared snapshot's mounts, before the
   * record is written: one write, and a failure leaves no record and no snapshot.
   */
  specFrom?: (rootfs: Mount[]) => Promise<unknown>;
}

export class ContainerdConnection {
  readonly address: string;
  readonly namespace: string;
  readonly containers: ContainersClient;
  readonly tasks: TasksClient;
  readonly events: EventsClient;
  /** Images, content and leases (the image workflows' ports). */
  readonly remote: RemoteContainerd;
  readonly #channel: grpc.Channel;
  readonly #trace: TraceContext | string | undefined;
  readonly #snapshots = new Map<string, RootfsSnapshots>();

  constructor(address: string, opts: { namespace: string; trace?: TraceContext | string | undefined }) {
    this.address = address;
    this.namespace = opts.namespace;
    this.#trace = opts.trace;
    this.#channel = openChannel(address);
    const o = { namespace: opts.namespace, trace: opts.trace, channel: this.#channel };
    this.containers = new ContainersClient(address, o);
    this.tasks = new TasksClient(address, o);
    this.events = new EventsClient(address, o);
    this.remote = new RemoteContainerd(address, o);
  }

  /** The snapshots of one snapshotter (default overlayfs). */
  snapshots(snapshotter = "overlayfs"): RootfsSnapshots {
    let s = this.#snapshots.get(snapshotter);
    if (!s) {
      s = new RootfsSnapshots(this.address, {
        namespace: this.namespace,
        trace: this.#trace,
        channel: this.#channel,
        snapshotter,
      });
      this.#snapshots.set(snapshotter, s);
    }
    return s;
  }

  /**
   * A container on a fresh writable snapshot of `c.image`: the image resolved to its top chain ID,
   * the snapshot prepared on it and the record created, under one temporary lease. The snapshot is
   * removed again when the record cannot be made.
   */
  async newContainer(c: NewContainer): Promise<ContainerRecord> {
    const snapshots = this.snapshots(c.snapshotter);
    const key = c.snapshotKey ?? c.id;
    const ports = this.remote.ports();
    const image = c.resolved ?? (await resolveImage(ports.images, ports.content, c.image, c.platform));
    return withTemporaryLease(ports.leases, async (lease) => {
      const rootfs = await snapshots.prepare(key, image.chainId, { lease });
      try {
        const spec = c.specFrom ? await c.specFrom(rootfs) : c.spec;
        return await this.containers.create({ ...c, spec, snapshotter: snapshots.snapshotter, snapshotKey: key });
      } catch (err) {
        await snapshots.remove(key).catch(() => {});
        throw err;
      }
    });
  }

  /** Deletes the container record, then its writable snapshot (gone already: fine). */
  async removeContainer(id: string): Promise<void> {
    const record = await this.containers.get(id);
    await this.containers.delete(id);
    if (!record.snapshotKey) return;
    try {
      await this.snapshots(record.snapshotter || undefined).remove(record.snapshotKey);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  close(): void {
    for (const c of [this.containers, this.tasks, this.events, this.remote, ...this.#snapshots.values()]) c.close();
  }
}
