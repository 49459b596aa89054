// Unpack: turn an image's layers into a chain of committed snapshots named by chain ID, the way
// containerd's unpacker does, so ctr, berthd and containerd all find (and share) the same
// snapshots. Each layer is applied onto an extraction snapshot prepared on its parent chain; the
// diffID the applier computes must equal the config's, or the layer is refused.
import { randomBytes } from "node:crypto";
import { AlreadyExistsError, FailedPreconditionError } from "../../common/errors.ts";
import { chainIds } from "../image/identity.ts";
import type { BlobDescriptor, ContainerdPorts } from "./ports.ts";
import { noProgress, type ProgressListener } from "./progress.ts";

export interface UnpackOptions {
  /** Resolves when the layer's blob is in the content store (pull passes its download). */
  ready?: (layer: BlobDescriptor) => Promise<void>;
  progress?: ProgressListener;
}

/** Unpacks `layers` (bottom first) whose uncompressed digests are `diffIds`; returns the chain IDs. */
export async function unpackLayers(
  ports: ContainerdPorts,
  snapshotter: string,
  layers: BlobDescriptor[],
  diffIds: string[],
  opts: UnpackOptions = {},
): Promise<string[]> {
  const progress = opts.progress ?? noProgress;
  const sn = ports.snapshots(snapshotter);
  const chain = chainIds(diffIds);
  for (const [i, layer] of layers.entries()) {
    const chainId = chain[i]!;
    const parent = i === 0 ? "" : chain[i - 1]!;
    if (await sn.exists(chainId)) {
      progress({ phase: "extracted", digest: layer.digest, mediaType: layer.mediaType });
      continue;
    }
    await opts.ready?.(layer);
    progress({ phase: "extracting", digest: layer.digest, mediaType: layer.mediaType, total: layer.size });
    const key = `extract-${uniqueKeyPart()} ${chainId}`;
    const mounts = await sn.prepare(key, parent, { "containerd.io/snapshot.ref": chainId });
    try {
      const applied = await ports.diff.apply(layer, mounts);
      if (applied.digest !== diffIds[i]) {
        throw new FailedPreconditionError(
          `layer ${layer.digest}: unpacked content has digest ${applied.digest}, the image config says ${diffIds[i]}`,
        );
      }
      try {
        await sn.commit(chainId, key);
      } catch (err) {
        // Someone else (a concurrent pull) committed the same chain first: theirs is as good.
        if (!(err instanceof AlreadyExistsError)) throw err;
        await sn.remove(key);
      }
    } catch (err) {
      // The failure is what the caller must see; a failed removal leaves a key GC collects later.
      await sn.remove(key).catch(() => {});
      throw err;
    }
    await ports.content.label(layer.digest, { "containerd.io/uncompressed": diffIds[i]! });
    progress({ phase: "extracted", digest: layer.digest, mediaType: layer.mediaType });
  }
  return chain;
}

/** The unique part of an extraction key ("extract-<unique> <chainID>", containerd's format). */
function uniqueKeyPart(): string {
  return `${Date.now()}-${randomBytes(6).toString("base64url")}`;
}
