// A pull's (and a push's) progress events (src/oci/transfer/progress.ts) as dockerd's JSON
// message stream, the lines `docker pull` draws: "Pulling from library/busybox" (id: the tag),
// per layer (id: 12 hex of its digest) "Pulling fs layer", "Already exists", "Downloading" with
// progressDetail and a bar, "Download complete", "Extracting", "Pull complete"; then
// "Digest: ..." and "Status: ...". A push: "The push refers to repository [...]", per layer
// "Preparing", "Pushing", "Pushed", then "<tag>: digest: ... size: N" and the aux record.
import { isLayerMediaType } from "../../oci/image/media-types.ts";
import type { ProgressEvent } from "../../oci/transfer/progress.ts";
import { familiarName, type ImageRef, pullPath, shortId } from "./reference.ts";

export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  stream?: string;
  aux?: Record<string, unknown>;
  errorDetail?: { message: string };
  error?: string;
}

/** go-units' HumanSize: decimal units, 3 significant digits ("2.15MB"). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** The bar docker's JSON messages carry: `[=====>      ]  1.2MB/2.3MB`, 50 cells wide. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return humanSize(current);
  const filled = Math.max(0, Math.min(50, Math.floor((current / total) * 50)));
  const bar = filled === 0 ? " ".repeat(50) : `${"=".repeat(filled - 1)}>${" ".repeat(50 - filled)}`;
  return `[${bar}] ${humanSize(current)}/${humanSize(total)}`;
}

export class PullMessages {
  readonly #ref: ImageRef;
  /** Layers that were in the store already: no "Pull complete" for them. */
  readonly #existing = new Set<string>();
  /** Layers this pull downloaded or extracted: their "extracted" is a "Pull complete". */
  readonly #worked = new Set<string>();

  constructor(ref: ImageRef) {
    this.#ref = ref;
  }

  start(): JsonMessage {
    return { status: `Pulling from ${pullPath(this.#ref)}`, id: this.#ref.tag ?? this.#ref.digest ?? "latest" };
  }

  /** The messages for one event (none for manifests and configs, which docker does not show). */
  on(e: ProgressEvent): JsonMessage[] {
    if (!e.mediaType || !isLayerMediaType(e.mediaType)) return [];
    const id = shortId(e.digest);
    switch (e.phase) {
      case "waiting":
        return [{ status: "Pulling fs layer", progressDetail: {}, id }];
      case "exists":
        // Said once: the unpacker may have found the layer's snapshot before this blob check.
        if (this.#existing.has(e.digest)) return [];
        this.#existing.add(e.digest);
        return [{ status: "Already exists", progressDetail: {}, id }];
      case "downloading": {
        this.#worked.add(e.digest);
        const current = e.current ?? 0;
        const total = e.total ?? 0;
        return [
          { status: "Downloading", progressDetail: { current, total }, progress: progressBar(current, total), id },
        ];
      }
      case "downloaded":
        this.#worked.add(e.digest);
        return [
          { status: "Verifying Checksum", progressDetail: {}, id },
          { status: "Download complete", progressDetail: {}, id },
        ];
      case "extracting":
        this.#worked.add(e.digest);
        return [{ status: "Extracting", progressDetail: {}, id }];
      case "extracted":
        if (this.#existing.has(e.digest)) return [];
        if (!this.#worked.has(e.digest)) {
          // Neither downloaded nor extracted by this pull: its snapshot was there already.
          this.#existing.add(e.digest);
          return [{ status: "Already exists", progressDetail: {}, id }];
        }
        return [{ status: "Pull complete", progressDetail: {}, id }];
      default:
        return [];
    }
  }

  finish(digest: string, upToDate: boolean): JsonMessage[] {
    const shown = familiarName(this.#ref.name);
    return [
      { status: `Digest: ${digest}` },
      { status: upToDate ? `Status: Image is up to date for ${shown}` : `Status: Downloaded newer image for ${shown}` },
    ];
  }
}

/** A failure once the stream has begun: dockerd's error message line. */
export function errorMessageLine(message: string): JsonMessage {
  return { errorDetail: { message }, error: message };
}

export class PushMessages {
  readonly #ref: ImageRef;
  readonly #seen = new Set<string>();

  constructor(ref: ImageRef) {
    this.#ref = ref;
  }

  start(): JsonMessage {
    return { status: `The push refers to repository [${familiarName(this.#ref.repo)}]` };
  }

  /** Layers only, as docker shows them. */
  on(e: ProgressEvent): JsonMessage[] {
    if (!e.mediaType || !isLayerMediaType(e.mediaType)) return [];
    const id = shortId(e.digest);
    if (e.phase === "uploading") {
      const first = !this.#seen.has(e.digest);
      this.#seen.add(e.digest);
      const total = e.total ?? 0;
      return [
        ...(first ? [{ status: "Preparing", progressDetail: {}, id }] : []),
        { status: "Pushing", progressDetail: { current: 0, total }, progress: progressBar(0, total), id },
      ];
    }
    if (e.phase === "uploaded") return [{ status: "Pushed", progressDetail: {}, id }];
    return [];
  }

  finish(tag: string, digest: string, size: number): JsonMessage[] {
    return [
      { status: `${tag}: digest: ${digest} size: ${size}` },
      { progressDetail: {}, aux: { Tag: tag, Digest: digest, Size: size } },
    ];
  }
}
