// Pull: resolve a reference at a registry, fetch the manifest tree for the wanted platforms, stream
// every blob into the content store (resumable, verified), unpack the layers into snapshots and
// record the image. The same GC labels as containerd's client are set, so what a pull leaves behind
// is collected exactly when containerd would collect it.
//
// Overlap is the point: layers download in parallel, and each layer is unpacked as soon as it and
// the layers below it are in, while later layers are still downloading.
//
// A pull stops as a whole: when its signal aborts (the caller went away) or any part of it fails,
// every registry request and download still running is aborted, and the pull ends only once they
// have settled, so nothing it started outlives it (nor writes under its released lease). Partial
// downloads stay in their ingests for the next pull to resume.
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { BerthError, InvalidArgumentError } from "../../common/errors.ts";
import { chainIds } from "../image/identity.ts";
import { decodeImageConfig, decodeIndex, decodeManifest } from "../image/manifest.ts";
import { isIndexMediaType, isManifestMediaType } from "../image/media-types.ts";
import { type PlatformSpec, platformMatcher } from "../image/platforms.ts";
import { parseReference } from "../registry/reference.ts";
import type { RegistryClient } from "../registry/registry-client.ts";
import { checkDocumentSize, readStoredDocument } from "../size-limits.ts";
import { Limiter } from "./limiter.ts";
import type { BlobDescriptor, ContainerdPorts } from "./ports.ts";
import { noProgress, type ProgressListener, throttledBytes } from "./progress.ts";
import { unpackLayers } from "./unpack.ts";

export interface PullOptions {
  /** Platforms to fetch and unpack; default: the host's. */
  platforms?: PlatformSpec[];
  /** Unpack into this snapshotter; undefined: fetch only. */
  snapshotter?: string;
  /** Parallel blob downloads (default 3, as containerd). */
  concurrency?: number;
  progress?: ProgressListener;
  /** Cancels the pull: requests, downloads and unpacking stop, and the pull fails with its reason. */
  signal?: AbortSignal;
}

export interface PulledImage {
  name: string;
  target: BlobDescriptor;
  /** Per unpacked platform, the chain ID of its top snapshot. */
  unpacked: { platform: string; chainId: string }[];
}

interface ManifestPlan {
  platform: string;
  config: BlobDescriptor;
  layers: BlobDescriptor[];
}

const GC_CONTENT = "containerd.io/gc.ref.content";
const SOURCE_LABEL = "containerd.io/distribution.source";

export async function pull(
  ports: ContainerdPorts,
  registry: RegistryClient,
  reference: string,
  opts: PullOptions = {},
): Promise<PulledImage> {
  const ref = parseReference(reference);
  const progress = opts.progress ?? noProgress;
  const matcher = platformMatcher(opts.platforms);
  opts.signal?.throwIfAborted();
  const { name, descriptor: root } = await registry.resolve(ref, { signal: opts.signal });
  progress({ phase: "resolved", digest: root.digest, mediaType: root.mediaType, total: root.size });

  // Aborted by the caller's signal, or by the pull itself when one of its parts fails.
  const stop = new AbortController();
  const signal = stop.signal;
  const cancel = () => stop.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", cancel, { once: true });
  if (opts.signal?.aborted) cancel();
  const downloads = new Map<string, Promise<void>>();

  const lease = await ports.leases.create({
    "containerd.io/gc.expire": new Date(Date.now() + 24 * 3600_000).toISOString(),
  });
  const p = ports.withLease(lease);
  try {
    const source = { [`${SOURCE_LABEL}.${ref.domain}`]: ref.repository };
    // Manifests are read before their children and stored after them, with labels naming them.
    // They are read whole, so one over the document limit is refused before it is read.
    const loadManifest = async (desc: BlobDescriptor): Promise<Uint8Array> => {
      const what = isIndexMediaType(desc.mediaType) ? "index" : "manifest";
      checkDocumentSize(`${what} ${desc.digest}`, desc.size);
      return (await p.content.info(desc.digest))
        ? readStoredDocument(p.content, desc, what)
        : registry.fetchManifest(ref, desc, { signal });
    };
    const storeManifest = async (desc: BlobDescriptor, bytes: Uint8Array, labels: Record<string, string>) => {
      if (await p.content.info(desc.digest)) await p.content.label(desc.digest, { ...labels, ...source });
      else await p.content.write(ingestRef(desc), desc, async () => Readable.from([bytes]), { ...labels, ...source });
    };

    // The manifest tree, top down. Children are written before their parent's labels name them,
    // and the lease protects everything until the image record roots it.
    const plans: ManifestPlan[] = [];
    const collect = async (desc: BlobDescriptor, platform: string | undefined): Promise<Record<string, string>> => {
      if (isIndexMediaType(desc.mediaType)) {
        const bytes = await loadManifest(desc);
        const index = decodeIndex(bytes, desc.mediaType);
        const chosen = matcher.select(index.manifests);
        if (chosen.length === 0) {
          throw new InvalidArgumentError(`${name}: no manifest for platform ${matcher.describe()} in ${desc.digest}`);
        }
        const labels: Record<string, string> = {};
        for (const m of chosen) {
          await collect(m, m.platform ? formatPlatformOf(m.platform) : platform);
          // Numbered by position in the index, so pulls of other platforms add labels, not replace.
          labels[`${GC_CONTENT}.m.${index.manifests.indexOf(m)}`] = m.digest;
        }
        await storeManifest(desc, bytes, labels);
        return labels;
      }
      if (isManifestMediaType(desc.mediaType)) {
        const bytes = await loadManifest(desc);
        const manifest = decodeManifest(bytes, desc.mediaType);
        const labels: Record<string, string> = { [`${GC_CONTENT}.config`]: manifest.config.digest };
        for (const [i, l] of manifest.layers.entries()) labels[`${GC_CONTENT}.l.${i}`] = l.digest;
        plans.push({ platform: platform ?? "", config: manifest.config, layers: manifest.layers });
        await storeManifest(desc, bytes, labels);
        return labels;
      }
      throw new InvalidArgumentError(`${name}: unsupported manifest media type ${desc.mediaType}`);
    };
    await collect(root, undefined);

    // Configs are small (bounded like manifests) and needed for unpacking: fetch them first.
    const configs = new Map<string, Uint8Array>();
    for (const plan of plans) {
      if (configs.has(plan.config.digest)) continue;
      checkDocumentSize(`image config ${plan.config.digest}`, plan.config.size);
      await fetchBlob(p, registry, ref, plan.config, source, progress, signal);
      configs.set(plan.config.digest, await readStoredDocument(p.content, plan.config, "image config"));
    }

    // Every distinct layer, downloading in parallel; unpacking waits per layer on its download.
    const queue = new Limiter(opts.concurrency ?? 3);
    const snapshotter = opts.snapshotter;
    for (const plan of plans) {
      for (const [i, layer] of plan.layers.entries()) {
        if (downloads.has(layer.digest)) continue;
        progress({ phase: "waiting", digest: layer.digest, mediaType: layer.mediaType, total: layer.size });
        const d = queue.run(async () => {
          await fetchBlob(p, registry, ref, layer, source, progress, signal);
          if (snapshotter !== undefined) p.diff.prefetch?.(layer, snapshotter, i === 0);
        });
        // The first failed download stops the others (and the unpack waiting on them); observed
        // below, so no unhandled rejection while unpacking waits elsewhere.
        d.catch((err) => stop.abort(err));
        downloads.set(layer.digest, d);
      }
    }

    const unpacked: PulledImage["unpacked"] = [];
    if (opts.snapshotter !== undefined) {
      for (const plan of plans) {
        const config = decodeImageConfig(configs.get(plan.config.digest)!);
        if (config.rootfs.diff_ids.length !== plan.layers.length) {
          throw new InvalidArgumentError(
            `${name}: config ${plan.config.digest} lists ${config.rootfs.diff_ids.length} layers, the manifest ${plan.layers.length}`,
          );
        }
        const chain = chainIds(config.rootfs.diff_ids);
        signal.throwIfAborted();
        await unpackLayers(p, opts.snapshotter, plan.layers, config.rootfs.diff_ids, {
          ready: (layer) => downloads.get(layer.digest)!,
          progress,
        });
        const top = chain.at(-1);
        if (top !== undefined) {
          await p.content.label(plan.config.digest, { [`containerd.io/gc.ref.snapshot.${opts.snapshotter}`]: top });
          unpacked.push({ platform: plan.platform, chainId: top });
        }
      }
    }
    await Promise.all(downloads.values());

    const target: BlobDescriptor = { mediaType: root.mediaType, digest: root.digest, size: root.size };
    const existing = await p.images.get(name);
    await p.images.put({ name, target, labels: existing?.labels ?? {} });
    progress({ phase: "done", digest: root.digest });
    return { name, target, unpacked };
  } catch (err) {
    stop.abort(err);
    throw err;
  } finally {
    opts.signal?.removeEventListener("abort", cancel);
    await Promise.allSettled(downloads.values());
    await p.diff.releasePrefetched?.();
    await ports.leases.release(lease);
  }
}

async function fetchBlob(
  p: ContainerdPorts,
  registry: RegistryClient,
  ref: ReturnType<typeof parseReference>,
  desc: BlobDescriptor,
  labels: Record<string, string>,
  progress: ProgressListener,
  signal: AbortSignal,
): Promise<void> {
  signal.throwIfAborted();
  if (await p.content.info(desc.digest)) {
    progress({ phase: "exists", digest: desc.digest, mediaType: desc.mediaType, total: desc.size });
    await p.content.label(desc.digest, labels);
    return;
  }
  const tick = throttledBytes(progress, {
    phase: "downloading",
    digest: desc.digest,
    mediaType: desc.mediaType,
    total: desc.size,
  });
  // A download that breaks off mid-blob is resumed from what the ingest holds (a Range request),
  // a few times, before the pull gives up.
  for (let attempt = 0; ; attempt++) {
    try {
      await p.content.write(
        ingestRef(desc),
        desc,
        async (offset) => registry.fetchBlob(ref.repository, desc, { domain: ref.domain, offset, signal }),
        labels,
        tick,
      );
      break;
    } catch (err) {
      // A cancelled download is not a broken one: it is not resumed.
      signal.throwIfAborted();
      if (attempt >= 3 || !isBrokenTransfer(err)) throw err;
      await sleep(100 * 2 ** attempt, undefined, { signal });
    }
  }
  progress({
    phase: "downloaded",
    digest: desc.digest,
    mediaType: desc.mediaType,
    current: desc.size,
    total: desc.size,
  });
}

/** containerd's ingest ref for a remote blob, so a second pull (ours or ctr's) resumes ours. */
function ingestRef(desc: BlobDescriptor): string {
  const kind = isIndexMediaType(desc.mediaType) ? "index" : isManifestMediaType(desc.mediaType) ? "manifest" : "layer";
  return `${kind}-${desc.digest}`;
}

function formatPlatformOf(p: { os: string; architecture: string; variant?: string }): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** A transfer that broke off (connection reset, early close) rather than one that was refused. */
function isBrokenTransfer(err: unknown): boolean {
  if (err instanceof BerthError) return err.kind === "unavailable";
  const code = (err as { code?: string }).code ?? "";
  return (
    /^(ECONNRESET|EPIPE|ETIMEDOUT|UND_ERR_SOCKET|UND_ERR_CLOSED|UND_ERR_RES_CONTENT_LENGTH_MISMATCH|ERR_STREAM_PREMATURE_CLOSE)$/.test(
      code,
    ) || /terminated|other side closed|aborted/i.test(String((err as Error).message))
  );
}
