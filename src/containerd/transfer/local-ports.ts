// The client workflows' ports (src/oci/transfer/ports.ts) implemented inside the daemon, over the
// namespaced stores directly: what the transfer service hands to pull() so that a pull's bytes
// never cross gRPC. Writes run under the collector's lock and join the lease, as the gRPC
// services' do. Given the transfer call's signal, every byte stream the ports read (a download
// into an ingest, a layer blob into an unpack or a staging directory) is destroyed when the call
// is cancelled, so nothing of a cancelled transfer goes on writing.

import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, mkdir, readdir, rename, rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { addAbortSignal, type Readable } from "node:stream";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from "../../common/errors.ts";
import type { Mount } from "../../common/mount/mount.ts";
import type { ContainerdPorts, ContentPort, ImagePort, LeasePort, SnapshotPort } from "../../oci/transfer/ports.ts";
import { type ApplyResult, adoptParentMetadata, applyLayer } from "../archive/apply.ts";
import { applyTarget } from "../diff/fast-path.ts";
import { checkLayerMediaType, isLayerMediaType } from "../diff/media-types.ts";
import type { ServiceDeps } from "../services/deps.ts";
import { snapshotterOf } from "../services/deps.ts";

export function localPorts(deps: ServiceDeps, ns: string, opts: { signal?: AbortSignal } = {}): ContainerdPorts {
  return portsWith(deps, ns, "", new LayerStaging(deps, opts.signal), opts.signal);
}

/** `stream`, destroyed with the signal's reason when it aborts. */
function abortable<T extends Readable>(stream: T, signal: AbortSignal | undefined): T {
  return signal ? addAbortSignal(signal, stream) : stream;
}

function portsWith(
  deps: ServiceDeps,
  ns: string,
  lease: string,
  staging: LayerStaging,
  signal: AbortSignal | undefined,
): ContainerdPorts {
  const content: ContentPort = {
    info: async (digest) => {
      const row = deps.db.content.get(ns, digest);
      if (!row) return undefined;
      // Held by the lease before the file is looked at (asynchronously): a collection meanwhile
      // would otherwise delete what the caller is told exists.
      if (lease) deps.db.leases.addResource(ns, lease, { type: "content", id: digest });
      const blob = await deps.content.store.info(digest).catch(() => undefined);
      if (!blob) return undefined;
      return { size: blob.size, labels: row.labels };
    },
    read: (digest) => deps.content.store.read(digest),
    readAll: async (digest) => {
      const parts: Buffer[] = [];
      for await (const c of deps.content.store.read(digest)) parts.push(c as Buffer);
      return Buffer.concat(parts);
    },
    label: async (digest, labels) => {
      const paths = Object.keys(labels).map((k) => `labels.${k}`);
      if (paths.length > 0) deps.db.content.updateLabels(ns, digest, labels, paths);
    },
    write: async (ref, desc, open, labels, onProgress) => {
      signal?.throwIfAborted();
      // A blob on disk is not downloaded again: this namespace's joins the lease, another
      // namespace's is shared. Only the file counts: a row whose file was lost is downloaded.
      const stored = await deps.gc.exclusive(async () => {
        const onDisk = await deps.content.store.info(desc.digest).then(
          (i) => i.size === desc.size,
          () => false,
        );
        if (!onDisk) return false;
        if (!deps.db.content.get(ns, desc.digest)) deps.content.committed(ns, desc.digest, labels ?? {}, lease);
        else if (lease) deps.db.leases.addResource(ns, lease, { type: "content", id: desc.digest });
        return true;
      });
      if (stored) return;
      const w = await deps.content.writer(ns, ref, { total: desc.size, expected: desc.digest }, lease);
      try {
        if (w.offset() > desc.size) await w.truncate(0);
        for await (const chunk of abortable(await open(w.offset()), signal)) {
          // The source's own bound (the registry client's) is not trusted for the disk's sake.
          if (w.offset() + (chunk as Buffer).length > desc.size)
            throw new FailedPreconditionError(`${ref}: more than the ${desc.size} bytes of ${desc.digest}`);
          await w.write(chunk as Buffer);
          onProgress?.(w.offset());
        }
        await deps.gc.exclusive(async () => {
          const d = await w.commit(desc.size, desc.digest);
          deps.content.committed(ns, d, labels ?? {}, lease);
        });
      } finally {
        await w.close();
      }
    },
  };
  const snapshots = (name: string): SnapshotPort => {
    const sn = snapshotterOf(deps, name);
    return {
      snapshotter: sn.name,
      exists: async (key) => {
        if (!deps.db.snapshots.get(ns, sn.name, key)) return false;
        if (lease) deps.db.leases.addResource(ns, lease, { type: `snapshots/${sn.name}`, id: key });
        return true;
      },
      prepare: (key, parent, labels) => deps.gc.exclusive(() => sn.prepare(ns, key, parent, labels ?? {}, lease)),
      commit: (name2, key, labels) => deps.gc.exclusive(() => sn.commit(ns, name2, key, labels ?? {}, lease)),
      remove: (key) => sn.remove(ns, key),
    };
  };
  const images: ImagePort = {
    get: async (name) => {
      try {
        const i = deps.db.images.get(ns, name);
        return { name: i.name, labels: i.labels, target: i.target };
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    put: async (image) => {
      const record = {
        name: image.name,
        labels: image.labels,
        target: { ...image.target, annotations: image.target.annotations ?? {} },
      };
      try {
        deps.db.images.create(ns, record);
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) throw err;
        deps.db.images.update(ns, record, []);
      }
      return image;
    },
    delete: async (name, opts) => {
      deps.db.images.delete(ns, name);
      if (opts?.sync) await deps.gc.collect();
      else deps.gc.schedule();
    },
    list: async () => deps.db.images.list(ns).map((i) => ({ name: i.name, labels: i.labels, target: i.target })),
  };
  const leases: LeasePort = {
    create: async (labels) =>
      deps.db.leases.create(ns, `transfer-${Date.now()}-${randomBytes(4).toString("hex")}`, labels ?? {}).id,
    release: async (id) => {
      deps.db.leases.delete(ns, id);
      deps.gc.schedule();
    },
  };
  return {
    content,
    snapshots,
    diff: {
      // What is not a layer is never staged: apply() below refuses it.
      prefetch: (layer, snapshotter, bottom) => {
        if (isLayerMediaType(layer.mediaType)) staging.start(layer.digest, snapshotter, bottom);
      },
      releasePrefetched: () => staging.release(),
      apply: async (layer, mounts) => {
        // The check the Diff service makes for ctr's pull: both paths refuse the same images.
        checkLayerMediaType(layer.mediaType);
        if (!deps.db.content.get(ns, layer.digest))
          throw new NotFoundError(`content digest ${layer.digest}: not found`);
        const staged = await staging.take(layer.digest, mounts);
        if (staged) return staged;
        const blob = createReadStream(deps.content.store.blobPath(layer.digest), { highWaterMark: 1 << 20 });
        const r = await deps.diff.apply(mounts, abortable(blob, signal));
        return { digest: r.diffId, size: r.size };
      },
    },
    images,
    leases,
    withLease: (id) => portsWith(deps, ns, id, staging, signal),
  };
}

interface Staged {
  dir: string;
  bottom: boolean;
  result: Promise<ApplyResult>;
}

/**
 * Layers extracted ahead of their chain. An overlay layer's upper directory does not depend on the
 * layers below it (whiteouts are device nodes, not deletions), so every layer of a pull can be
 * extracted as soon as its blob is in, in parallel, into a staging directory beside the
 * snapshots; applying it to its snapshot is then a rename plus the metadata of the parent
 * directories it did not carry. The bottom layer is staged as a plain tree (it becomes a bind
 * mount's source). Anything that does not fit (another snapshotter, a non-empty target) falls
 * back to the ordinary apply.
 */
class LayerStaging {
  readonly #deps: ServiceDeps;
  readonly #staged = new Map<string, Staged>();
  readonly #signal: AbortSignal | undefined;

  constructor(deps: ServiceDeps, signal: AbortSignal | undefined) {
    this.#deps = deps;
    this.#signal = signal;
  }

  #root(): string | undefined {
    const sn = this.#deps.snapshotters.get("overlayfs");
    return sn ? join(sn.backend.root, "staging") : undefined;
  }

  start(digest: string, snapshotter: string, bottom: boolean): void {
    const root = this.#root();
    if (snapshotter !== "overlayfs" || !root || this.#staged.has(digest)) return;
    const dir = join(root, `${digest.slice(7, 19)}-${randomBytes(4).toString("hex")}`);
    const result = (async () => {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await chmod(dir, 0o755);
      const blob = createReadStream(this.#deps.content.store.blobPath(digest), { highWaterMark: 1 << 20 });
      return applyLayer(abortable(blob, this.#signal), dir, { whiteouts: bottom ? "plain" : "overlay" });
    })();
    // Failures surface when apply() takes the result; until then they must not go unhandled.
    result.catch(() => {});
    this.#staged.set(digest, { dir, bottom, result });
  }

  /** Moves a staged layer into the snapshot's directory; undefined when it cannot be used. */
  async take(digest: string, mounts: Mount[]): Promise<{ digest: string; size: number } | undefined> {
    const s = this.#staged.get(digest);
    if (!s) return undefined;
    this.#staged.delete(digest);
    const target = applyTarget(mounts);
    const fits =
      (s.bottom && target.kind === "directory") ||
      (!s.bottom && target.kind === "overlay-upper" && target.lowers.every((l) => l.startsWith("/")));
    const dest = target.kind === "directory" ? target.dir : target.kind === "overlay-upper" ? target.upper : "";
    if (!fits || (await readdir(dest)).length > 0) {
      await s.result.catch(() => undefined);
      await rm(s.dir, { recursive: true, force: true });
      return undefined;
    }
    let r: ApplyResult;
    try {
      r = await s.result;
    } catch (err) {
      await rm(s.dir, { recursive: true, force: true });
      throw err;
    }
    await rmdir(dest);
    await rename(s.dir, dest);
    if (target.kind === "overlay-upper") await adoptParentMetadata(dest, r.implicitDirs, target.lowers);
    return { digest: r.diffId, size: r.size };
  }

  async release(): Promise<void> {
    for (const [digest, s] of this.#staged) {
      this.#staged.delete(digest);
      await s.result.catch(() => undefined);
      await rm(s.dir, { recursive: true, force: true });
    }
  }
}
