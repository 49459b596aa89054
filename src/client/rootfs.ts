// A container's rootfs as a snapshot: the writable layer prepared on the image's top chain ID (the
// snapshot unpacking committed for the image's last layer, named by the chain of the config's
// diff_ids), its mounts for the task, its disk usage, and its removal. The image is resolved the
// way containerd's client does: image record → (index: the host's manifest) → manifest → config.
import { FailedPreconditionError, NotFoundError } from "../common/errors.ts";
import type { Mount } from "../common/mount/mount.ts";
import { chainIds } from "../oci/image/identity.ts";
import { decodeImageConfig, decodeIndex, decodeManifest, type ImageConfig } from "../oci/image/manifest.ts";
import { isIndexMediaType } from "../oci/image/media-types.ts";
import { type PlatformSpec, platformMatcher } from "../oci/image/platforms.ts";
import { readStoredDocument } from "../oci/size-limits.ts";
import type { BlobDescriptor, ContentPort, ImagePort } from "../oci/transfer/ports.ts";
import { Snapshots } from "../proto/gen/containerd/services/snapshots/v1/snapshots_pb.js";
import { createClient } from "../rpc/grpc.ts";
import { naming } from "./call-errors.ts";
import type { ConnectOptions } from "./containers.ts";
import { toMount } from "./remote.ts";

/** An image as a container needs it: its config and the chain ID its rootfs is prepared on. */
export interface ResolvedImage {
  name: string;
  manifestDigest: string;
  /** The config's digest (dockerd's image id). */
  configDigest: string;
  /** The manifest's layers, bottom first. */
  layers: BlobDescriptor[];
  config: ImageConfig;
  /** The config document as stored (bounded), for what the typed config leaves out (history, created). */
  configBytes: Uint8Array;
  /** The top layer's chain ID ("" for an image without layers). */
  chainId: string;
}

/** Resolves `name` in the image store to its config and top chain ID (for `platform`, default the host's). */
export async function resolveImage(
  images: ImagePort,
  content: ContentPort,
  name: string,
  platform?: PlatformSpec,
): Promise<ResolvedImage> {
  const image = await images.get(name);
  if (!image) throw new NotFoundError(`image ${name}: not found`);
  return resolveTarget(content, image.target, name, platform);
}

/** Resolves an image record's target (index or manifest) to its config and top chain ID. */
export async function resolveTarget(
  content: ContentPort,
  root: BlobDescriptor,
  name: string,
  platform?: PlatformSpec,
): Promise<ResolvedImage> {
  let target = root;
  if (isIndexMediaType(target.mediaType)) {
    const index = decodeIndex(await readStoredDocument(content, target, `image ${name}: index`), target.mediaType);
    const matcher = platformMatcher(platform ? [platform] : undefined);
    const hit = matcher.select(index.manifests)[0];
    if (!hit) throw new NotFoundError(`image ${name}: no manifest for ${matcher.describe()}`);
    target = hit;
  }
  const manifest = decodeManifest(
    await readStoredDocument(content, target, `image ${name}: manifest`),
    target.mediaType,
  );
  const configBytes = await readStoredDocument(content, manifest.config, `image ${name}: config`);
  const config = decodeImageConfig(configBytes);
  if (config.rootfs.diff_ids.length !== manifest.layers.length)
    throw new FailedPreconditionError(
      `image ${name}: its config names ${config.rootfs.diff_ids.length} layers, its manifest ${manifest.layers.length}`,
    );
  return {
    name,
    manifestDigest: target.digest,
    configDigest: manifest.config.digest,
    layers: manifest.layers,
    config,
    configBytes,
    chainId: chainIds(config.rootfs.diff_ids).at(-1) ?? "",
  };
}

export interface SnapshotUsage {
  /** Bytes the snapshot's own layer uses (its upper directory, for a writable one). */
  size: number;
  inodes: number;
}

/** One snapshotter's snapshots as a container's rootfs uses them. */
export class RootfsSnapshots {
  readonly snapshotter: string;
  readonly #client;

  constructor(address: string, opts: ConnectOptions & { snapshotter?: string }) {
    this.snapshotter = opts.snapshotter ?? "overlayfs";
    this.#client = createClient(Snapshots, address, opts);
  }

  close(): void {
    this.#client.close();
  }

  /**
   * Prepares the writable snapshot `key` on `parent` (a chain ID; "" for an empty rootfs) and returns
   * its mounts. `lease` holds it against garbage collection until a container record names it.
   */
  async prepare(
    key: string,
    parent: string,
    opts: { labels?: Record<string, string>; lease?: string } = {},
  ): Promise<Mount[]> {
    const r = await naming(
      `snapshot ${key}`,
      this.#client.prepare({ snapshotter: this.snapshotter, key, parent, labels: opts.labels ?? {} }, callOf(opts)),
    );
    return r.mounts.map(toMount);
  }

  /** The mounts of an existing snapshot (what a task's rootfs is). */
  async mounts(key: string): Promise<Mount[]> {
    const r = await naming(`snapshot ${key}`, this.#client.mounts({ snapshotter: this.snapshotter, key }));
    return r.mounts.map(toMount);
  }

  async exists(key: string): Promise<boolean> {
    try {
      await naming(`snapshot ${key}`, this.#client.stat({ snapshotter: this.snapshotter, key }));
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async usage(key: string): Promise<SnapshotUsage> {
    const r = await naming(`snapshot ${key}`, this.#client.usage({ snapshotter: this.snapshotter, key }));
    return { size: Number(r.size), inodes: Number(r.inodes) };
  }

  async remove(key: string): Promise<void> {
    await naming(`snapshot ${key}`, this.#client.remove({ snapshotter: this.snapshotter, key }));
  }
}

const callOf = (o: { lease?: string }) => (o.lease ? { lease: o.lease } : {});
