// Push: upload an image from the content store to a registry. Blobs go first (in parallel, skipped
// when the registry has them), then manifests bottom up, so the registry never sees a manifest
// whose blobs it lacks; the root manifest is put last under the reference's tag (or digest).
import { NotFoundError } from "../../common/errors.ts";
import { decodeIndex, decodeManifest } from "../image/manifest.ts";
import { isIndexMediaType, isManifestMediaType } from "../image/media-types.ts";
import { parseReference } from "../registry/reference.ts";
import type { RegistryClient } from "../registry/registry-client.ts";
import { readStoredDocument } from "../size-limits.ts";
import { Limiter } from "./limiter.ts";
import type { BlobDescriptor, ContainerdPorts } from "./ports.ts";
import { noProgress, type ProgressListener } from "./progress.ts";

export interface PushOptions {
  concurrency?: number;
  progress?: ProgressListener;
}

/** Pushes the local image `imageName` to `reference` (default: the image's own name). */
export async function push(
  ports: ContainerdPorts,
  registry: RegistryClient,
  imageName: string,
  reference: string = imageName,
  opts: PushOptions = {},
): Promise<BlobDescriptor> {
  const progress = opts.progress ?? noProgress;
  const image = await ports.images.get(imageName);
  if (!image) throw new NotFoundError(`image ${imageName}: not found`);
  const ref = parseReference(reference);
  const limiter = new Limiter(opts.concurrency ?? 4);
  const pushed = new Map<string, Promise<void>>();

  const uploaded = (desc: BlobDescriptor) =>
    progress({
      phase: "uploaded",
      digest: desc.digest,
      mediaType: desc.mediaType,
      current: desc.size,
      total: desc.size,
    });

  const pushBlob = (desc: BlobDescriptor): Promise<void> => {
    let done = pushed.get(desc.digest);
    if (!done) {
      done = limiter.run(async () => {
        progress({ phase: "uploading", digest: desc.digest, mediaType: desc.mediaType, total: desc.size });
        await registry.pushBlob(ref, desc, () => ports.content.read(desc.digest));
        uploaded(desc);
      });
      pushed.set(desc.digest, done);
    }
    return done;
  };

  // Children first; a manifest goes up by digest once everything it names is there.
  const pushTree = async (desc: BlobDescriptor, isRoot: boolean): Promise<void> => {
    if (!isIndexMediaType(desc.mediaType) && !isManifestMediaType(desc.mediaType)) {
      await pushBlob(desc);
      return;
    }
    const bytes = await readStoredDocument(
      ports.content,
      desc,
      isIndexMediaType(desc.mediaType) ? "index" : "manifest",
    );
    if (isIndexMediaType(desc.mediaType)) {
      const index = decodeIndex(bytes, desc.mediaType);
      // Only what this store holds: a pull for one platform has just that platform's manifests.
      const present = [];
      for (const m of index.manifests) if (await ports.content.info(m.digest)) present.push(m);
      await Promise.all(present.map((m) => pushTree(m, false)));
    } else {
      const manifest = decodeManifest(bytes, desc.mediaType);
      await Promise.all([manifest.config, ...manifest.layers].map(pushBlob));
    }
    const target = isRoot ? ref : { ...ref, tag: undefined, digest: desc.digest };
    await registry.pushManifest(target, desc.mediaType, bytes);
    uploaded(desc);
  };
  await pushTree(image.target, true);
  progress({ phase: "done", digest: image.target.digest });
  return image.target;
}
