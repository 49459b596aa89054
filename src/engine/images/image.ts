// An image as dockerd shows one: the containerd image records (names) that resolve to one config
// are one image, whose id is the config's digest. What the typed config (src/oci) leaves out —
// created, author, comment, history — is read here from the config document, each field's type
// checked (a wrong type reads as absent).
import type { ImageConfig } from "../../oci/image/manifest.ts";
import type { BlobDescriptor } from "../../oci/transfer/ports.ts";
import { isDanglingName } from "./reference.ts";

/** One name in containerd's image store. */
export interface ImageRecord {
  name: string;
  target: BlobDescriptor;
  labels: Record<string, string>;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface HistoryEntry {
  created: string;
  createdBy: string;
  comment: string;
  author: string;
  emptyLayer: boolean;
}

/** The config document's descriptive fields. */
export interface ConfigFacts {
  /** RFC 3339 as the config says it, "" when absent. */
  created: string;
  author: string;
  comment: string;
  history: HistoryEntry[];
}

/** What resolving one target gives (src/client's resolveTarget, plus the config's facts). */
export interface ResolvedTarget {
  configDigest: string;
  manifestDigest: string;
  layers: BlobDescriptor[];
  config: ImageConfig;
  facts: ConfigFacts;
  /** The top chain id ("" without layers). */
  chainId: string;
}

export interface Image extends ResolvedTarget {
  /** The config digest: dockerd's image id. */
  id: string;
  /** Full names (tags and name@digest), never a dangling name. */
  names: string[];
  /** Every record of the image, a dangling one included. */
  records: ImageRecord[];
  /** Bytes of each layer: its unpacked size when the snapshot exists, else its blob's size. */
  layerSizes: number[];
  /** The most recent time a name was set. */
  lastTagTime?: Date;
}

/** History entries past this are dropped: a config is bounded at 4 MiB already; real ones have < 200. */
const MAX_HISTORY = 10_000;

const str = (v: unknown) => (typeof v === "string" ? v : "");

export function configFacts(bytes: Uint8Array): ConfigFacts {
  let doc: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(Buffer.from(bytes).toString("utf8"));
    if (v && typeof v === "object" && !Array.isArray(v)) doc = v as Record<string, unknown>;
  } catch {}
  const history = Array.isArray(doc.history) ? doc.history.slice(0, MAX_HISTORY) : [];
  return {
    created: str(doc.created),
    author: str(doc.author),
    comment: str(doc.comment),
    history: history.map((h) => {
      const e = h && typeof h === "object" && !Array.isArray(h) ? (h as Record<string, unknown>) : {};
      return {
        created: str(e.created),
        createdBy: str(e.created_by),
        comment: str(e.comment),
        author: str(e.author),
        emptyLayer: e.empty_layer === true,
      };
    }),
  };
}

/**
 * Groups records by the config their target resolves to (`resolved`, by target digest; a record
 * whose target did not resolve is left out). `sizes` gives each image's layer sizes.
 */
export function groupImages(
  records: readonly ImageRecord[],
  resolved: ReadonlyMap<string, ResolvedTarget>,
  sizes: (r: ResolvedTarget) => number[],
): Image[] {
  const byId = new Map<string, Image>();
  for (const rec of records) {
    const r = resolved.get(rec.target.digest);
    if (!r) continue;
    let image = byId.get(r.configDigest);
    if (!image) {
      image = { ...r, id: r.configDigest, names: [], records: [], layerSizes: sizes(r) };
      byId.set(r.configDigest, image);
    }
    image.records.push(rec);
    if (!isDanglingName(rec.name)) image.names.push(rec.name);
    if (rec.updatedAt && (!image.lastTagTime || rec.updatedAt > image.lastTagTime)) image.lastTagTime = rec.updatedAt;
  }
  for (const image of byId.values()) image.names.sort();
  return [...byId.values()];
}

export const imageSize = (image: Image) => image.layerSizes.reduce((a, b) => a + b, 0);

/** Unix seconds of an RFC 3339 time; 0 when there is none. */
export function unixSeconds(time: string): number {
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}

export const isDangling = (image: Image) => image.names.length === 0;
