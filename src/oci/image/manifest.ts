// Decoding of manifests, indexes and image configs: JSON from a registry or an archive becomes a
// typed value once, here, with errors that name the document and the field.
import { InvalidArgumentError, NotImplementedError } from "../../common/errors.ts";
import type { BlobDescriptor } from "../transfer/ports.ts";
import { isIndexMediaType, isManifestMediaType, MediaType } from "./media-types.ts";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface IndexEntry extends BlobDescriptor {
  platform?: Platform;
}

export interface ImageIndex {
  mediaType: string;
  manifests: IndexEntry[];
}

export interface ImageManifest {
  mediaType: string;
  config: BlobDescriptor;
  layers: BlobDescriptor[];
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  rootfs: { type: string; diff_ids: string[] };
  config: Record<string, unknown>;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;

function parse(bytes: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`${what}: not valid JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new InvalidArgumentError(`${what}: not a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * A value from the document, shown briefly in an error: a string's first 64 characters, a
 * number, or the kind of value. Never the value whole (a document may be 4 MiB) nor by
 * JSON.stringify, whose recursion a deeply nested value (which JSON.parse builds) overflows.
 */
function shown(v: unknown): string {
  if (typeof v === "string")
    return v.length <= 64
      ? JSON.stringify(v)
      : `${JSON.stringify(v.slice(0, 64)).slice(0, -1)}…" (${v.length} characters)`;
  if (v === undefined) return "(missing)";
  if (v === null || typeof v === "number" || typeof v === "boolean") return String(v);
  return Array.isArray(v) ? "(an array)" : `(${typeof v === "object" ? "an object" : typeof v})`;
}

export function decodeDescriptor(v: unknown, where: string): BlobDescriptor {
  const o = v as Record<string, unknown> | null;
  if (!o || typeof o !== "object") throw new InvalidArgumentError(`${where}: descriptor must be an object`);
  if (typeof o.mediaType !== "string" || o.mediaType === "")
    throw new InvalidArgumentError(`${where}.mediaType: missing`);
  if (typeof o.digest !== "string" || !DIGEST.test(o.digest))
    throw new InvalidArgumentError(`${where}.digest: invalid ${shown(o.digest)}`);
  if (typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 0)
    throw new InvalidArgumentError(`${where}.size: invalid ${shown(o.size)}`);
  const d: BlobDescriptor = { mediaType: o.mediaType, digest: o.digest, size: o.size };
  if (o.annotations !== undefined && o.annotations !== null)
    d.annotations = stringMap(o.annotations, `${where}.annotations`);
  return d;
}

/** A JSON object of strings (annotations, labels), as Go's map[string]string decodes one. */
function stringMap(v: unknown, where: string): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new InvalidArgumentError(`${where}: must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string") throw new InvalidArgumentError(`${where}[${JSON.stringify(k)}]: must be a string`);
    // defineProperty: a key named "__proto__" stays a key.
    Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** An optional string field: absent (or null) gives undefined; any other type is refused. */
function optionalString(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new InvalidArgumentError(`${where}: must be a string`);
  return v;
}

function decodePlatform(v: unknown, where: string): Platform | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw new InvalidArgumentError(`${where}: must be an object`);
  const p = v as Record<string, unknown>;
  const os = optionalString(p.os, `${where}.os`);
  const architecture = optionalString(p.architecture, `${where}.architecture`);
  const variant = optionalString(p.variant, `${where}.variant`);
  // A platform without os or architecture matches nothing (as before): leave it out.
  if (os === undefined || architecture === undefined) return undefined;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

function checkMediaType(doc: Record<string, unknown>, declared: string, what: string): void {
  if (
    declared === MediaType.dockerSchema1Signed ||
    declared.startsWith("application/vnd.docker.distribution.manifest.v1")
  ) {
    throw new NotImplementedError(`${what}: Docker schema 1 manifests are not supported (${declared})`);
  }
  if (typeof doc.mediaType === "string" && doc.mediaType !== declared) {
    throw new InvalidArgumentError(`${what}: mediaType ${doc.mediaType} does not match the declared ${declared}`);
  }
}

export function decodeIndex(bytes: Uint8Array, mediaType: string): ImageIndex {
  if (!isIndexMediaType(mediaType)) throw new InvalidArgumentError(`unsupported index media type ${mediaType}`);
  const doc = parse(bytes, "index");
  checkMediaType(doc, mediaType, "index");
  if (!Array.isArray(doc.manifests)) throw new InvalidArgumentError("index.manifests: must be an array");
  return {
    mediaType,
    manifests: doc.manifests.map((m, i) => {
      const d: IndexEntry = decodeDescriptor(m, `index.manifests[${i}]`);
      const p = decodePlatform((m as { platform?: unknown }).platform, `index.manifests[${i}].platform`);
      if (p) d.platform = p;
      return d;
    }),
  };
}

export function decodeManifest(bytes: Uint8Array, mediaType: string): ImageManifest {
  if (!isManifestMediaType(mediaType)) throw new InvalidArgumentError(`unsupported manifest media type ${mediaType}`);
  const doc = parse(bytes, "manifest");
  checkMediaType(doc, mediaType, "manifest");
  if (!Array.isArray(doc.layers)) throw new InvalidArgumentError("manifest.layers: must be an array");
  return {
    mediaType,
    config: decodeDescriptor(doc.config, "manifest.config"),
    layers: doc.layers.map((l, i) => decodeDescriptor(l, `manifest.layers[${i}]`)),
  };
}

export function decodeImageConfig(bytes: Uint8Array): ImageConfig {
  const doc = parse(bytes, "image config");
  const rootfs = doc.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || !Array.isArray(rootfs.diff_ids))
    throw new InvalidArgumentError("image config.rootfs.diff_ids: must be an array");
  for (const [i, d] of rootfs.diff_ids.entries()) {
    if (typeof d !== "string" || !DIGEST.test(d))
      throw new InvalidArgumentError(`image config.rootfs.diff_ids[${i}]: invalid ${shown(d)}`);
  }
  const config = doc.config ?? {};
  if (typeof config !== "object" || Array.isArray(config))
    throw new InvalidArgumentError("image config.config: must be an object");
  return {
    architecture: optionalString(doc.architecture, "image config.architecture") ?? "",
    os: optionalString(doc.os, "image config.os") ?? "",
    variant: optionalString(doc.variant, "image config.variant"),
    rootfs: {
      type: optionalString(rootfs.type, "image config.rootfs.type") ?? "layers",
      diff_ids: rootfs.diff_ids as string[],
    },
    config: config as Record<string, unknown>,
  };
}
