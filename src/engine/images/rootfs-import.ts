// `docker import`: a filesystem tar (plain or gzip) becomes a one-layer image. The upload is
// spooled to disk, decompressed into the layer (stored uncompressed: its digest is its diff_id),
// checked to be a tar, and written with a config and an OCI manifest that carry containerd's GC
// labels, under a lease until the caller names the image.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { InvalidArgumentError } from "../../common/errors.ts";
import type { Platform } from "../../oci/image/manifest.ts";
import { MediaType } from "../../oci/image/media-types.ts";
import type { BlobDescriptor, ContainerdPorts } from "../../oci/transfer/ports.ts";

export interface RootfsImportOptions {
  /** Where the upload is spooled (default the system's temp dir). */
  spoolDir?: string;
  /** The image config's `config` (after --change). */
  config: Record<string, unknown>;
  /** -m: the history entry's comment. */
  message: string;
  platform: Platform;
}

export interface ImportedRootfs {
  configDigest: string;
  manifest: BlobDescriptor;
  layer: BlobDescriptor;
  diffId: string;
  /** The lease holding the blobs until the image is named: the caller releases it. */
  lease: string;
}

const OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";

/** Hashes and counts what passes. */
function hashing(): Transform & { digest(): string; size: number } {
  const hash = createHash("sha256");
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      t.size += chunk.length;
      cb(null, chunk);
    },
  }) as Transform & { digest(): string; size: number };
  t.size = 0;
  t.digest = () => `sha256:${hash.digest("hex")}`;
  return t;
}

async function head(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export async function importRootfs(
  ports: ContainerdPorts,
  input: Readable,
  opts: RootfsImportOptions,
): Promise<ImportedRootfs> {
  const dir = await mkdtemp(join(opts.spoolDir ?? tmpdir(), "berth-import-rootfs-"));
  try {
    const upload = join(dir, "upload");
    await pipeline(input, createWriteStream(upload));
    const magic = await head(upload, 2);
    const gzip = magic[0] === 0x1f && magic[1] === 0x8b;
    const layerPath = join(dir, "layer.tar");
    const h = hashing();
    try {
      if (gzip) await pipeline(createReadStream(upload), createGunzip(), h, createWriteStream(layerPath));
      else await pipeline(createReadStream(upload), h, createWriteStream(layerPath));
    } catch (err) {
      throw new InvalidArgumentError(`import: the upload does not decompress: ${(err as Error).message}`);
    }
    await rm(upload);
    // Plain or gzip only (dockerd also takes bzip2 and xz): anything else fails here.
    const first = await head(layerPath, 512);
    if (first.length < 512 || first.subarray(257, 262).toString("latin1") !== "ustar")
      throw new InvalidArgumentError("import: the upload is not a tar archive (plain or gzip-compressed)");
    const diffId = h.digest();
    const layer: BlobDescriptor = { mediaType: OCI_LAYER_TAR, digest: diffId, size: h.size };
    const created = new Date().toISOString();
    const configBytes = Buffer.from(
      JSON.stringify({
        architecture: opts.platform.architecture,
        os: opts.platform.os,
        ...(opts.platform.variant ? { variant: opts.platform.variant } : {}),
        created,
        ...(opts.message ? { comment: opts.message } : {}),
        config: opts.config,
        rootfs: { type: "layers", diff_ids: [diffId] },
        history: [{ created, comment: opts.message || "Imported from -" }],
      }),
    );
    const config = {
      mediaType: MediaType.ociConfig,
      digest: `sha256:${createHash("sha256").update(configBytes).digest("hex")}`,
      size: configBytes.length,
    };
    const manifestBytes = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] }),
    );
    const manifest = {
      mediaType: MediaType.ociManifest,
      digest: `sha256:${createHash("sha256").update(manifestBytes).digest("hex")}`,
      size: manifestBytes.length,
    };
    const lease = await ports.leases.create({
      "containerd.io/gc.expire": new Date(Date.now() + 3600_000).toISOString(),
    });
    try {
      const p = ports.withLease(lease);
      await p.content.write(`import-${layer.digest}`, layer, async (offset) =>
        createReadStream(layerPath, { start: offset }),
      );
      await p.content.write(`import-${config.digest}`, config, async () => Readable.from([configBytes]));
      await p.content.write(`import-${manifest.digest}`, manifest, async () => Readable.from([manifestBytes]), {
        "containerd.io/gc.ref.content.config": config.digest,
        "containerd.io/gc.ref.content.l.0": layer.digest,
      });
    } catch (err) {
      await ports.leases.release(lease);
      throw err;
    }
    return { configDigest: config.digest, manifest, layer, diffId, lease };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
