// Image archives: export images as one tar that is both an OCI image layout (oci-layout,
// index.json, blobs/sha256/*) and a `docker save` archive (manifest.json naming config and layers
// by path), and import such tars — OCI layouts, and docker-save archives of either generation
// (blobs/sha256/* or the legacy <id>/layer.tar with <config>.json), synthesising a Docker schema2
// manifest for the legacy kind as containerd's import does. Every blob is verified against its
// digest as it is stored; a bad archive records no image.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, pack } from "tar-stream";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../common/errors.ts";
import { decodeIndex, decodeManifest } from "../image/manifest.ts";
import { isIndexMediaType, isManifestMediaType, MediaType } from "../image/media-types.ts";
import { checkDocumentSize, readStoredDocument } from "../size-limits.ts";
import type { BlobDescriptor, ContainerdPorts, StoredImage } from "./ports.ts";

const REF_NAME = "org.opencontainers.image.ref.name";
const IMAGE_NAME = "io.containerd.image.name";

/** The blobs an image's target reaches in the store (children of an index only where present). */
async function walk(
  ports: ContainerdPorts,
  target: BlobDescriptor,
): Promise<{ blobs: BlobDescriptor[]; manifests: { desc: BlobDescriptor; config: string; layers: string[] }[] }> {
  const blobs: BlobDescriptor[] = [];
  const manifests: { desc: BlobDescriptor; config: string; layers: string[] }[] = [];
  const visit = async (d: BlobDescriptor) => {
    if (blobs.some((b) => b.digest === d.digest)) return;
    if (!(await ports.content.info(d.digest))) throw new NotFoundError(`export: blob ${d.digest} is not in the store`);
    blobs.push(d);
    if (isIndexMediaType(d.mediaType)) {
      const index = decodeIndex(await readStoredDocument(ports.content, d, "index"), d.mediaType);
      for (const m of index.manifests) if (await ports.content.info(m.digest)) await visit(m);
    } else if (isManifestMediaType(d.mediaType)) {
      const m = decodeManifest(await readStoredDocument(ports.content, d, "manifest"), d.mediaType);
      manifests.push({ desc: d, config: m.config.digest, layers: m.layers.map((l) => l.digest) });
      for (const b of [m.config, ...m.layers]) await visit(b);
    }
  };
  await visit(target);
  return { blobs, manifests };
}

const blobPath = (digest: string) => `blobs/sha256/${digest.slice(7)}`;

/** Writes `names` (images in the store) to `out` as an OCI layout + docker-save tar. */
export async function exportImages(ports: ContainerdPorts, names: string[], out: Writable): Promise<void> {
  const images: StoredImage[] = [];
  for (const n of names) {
    const i = await ports.images.get(n);
    if (!i) throw new NotFoundError(`export: image ${n}: not found`);
    images.push(i);
  }
  const tar = pack();
  const done = pipeline(tar, out);
  // Both settle or the first failure wins: a destination that fails (a full disk) ends the export
  // with its own error, not an unheard rejection while the entries wait on a tar that is gone.
  const writing = writeEntries(ports, images, tar).then(
    () => tar.finalize(),
    (err: unknown) => {
      // Once the pipeline has failed the tar is gone already; destroying it again would raise its
      // error where nobody listens.
      if (!tar.destroyed) tar.destroy(err as Error);
      throw err;
    },
  );
  await Promise.all([writing, done]);
}

/** The archive's entries: each image's blobs once, then index.json, oci-layout, manifest.json. */
async function writeEntries(
  ports: ContainerdPorts,
  images: StoredImage[],
  tar: ReturnType<typeof pack>,
): Promise<void> {
  const written = new Set<string>();
  const dockerManifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const entries: Record<string, unknown>[] = [];
  for (const image of images) {
    const { blobs, manifests } = await walk(ports, image.target);
    for (const b of blobs) {
      if (written.has(b.digest)) continue;
      written.add(b.digest);
      await new Promise<void>((resolve, reject) => {
        const entry = tar.entry({ name: blobPath(b.digest), size: b.size, mode: 0o644 }, (err) =>
          err ? reject(err) : resolve(),
        );
        // The entry fails with the tar when the destination does (a full disk): heard here, it
        // ends this wait; unheard, it was an uncaughtException.
        entry.on("error", reject);
        const blob = ports.content.read(b.digest).on("error", reject);
        blob.pipe(entry);
        entry.once("error", () => blob.destroy());
      });
    }
    const tag = image.name.includes("@") ? undefined : image.name.slice(image.name.lastIndexOf(":") + 1);
    entries.push({
      mediaType: image.target.mediaType,
      digest: image.target.digest,
      size: image.target.size,
      annotations: { [IMAGE_NAME]: image.name, ...(tag ? { [REF_NAME]: tag } : {}) },
    });
    // docker load wants one single-platform manifest: the first the store holds.
    const first = manifests[0];
    if (first)
      dockerManifest.push({
        Config: blobPath(first.config),
        RepoTags: [image.name],
        Layers: first.layers.map(blobPath),
      });
  }
  const json = (name: string, v: unknown) => tar.entry({ name, mode: 0o644 }, Buffer.from(JSON.stringify(v)));
  json("oci-layout", { imageLayoutVersion: "1.0.0" });
  json("index.json", { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries });
  json("manifest.json", dockerManifest);
}

export interface ImportOptions {
  /** Name for images the archive does not name. */
  defaultName?: string;
  /** Where the archive's files are spooled (default the system's temp dir; it may be a RAM tmpfs). */
  spoolDir?: string;
}

/** A file of the archive, spooled to disk with its digest. */
interface Spooled {
  path: string;
  digest: string;
  size: number;
}

/** Reads an archive into the store; returns the images it recorded. */
export async function importImages(
  ports: ContainerdPorts,
  input: Readable,
  opts: ImportOptions = {},
): Promise<StoredImage[]> {
  const dir = await mkdtemp(join(opts.spoolDir ?? tmpdir(), "berth-import-"));
  try {
    const files = new Map<string, Spooled>();
    const ex = extract();
    let n = 0;
    // The first hostile entry; the rest of the archive is read and dropped, then the import fails.
    let refused: InvalidArgumentError | undefined;
    ex.on("entry", (header, stream, next) => {
      const name = header.name.replace(/^\.\//, "");
      if (name.startsWith("/") || name.split("/").includes("..")) {
        refused ??= new InvalidArgumentError(
          `import: archive entry ${JSON.stringify(header.name)} escapes the archive`,
        );
      }
      if (header.type !== "file" || refused) {
        stream.resume();
        stream.on("end", next);
        return;
      }
      const path = join(dir, String(n++));
      const hash = createHash("sha256");
      let size = 0;
      stream.on("data", (c: unknown) => {
        hash.update(c as Buffer);
        size += (c as Buffer).length;
      });
      pipeline(stream, createWriteStream(path)).then(
        () => {
          files.set(name, { path, digest: `sha256:${hash.digest("hex")}`, size });
          next();
        },
        (err) => ex.destroy(err),
      );
    });
    await pipeline(input, ex);
    if (refused) throw refused;

    // The archive's JSON documents are read whole: each is bounded like a manifest.
    const document = async (name: string, f: Spooled) => {
      checkDocumentSize(`import: ${name}`, f.size);
      return readFile(f.path);
    };
    const text = async (name: string) => {
      const f = files.get(name);
      return f ? (await document(name, f)).toString("utf8") : undefined;
    };
    // Blobs named by digest must be what they say.
    for (const [name, f] of files) {
      const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
      if (m && f.digest !== `sha256:${m[1]}`)
        throw new FailedPreconditionError(`import: ${name} has digest ${f.digest}`);
    }
    const lease = await ports.leases.create({
      "containerd.io/gc.expire": new Date(Date.now() + 3600_000).toISOString(),
    });
    const p = ports.withLease(lease);
    const store = async (d: BlobDescriptor, f: Spooled) => {
      if (f.digest !== d.digest || f.size !== d.size) {
        throw new FailedPreconditionError(
          `import: blob ${d.digest} (${d.size} bytes) does not match the archive's file (${f.digest}, ${f.size} bytes)`,
        );
      }
      await p.content.write(`import-${d.digest}`, d, async () => createReadStream(f.path));
    };
    const byDigest = (digest: string) => files.get(blobPath(digest));

    try {
      const records: StoredImage[] = [];
      const indexText = await text("index.json");
      if (indexText !== undefined) {
        // An OCI layout: store every blob the index reaches, children first.
        const index = decodeIndex(Buffer.from(indexText), MediaType.ociIndex);
        const storeTree = async (d: BlobDescriptor): Promise<Record<string, string>> => {
          const f = byDigest(d.digest);
          if (!f) throw new NotFoundError(`import: the archive lacks blob ${d.digest}`);
          const labels: Record<string, string> = {};
          if (isIndexMediaType(d.mediaType)) {
            const idx = decodeIndex(await document(blobPath(d.digest), f), d.mediaType);
            for (const [i, m] of idx.manifests.entries()) {
              if (!byDigest(m.digest)) continue; // a layout may hold one platform of an index
              await storeTree(m);
              labels[`containerd.io/gc.ref.content.m.${i}`] = m.digest;
            }
          } else if (isManifestMediaType(d.mediaType)) {
            const m = decodeManifest(await document(blobPath(d.digest), f), d.mediaType);
            for (const [i, b] of [m.config, ...m.layers].entries()) {
              const bf = byDigest(b.digest);
              if (!bf) throw new NotFoundError(`import: the archive lacks blob ${b.digest}`);
              await store(b, bf);
              labels[i === 0 ? "containerd.io/gc.ref.content.config" : `containerd.io/gc.ref.content.l.${i - 1}`] =
                b.digest;
            }
          } else {
            throw new InvalidArgumentError(`import: unsupported media type ${d.mediaType} in index.json`);
          }
          await store(d, f);
          await p.content.label(d.digest, labels);
          return labels;
        };
        for (const m of index.manifests) {
          await storeTree(m);
          const name = m.annotations?.[IMAGE_NAME] ?? m.annotations?.[REF_NAME] ?? opts.defaultName;
          if (!name) continue;
          records.push(
            await p.images.put({
              name,
              target: { mediaType: m.mediaType, digest: m.digest, size: m.size },
              labels: {},
            }),
          );
        }
        return records;
      }
      const manifestText = await text("manifest.json");
      if (manifestText === undefined)
        throw new InvalidArgumentError("import: neither index.json nor manifest.json: not an image archive");
      // A legacy docker-save archive: config and layer files by path; make a schema2 manifest.
      let entries: { Config: string; RepoTags?: string[]; Layers: string[] }[];
      try {
        entries = JSON.parse(manifestText);
      } catch (err) {
        throw new InvalidArgumentError(`import: manifest.json: ${(err as Error).message}`);
      }
      if (!Array.isArray(entries)) throw new InvalidArgumentError("import: manifest.json must be an array");
      for (const e of entries) {
        const file = (path: string) => {
          const f = files.get(path);
          if (!f) throw new NotFoundError(`import: manifest.json names ${path}, which the archive lacks`);
          return f;
        };
        const cf = file(e.Config);
        const config = { mediaType: MediaType.dockerConfig, digest: cf.digest, size: cf.size };
        await store(config, cf);
        const layers: BlobDescriptor[] = [];
        for (const l of e.Layers) {
          const lf = file(l);
          const compressed = (await firstBytes(lf.path)).subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]));
          const d = {
            mediaType: compressed ? MediaType.dockerLayerGzip : "application/vnd.docker.image.rootfs.diff.tar",
            digest: lf.digest,
            size: lf.size,
          };
          await store(d, lf);
          layers.push(d);
        }
        const manifest = Buffer.from(
          JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config, layers }),
        );
        const md = {
          mediaType: MediaType.dockerManifest,
          digest: `sha256:${createHash("sha256").update(manifest).digest("hex")}`,
          size: manifest.length,
        };
        await p.content.write(`import-${md.digest}`, md, async () => Readable.from([manifest]), {
          "containerd.io/gc.ref.content.config": config.digest,
          ...Object.fromEntries(layers.map((l, i) => [`containerd.io/gc.ref.content.l.${i}`, l.digest])),
        });
        for (const name of e.RepoTags?.length ? e.RepoTags : opts.defaultName ? [opts.defaultName] : []) {
          records.push(await p.images.put({ name, target: md, labels: {} }));
        }
      }
      return records;
    } finally {
      await ports.leases.release(lease);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function firstBytes(path: string): Promise<Buffer> {
  const st = await stat(path);
  if (st.size === 0) return Buffer.alloc(0);
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(Math.min(4, st.size));
    await fh.read(buf, 0, buf.length, 0);
    return buf;
  } finally {
    await fh.close();
  }
}
