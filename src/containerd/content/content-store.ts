// The content store contract, shaped like containerd's content.Store: blobs addressed by digest,
// written through resumable ingests named by a client-chosen ref, verified before an atomic commit.
// The local store is namespace-blind and label-free; the metadata layer adds both.
import type { Readable } from "node:stream";

export interface ContentInfo {
  digest: string;
  size: number;
  createdAt: Date;
  updatedAt: Date;
  labels: Record<string, string>;
}

export interface IngestStatus {
  ref: string;
  offset: number;
  total: number;
  expected: string;
  startedAt: Date;
  updatedAt: Date;
}

export interface ContentWriter {
  readonly ref: string;
  /** Bytes written so far (resumes at this offset after a crash or a new writer on the ref). */
  offset(): number;
  /** Appends at the current offset. */
  write(chunk: Uint8Array): Promise<void>;
  /** Truncates to `offset` (only 0 or the current offset are needed by clients). */
  truncate(offset: number): Promise<void>;
  status(): IngestStatus;
  /** Verifies size and digest, then atomically moves the blob into place. Already-present is success. */
  commit(size: number, expected: string): Promise<string>;
  /** Releases the writer's lock without removing the ingest (so it can be resumed). */
  close(): Promise<void>;
}

export interface ContentStore {
  readonly root: string;
  info(digest: string): Promise<ContentInfo>;
  /** Reads [offset, offset+size) (size 0: to the end). */
  read(digest: string, offset?: number, size?: number): Readable;
  /** Path of a committed blob, for in-daemon readers (diff apply). */
  blobPath(digest: string): string;
  delete(digest: string): Promise<void>;
  walk(fn: (info: ContentInfo) => void | Promise<void>): Promise<void>;
  /** Opens (or resumes) the ingest `ref`; fails with "unavailable" if another writer holds it. */
  writer(ref: string, opts?: { total?: number; expected?: string }): Promise<ContentWriter>;
  status(ref: string): Promise<IngestStatus>;
  listStatuses(): Promise<IngestStatus[]>;
  abort(ref: string): Promise<void>;
}
