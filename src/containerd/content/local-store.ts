// The content store on disk: blobs at <root>/blobs/sha256/<hex>, ingests in progress at
// <root>/ingest/<sha256 of ref>/ (the ref, the expected total and digest, and the data so far).
// An ingest outlives its writer, so a client that lost its connection, or a daemon that was
// killed, resumes at the ingest's size. A blob becomes visible only by an atomic rename after its
// digest and size are checked, so a crash never leaves a partial blob under a digest.
import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream, statSync, type WriteStream } from "node:fs";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { renameDurably, writeFileAtomic } from "../../common/atomic-write.ts";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from "../../common/errors.ts";
import { storageError } from "../../common/storage-errors.ts";
import type { ContentInfo, ContentStore, ContentWriter, IngestStatus } from "./content-store.ts";

const DIGEST = /^sha256:[a-f0-9]{64}$/;
/**
 * Bytes a writer may hold before write() waits for the disk. Clients such as ctr wait for each
 * write's answer before sending the next chunk, so answering only after the file write completes
 * would put a disk round trip into every chunk; the data is durable at commit (fsync) anyway.
 */
const WRITE_BUFFER = 16 << 20;

/**
 * How long a writer waits for a ref whose holder writes nothing: a holder that keeps writing is
 * alive (containerd's clients wait for a live holder rather than fail), one that stalls this long
 * is given up on with "locked" (Unavailable), which a client may retry.
 */
const LOCK_STALL_MS = 30_000;
/** How often a waiting writer looks at the holder's progress between releases. */
const LOCK_POLL_MS = 1_000;

export function validateDigest(digest: string): string {
  if (!DIGEST.test(digest))
    throw new InvalidArgumentError(`invalid digest ${JSON.stringify(digest)}: want sha256:<64 hex>`);
  return digest;
}

interface IngestMeta {
  ref: string;
  total: number;
  expected: string;
  startedAt: string;
}

/** In-memory state of an ingest between writers: saves re-hashing the data when a writer returns. */
interface IngestState {
  hash: Hash;
  offset: number;
  startedAt: Date;
  updatedAt: Date;
  total: number;
  expected: string;
}

export class LocalContentStore implements ContentStore {
  readonly root: string;
  readonly #locked = new Set<string>();
  readonly #states = new Map<string, IngestState>();
  /** Writers waiting for a ref, woken when its holder lets go. */
  readonly #waiting = new Map<string, Set<() => void>>();

  readonly #lockStallMs: number;

  private constructor(root: string, lockStallMs: number) {
    this.root = root;
    this.#lockStallMs = lockStallMs;
  }

  /** `lockStallMs`: how long a writer waits on a holder that writes nothing (tests shorten it). */
  static async open(root: string, opts: { lockStallMs?: number } = {}): Promise<LocalContentStore> {
    await mkdir(join(root, "blobs", "sha256"), { recursive: true, mode: 0o700 });
    await mkdir(join(root, "ingest"), { recursive: true, mode: 0o700 });
    return new LocalContentStore(root, opts.lockStallMs ?? LOCK_STALL_MS);
  }

  blobPath(digest: string): string {
    validateDigest(digest);
    return join(this.root, "blobs", "sha256", digest.slice(7));
  }

  #ingestDir(ref: string): string {
    return join(this.root, "ingest", createHash("sha256").update(ref).digest("hex"));
  }

  async info(digest: string): Promise<ContentInfo> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size, createdAt: st.birthtime, updatedAt: st.mtime, labels: {} };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`content ${digest}: not found`);
      throw err;
    }
  }

  /** Streams the blob; callers check info() first (a missing blob errors the stream with ENOENT). */
  read(digest: string, offset = 0, size = 0): Readable {
    const end = size > 0 ? offset + size - 1 : undefined;
    // Buffers no bigger than what is read: most reads are small manifests and configs, and a
    // 1 MiB buffer per read makes the daemon collect garbage every few reads (multi-ms pauses).
    let remaining = size;
    if (remaining <= 0) {
      try {
        remaining = statSync(this.blobPath(digest)).size - offset;
      } catch {
        remaining = 1 << 20; // the stream reports the error
      }
    }
    const highWaterMark = Math.max(1, Math.min(1 << 20, remaining));
    return createReadStream(this.blobPath(digest), { start: offset, end, highWaterMark });
  }

  async delete(digest: string): Promise<void> {
    try {
      await rm(this.blobPath(digest));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`content ${digest}: not found`);
      throw err;
    }
  }

  async walk(fn: (info: ContentInfo) => void | Promise<void>): Promise<void> {
    for (const name of await readdir(join(this.root, "blobs", "sha256"))) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const info = await this.info(`sha256:${name}`).catch(() => undefined);
      if (info) await fn(info);
    }
  }

  async writer(ref: string, opts: { total?: number; expected?: string } = {}): Promise<ContentWriter> {
    if (ref === "") throw new InvalidArgumentError("content writer: ref must not be empty");
    if (opts.expected) validateDigest(opts.expected);
    await this.#lock(ref);
    const dir = this.#ingestDir(ref);
    try {
      await mkdir(dir, { recursive: true });
      let meta = await readMeta(dir);
      if (!meta) {
        // The data file first, then the metadata by rename: an ingest with metadata always has
        // its data file, and one without metadata (a crash in between) starts over here.
        meta = { ref, total: opts.total ?? 0, expected: opts.expected ?? "", startedAt: new Date().toISOString() };
        await emptyFile(join(dir, "data"));
        writeMeta(dir, meta);
      } else if ((opts.total && opts.total !== meta.total) || (opts.expected && opts.expected !== meta.expected)) {
        meta = { ...meta, total: opts.total || meta.total, expected: opts.expected || meta.expected };
        writeMeta(dir, meta);
      }
      let state = this.#states.get(ref);
      const size = await stat(join(dir, "data")).then(
        (st) => st.size,
        async (err: NodeJS.ErrnoException) => {
          // Metadata written by an older layout without its data file: resume from nothing.
          if (err.code !== "ENOENT") throw err;
          await emptyFile(join(dir, "data"));
          return 0;
        },
      );
      if (!state || state.offset !== size) {
        // The daemon restarted (or the state is stale): hash what is there once.
        const hash = createHash("sha256");
        for await (const chunk of createReadStream(join(dir, "data"), { highWaterMark: 1 << 20 }))
          hash.update(chunk as Buffer);
        state = {
          hash,
          offset: size,
          startedAt: new Date(meta.startedAt),
          updatedAt: new Date(),
          total: meta.total,
          expected: meta.expected,
        };
      }
      state.total = meta.total;
      state.expected = meta.expected;
      this.#states.set(ref, state);
      return new LocalWriter(this, ref, dir, state);
    } catch (err) {
      this.release(ref, false);
      // A full disk names what could not be written (mkdir and open name it themselves).
      throw storageError(err, dir);
    }
  }

  /**
   * Takes the ref's lock, waiting while another writer holds it and keeps writing (concurrent
   * pulls of one image write the same refs); a holder stalled for LOCK_STALL_MS is not waited for.
   */
  async #lock(ref: string): Promise<void> {
    let seen = this.#states.get(ref)?.updatedAt.getTime();
    let progressAt = Date.now();
    while (this.#locked.has(ref)) {
      if (this.#lockStallMs <= 0) throw new UnavailableError(`ref ${ref} locked: another writer is using it`);
      const now = this.#states.get(ref)?.updatedAt.getTime();
      if (now !== seen) {
        seen = now;
        progressAt = Date.now();
      }
      if (Date.now() - progressAt >= this.#lockStallMs)
        throw new UnavailableError(`ref ${ref} locked: another writer is using it`);
      await this.#released(ref, Math.min(LOCK_POLL_MS, this.#lockStallMs));
    }
    this.#locked.add(ref);
  }

  /** Resolves when the ref's holder lets go, or after `ms`. */
  #released(ref: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiting.get(ref) ?? new Set();
      this.#waiting.set(ref, waiters);
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiting.get(ref) === waiters) this.#waiting.delete(ref);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  /** @internal writers report back when they finish. */
  release(ref: string, forget: boolean): void {
    this.#locked.delete(ref);
    if (forget) this.#states.delete(ref);
    // One waiter takes the ref; the others see it locked again and wait on.
    for (const wake of [...(this.#waiting.get(ref) ?? [])]) wake();
  }

  async status(ref: string): Promise<IngestStatus> {
    const dir = this.#ingestDir(ref);
    const meta = await readMeta(dir);
    if (!meta) throw new NotFoundError(`ingest ${ref}: not found`);
    const live = this.#locked.has(ref) ? this.#states.get(ref) : undefined;
    if (live) {
      // A writer holds it: its offset counts bytes still on their way to the disk.
      return {
        ref: meta.ref,
        offset: live.offset,
        total: live.total,
        expected: live.expected,
        startedAt: live.startedAt,
        updatedAt: live.updatedAt,
      };
    }
    const st = await stat(join(dir, "data")).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    return {
      ref: meta.ref,
      offset: st?.size ?? 0,
      total: meta.total,
      expected: meta.expected,
      startedAt: new Date(meta.startedAt),
      updatedAt: st?.mtime ?? new Date(meta.startedAt),
    };
  }

  async listStatuses(): Promise<IngestStatus[]> {
    const out: IngestStatus[] = [];
    for (const name of await readdir(join(this.root, "ingest"))) {
      const meta = await readMeta(join(this.root, "ingest", name));
      if (!meta) continue;
      // A commit or an abort may remove the ingest between the directory listing and its
      // status: it is no longer active, which is not an error of the listing.
      const s = await this.status(meta.ref).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      if (s) out.push(s);
    }
    return out;
  }

  async abort(ref: string): Promise<void> {
    const dir = this.#ingestDir(ref);
    if (!(await readMeta(dir))) throw new NotFoundError(`ingest ${ref}: not found`);
    if (this.#locked.has(ref)) throw new UnavailableError(`ref ${ref} locked: a writer is using it`);
    this.#states.delete(ref);
    await rm(dir, { recursive: true, force: true });
  }

  /** Commits the ingest's data file under `digest` (verified by the writer). */
  async moveIntoPlace(dir: string, digest: string): Promise<boolean> {
    const target = this.blobPath(digest);
    const exists = await stat(target).then(
      () => true,
      () => false,
    );
    if (!exists) await renameDurably(join(dir, "data"), target);
    await rm(dir, { recursive: true, force: true });
    return !exists;
  }
}

/**
 * The ingest's metadata, replaced whole. Not flushed: a metadata file lost to a power loss only
 * makes the ingest start over, and the blob itself is flushed at commit.
 */
function writeMeta(dir: string, meta: IngestMeta): void {
  writeFileAtomic(join(dir, "meta.json"), JSON.stringify(meta), { mode: 0o644, durable: false });
}

/** Creates (or empties) `path`; a full disk names it. */
async function emptyFile(path: string): Promise<void> {
  await writeFile(path, "").catch((err: unknown) => {
    throw storageError(err, path);
  });
}

async function readMeta(dir: string): Promise<IngestMeta | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, "meta.json"), "utf8")) as IngestMeta;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // A torn meta.json (crash while creating the ingest): the ingest starts over.
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/**
 * One writer of an ingest: appends through a write stream that may hold up to WRITE_BUFFER bytes
 * not yet on disk. A failed write (a full disk, an I/O error) is kept and answered by the next
 * call, named with the data file; the writer lets go of the ref at once and forgets its in-memory
 * state, so the next writer resumes from what really reached the disk.
 */
class LocalWriter implements ContentWriter {
  readonly ref: string;
  readonly #store: LocalContentStore;
  readonly #dir: string;
  readonly #data: string;
  readonly #state: IngestState;
  #out: WriteStream;
  #failed: unknown;
  #closed = false;

  constructor(store: LocalContentStore, ref: string, dir: string, state: IngestState) {
    this.#store = store;
    this.ref = ref;
    this.#dir = dir;
    this.#data = join(dir, "data");
    this.#state = state;
    this.#out = this.#open();
  }

  /** The append stream; its errors are this writer's failure, never an unhandled 'error' event. */
  #open(): WriteStream {
    const out = createWriteStream(this.#data, { flags: "a", highWaterMark: WRITE_BUFFER });
    out.on("error", (err) => this.#fail(err));
    return out;
  }

  #fail(err: unknown): void {
    this.#failed ??= storageError(err, this.#data);
    this.#close(true);
  }

  #check(): void {
    if (this.#failed !== undefined) throw this.#failed;
    if (this.#closed) throw new FailedPreconditionError(`ingest ${this.ref}: writer is closed`);
  }

  offset(): number {
    return this.#state.offset;
  }

  /**
   * Appends `chunk`. A write that would take the ingest past its declared total (0: unknown) is
   * refused whole before any of it is kept: the disk a client can fill is what it declared.
   */
  async write(chunk: Uint8Array): Promise<void> {
    this.#check();
    const total = this.#state.total;
    const size = this.#state.offset + chunk.byteLength;
    if (total > 0 && size > total)
      throw new FailedPreconditionError(
        `ingest ${this.ref}: write past total: ${size} bytes, expected ${total} (unexpected commit size)`,
      );
    this.#state.hash.update(chunk);
    this.#state.offset += chunk.byteLength;
    this.#state.updatedAt = new Date();
    if (!this.#out.write(chunk)) await this.#drained();
    this.#check();
  }

  /** Resolves when the stream takes more, or when it is gone (a failure: see #check). */
  #drained(): Promise<void> {
    const out = this.#out;
    return new Promise<void>((resolve) => {
      const done = () => {
        out.off("drain", done);
        out.off("close", done);
        resolve();
      };
      out.on("drain", done);
      out.on("close", done);
    });
  }

  async truncate(offset: number): Promise<void> {
    if (offset === this.#state.offset) return;
    if (offset !== 0)
      throw new InvalidArgumentError(`ingest ${this.ref}: can only truncate to 0 or ${this.#state.offset}`);
    await this.#flush();
    await emptyFile(this.#data);
    this.#state.hash = createHash("sha256");
    this.#state.offset = 0;
    this.#out = this.#open();
  }

  status(): IngestStatus {
    const s = this.#state;
    return {
      ref: this.ref,
      offset: s.offset,
      total: s.total,
      expected: s.expected,
      startedAt: s.startedAt,
      updatedAt: s.updatedAt,
    };
  }

  /** Waits until every byte written is in the file; the writer's failure if one was not. */
  async #flush(): Promise<void> {
    this.#check();
    const out = this.#out;
    // 'close' comes last, after 'finish' or after 'error' (a failed stream is destroyed).
    await new Promise<void>((resolve) => {
      if (out.closed) return resolve();
      out.once("close", () => resolve());
      if (!out.destroyed) out.end((err?: Error | null) => err && this.#fail(err));
    });
    if (this.#failed !== undefined) throw this.#failed;
  }

  async commit(size: number, expected: string): Promise<string> {
    await this.#flush();
    const s = this.#state;
    const want = expected || s.expected;
    if (size > 0 && size !== s.offset) {
      this.#close(false);
      throw new FailedPreconditionError(`commit ${this.ref}: unexpected size ${s.offset}, expected ${size}`);
    }
    const actual = `sha256:${s.hash.copy().digest("hex")}`;
    if (want && want !== actual) {
      // Wrong bytes are worth nothing to a retry: start the ingest over instead of resuming it.
      this.#state.hash = createHash("sha256");
      this.#state.offset = 0;
      try {
        await emptyFile(this.#data);
      } finally {
        this.#close(false);
      }
      throw new FailedPreconditionError(`commit ${this.ref}: unexpected digest ${actual}, expected ${want}`);
    }
    try {
      await this.#store.moveIntoPlace(this.#dir, actual);
    } catch (err) {
      // The data file is whole and verified: the next writer commits it, from what is on disk.
      this.#close(true);
      throw err;
    }
    this.#close(true);
    return actual;
  }

  #close(forget: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#store.release(this.ref, forget);
  }

  /** Lets go of the ref; the ingest stays to be resumed. A failure already answered is not repeated. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#flush();
    } finally {
      this.#close(this.#failed !== undefined);
    }
  }
}
