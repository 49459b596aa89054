// How much the client reads whole from what a registry, an archive or a store hands it. Whatever
// is read into memory is bounded, so a hostile source cannot take the memory of the process that
// reads it (the daemon, when its transfer service pulls): reading stops one chunk past the limit
// and the stream is destroyed (an HTTP body's connection is dropped). Blobs are never read whole:
// they stream to disk and stop at their descriptor's size.
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { InvalidArgumentError, NotFoundError } from "../common/errors.ts";
import type { BlobDescriptor, ContentPort } from "./transfer/ports.ts";

/** Manifests, indexes and image configs: 4 MiB, about what containerd resolves at most. */
export const MAX_DOCUMENT_BYTES = 4 << 20;
/** An error answer is read for its message only. */
export const MAX_ERROR_BODY_BYTES = 8 << 10;
/** A token service's answer: a token and a few fields (real ones are a few KiB). */
export const MAX_TOKEN_BYTES = 1 << 20;

/** Refuses a manifest, index or config (`what` names it) of `size` bytes when it is over the limit. */
export function checkDocumentSize(what: string, size: number): void {
  if (size > MAX_DOCUMENT_BYTES)
    throw new InvalidArgumentError(`${what} (${size} bytes) is larger than ${MAX_DOCUMENT_BYTES} bytes`);
}

/**
 * A manifest, index or config from the store, read whole once its stored size (the truth, whatever
 * the descriptor claims) is known to be within the limit.
 */
export async function readStoredDocument(
  content: ContentPort,
  desc: BlobDescriptor,
  what: string,
): Promise<Uint8Array> {
  const info = await content.info(desc.digest);
  if (!info) throw new NotFoundError(`${what} ${desc.digest}: not found`);
  checkDocumentSize(`${what} ${desc.digest}`, info.size);
  return content.readAll(desc.digest);
}

/**
 * `body` whole when it holds at most `limit` bytes. One byte more and the read stops, the stream
 * is destroyed and `tooLarge()` is thrown: the rest is never read.
 */
export async function readBounded(body: Readable, limit: number, tooLarge: () => Error): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = c as Buffer;
    n += b.length;
    // Throwing out of the loop destroys the stream.
    if (n > limit) throw tooLarge();
    parts.push(b);
  }
  return Buffer.concat(parts, n);
}

/** The first `limit` bytes of `body` (all of it when shorter); the stream is destroyed after. */
export async function readPrefix(body: Readable, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = c as Buffer;
    parts.push(b.subarray(0, limit - n));
    n += b.length;
    if (n >= limit) break; // leaving the loop destroys the stream
  }
  return Buffer.concat(parts);
}

/** Passes at most `limit` bytes through; the chunk that would pass it fails the stream instead. */
export function capBytes(limit: number, tooMany: () => Error): Transform {
  let left = limit;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (chunk.length > left) return cb(tooMany());
      left -= chunk.length;
      cb(null, chunk);
    },
  });
}

/** A Content-Length header as a number; undefined when absent or not a plain decimal. */
export function contentLength(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : undefined;
}
