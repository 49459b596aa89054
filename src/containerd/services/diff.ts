// containerd.services.diff.v1: apply a layer blob from the content store onto mounts (the
// unpacker's step), or write the difference of two mount sets into the content store as a layer.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError, NotImplementedError } from "../../common/errors.ts";
import { type Mount, validateMounts } from "../../common/mount/mount.ts";
import { storageError } from "../../common/storage-errors.ts";
import type { Diff } from "../../proto/gen/containerd/services/diff/v1/diff_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { validateDigest } from "../content/local-store.ts";
import { checkLayerMediaType, isLayerMediaType, OCI_LAYER } from "../diff/media-types.ts";
import { namespaceOf, type ServiceDeps } from "./deps.ts";

/** The request's mounts, refused (naming `field`) when mount(8) could take them for options. */
function mountsOf(ms: { type: string; source: string; target: string; options: string[] }[], field: string): Mount[] {
  const mounts = ms.map((m) => ({
    type: m.type,
    source: m.source,
    target: m.target || undefined,
    options: [...m.options],
  }));
  validateMounts(mounts, field);
  return mounts;
}

export function diffService(deps: ServiceDeps): Impl<typeof Diff> {
  return {
    apply: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const desc = req.diff;
      if (!desc) throw new InvalidArgumentError("apply: diff descriptor is required");
      checkLayerMediaType(desc.mediaType);
      const digest = validateDigest(desc.digest);
      const mounts = mountsOf(req.mounts, "mounts");
      await deps.content.info(ns, digest);
      const blob = createReadStream(deps.content.store.blobPath(digest), { highWaterMark: 1 << 20 });
      const r = await deps.diff.apply(mounts, blob, { signal: ctx.signal });
      return { applied: { mediaType: OCI_LAYER, digest: r.diffId, size: BigInt(r.size), annotations: {} } };
    },
    diff: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const gzip = req.mediaType === "" || req.mediaType.endsWith("gzip");
      if (req.mediaType && !isLayerMediaType(req.mediaType))
        throw new NotImplementedError(`unsupported diff media type: ${req.mediaType}`);
      const left = mountsOf(req.left, "left");
      const right = mountsOf(req.right, "right");
      const tmp = await mkdtemp(join(deps.state, "diff-"));
      try {
        const file = join(tmp, "layer");
        const out = createWriteStream(file);
        const r = await deps.diff
          .diff(left, right, out, {
            compression: gzip ? "gzip" : "none",
          })
          .catch((err: unknown) => {
            // A full --state names the file ("write <state>/diff-…/layer: no space left on device").
            throw storageError(err, file);
          });
        const ref = req.ref || `diff-${r.digest}`;
        const w = await deps.content.writer(ns, ref, { total: r.size, expected: r.digest }, ctx.lease);
        try {
          await w.truncate(0);
          for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) await w.write(chunk as Buffer);
          const labels = { ...req.labels, "containerd.io/uncompressed": r.diffId };
          await deps.gc.exclusive(async () => {
            const d = await w.commit(r.size, r.digest);
            deps.content.committed(ns, d, labels, ctx.lease);
          });
        } finally {
          await w.close();
        }
        const mediaType = req.mediaType || `${OCI_LAYER}+gzip`;
        return { diff: { mediaType, digest: r.digest, size: BigInt(r.size), annotations: {} } };
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    },
  };
}
