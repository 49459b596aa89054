// Reads a container's json-file log back (native/berth-logger writes it, as dockerd would):
// the rotated files oldest first (name.N ... name.1, name), tail N across them, since/until, and
// follow, which reads the current file again whenever its directory changes (inotify; a poll
// when that is unavailable) for appends and notices rotation (another inode at the name: the old
// file is read to its end, then the files rotated since, then the new one) and truncation
// (max-file 1). A follow may start at the end of the log as it is now (openLogEnd: what attach
// reads). Lines are bounded; a line that is not an entry is skipped and counted, never fatal. No
// file is opened through a symlink.
import { constants, type FSWatcher, watch } from "node:fs";
import { type FileHandle, lstat, open } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type LogEntry, parseEntry } from "./entry.ts";

/** An entry line longer than this is skipped (berth-logger's longest is ~96 KiB: 16 KiB × 6). */
export const MAX_ENTRY_BYTES = 1 << 20;
/** How often follow looks for appends and rotations when the directory cannot be watched. */
export const FOLLOW_POLL_MS = 100;
/** The same while it is watched: only a safety net, since every write wakes the follow. */
export const WATCHED_POLL_MS = 1000;
/** Rotated files looked for: name.1 ... name.999 (berth-logger's max-file is at most 1000). */
export const MAX_ROTATED = 999;
const CHUNK = 64 * 1024;

export interface ReadOptions {
  /** The last N entry lines only (over all files); undefined or negative: all. */
  tail?: number;
  /** Entries at or after this time (ns since the epoch). */
  since?: bigint;
  /** Entries at or before this time; a follow ends once the clock passes it. */
  until?: bigint;
  /** Wait for more after the end, until `signal` aborts (what is written by then is read). */
  follow?: boolean;
  /** Start where openLogEnd found the end (tail is then ignored); the reader takes the cursor. */
  from?: LogCursor;
  signal?: AbortSignal;
  /** How often a follow looks without being woken (default: FOLLOW_POLL_MS or WATCHED_POLL_MS). */
  pollMs?: number;
  maxEntryBytes?: number;
}

export interface ReadStats {
  /** Lines skipped: not JSON, not an entry, or over the bound. */
  malformed: number;
}

interface OpenFile {
  fh: FileHandle;
  ino: number;
  pos: number;
}

async function openNoFollow(path: string): Promise<OpenFile | undefined> {
  try {
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      return undefined;
    }
    return { fh, ino: st.ino, pos: 0 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ELOOP")
      return undefined;
    throw err;
  }
}

/**
 * The end of a log as it is now: its current file, open (so a rotation does not move it away
 * from the reader), positioned at its size; no file when there is none yet (then a follow from
 * it reads every file that appears). Close it unless a read took it.
 */
export class LogCursor {
  #file: OpenFile | undefined;
  private constructor(file: OpenFile | undefined) {
    this.#file = file;
  }

  static async open(path: string): Promise<LogCursor> {
    const f = await openNoFollow(path);
    if (f) f.pos = (await f.fh.stat()).size;
    return new LogCursor(f);
  }

  /** The open file, given once (to a read, which closes it). */
  take(): OpenFile | undefined {
    const f = this.#file;
    this.#file = undefined;
    return f;
  }

  async close(): Promise<void> {
    await this.take()
      ?.fh.close()
      .catch(() => {});
  }
}

/** LogCursor.open: where a follow of what comes after now starts. */
export const openLogEnd = (path: string): Promise<LogCursor> => LogCursor.open(path);

/**
 * Wakes a follow when the log's directory changes (inotify: appends, renames, new files), so it
 * reads new lines at once instead of polling fast. Inactive when the directory cannot be watched.
 */
class DirWatch {
  #w: FSWatcher | undefined;
  #fired = false;
  #wake: (() => void) | undefined;

  constructor(dir: string) {
    try {
      this.#w = watch(dir, { persistent: false }, () => {
        this.#fired = true;
        this.#wake?.();
      });
      this.#w.on("error", () => this.close());
    } catch {
      this.#w = undefined; // no inotify watch left (ENOSPC), or no directory yet: polling
    }
  }

  get active(): boolean {
    return this.#w !== undefined;
  }

  /** Changes from now on wake the next wait (call before reading). */
  arm(): void {
    this.#fired = false;
  }

  /** Resolves at a change since arm(), after `ms`, or when `signal` aborts. */
  async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#fired || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  close(): void {
    this.#w?.close();
    this.#w = undefined;
    this.#wake?.();
  }
}

/** The inode at a path, or undefined when nothing (or a symlink) is there. */
async function inodeAt(path: string): Promise<number | undefined> {
  try {
    const st = await lstat(path);
    return st.isFile() ? st.ino : undefined;
  } catch {
    return undefined;
  }
}

/** A snapshot is taken again when a rotation moved a file while it was being taken, this often. */
const SNAPSHOT_TRIES = 20;

interface Snapshot {
  /** The rotated files newer than the one asked about (all when none was), oldest first. */
  rotated: OpenFile[];
  current: OpenFile | undefined;
}

/**
 * Opens name.1, name.2, ... (up to the file whose inode is `ours`, or two missing names)
 * and name, then checks that every name still holds the file opened through it: a rotation
 * that ran meanwhile shifts the names (name.i → name.i+1, name → name.1), and the snapshot is
 * taken again after a pause, so no file is skipped or read twice. Gives up checking after
 * SNAPSHOT_TRIES (a log rotating without pause for that long: what max-file removes meanwhile
 * is lost to the reader, as with dockerd).
 */
async function snapshot(path: string, ours: number | undefined, pollMs: number): Promise<Snapshot> {
  let before = "";
  for (let attempt = 1; ; attempt++) {
    const seen: Array<{ name: string; ino: number | undefined }> = [];
    const newestFirst: OpenFile[] = [];
    let steady = true;
    for (let i = 1; i <= MAX_ROTATED; i++) {
      const f = await openNoFollow(`${path}.${i}`);
      if (!f) {
        // A rotation renames from the oldest down, so one name is missing while it runs: a gap
        // (a name missing, the next one there) means it is under way.
        if ((await inodeAt(`${path}.${i + 1}`)) === undefined) {
          // The end of the rotated files is checked too: a rotation between this look and the
          // open of `path` below moves the file read so far to this name (missed before: a
          // follow starting during the first rotation lost that file).
          seen.push({ name: `${path}.${i}`, ino: undefined });
          break;
        }
        seen.push({ name: `${path}.${i}`, ino: undefined });
        steady = false;
        continue;
      }
      seen.push({ name: `${path}.${i}`, ino: f.ino });
      if (f.ino === ours) {
        await f.fh.close();
        break;
      }
      newestFirst.push(f);
    }
    const current = await openNoFollow(path);
    if (current) seen.push({ name: path, ino: current.ino });
    for (const { name, ino } of seen) if ((await inodeAt(name)) !== ino) steady = false;
    if (current === undefined && (await inodeAt(path)) !== undefined) steady = false;
    // A gap that stays as it was for a pause is no rotation under way (one cut short by a crash):
    // the files past it are older ones.
    const now = JSON.stringify(seen);
    if (now === before) steady = true;
    before = now;
    if (steady || attempt >= SNAPSHOT_TRIES) return { rotated: newestFirst.reverse(), current };
    for (const f of [...newestFirst, ...(current ? [current] : [])]) await f.fh.close().catch(() => {});
    // Rotations come in bursts (a container writing fast): the next try after a pause.
    await sleep(pollMs);
  }
}

/** Splits a file's bytes into lines, bounded: an over-long line is dropped and counted. */
class LineSplitter {
  #parts: Buffer[] = [];
  #size = 0;
  #skipping = false;
  readonly max: number;
  readonly stats: ReadStats;
  constructor(max: number, stats: ReadStats) {
    this.max = max;
    this.stats = stats;
  }

  push(chunk: Buffer, out: (line: Buffer) => void): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!this.#skipping) {
        if (this.#size + end - start > this.max) {
          this.#skipping = true;
          this.stats.malformed++;
          this.#parts = [];
          this.#size = 0;
        } else if (end > start) {
          this.#parts.push(chunk.subarray(start, end));
          this.#size += end - start;
        }
      }
      if (nl < 0) return;
      if (!this.#skipping) out(this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#size));
      this.#parts = [];
      this.#size = 0;
      this.#skipping = false;
      start = nl + 1;
    }
  }

  /** Bytes of a line begun and not ended (a write in progress, or a file cut short). */
  get pending(): boolean {
    return this.#size > 0 || this.#skipping;
  }

  /** Drops the line begun (its file ended without a newline). */
  reset(): void {
    if (this.pending) this.stats.malformed++;
    this.#parts = [];
    this.#size = 0;
    this.#skipping = false;
  }
}

/**
 * Where the last `n` complete lines of the files begin: just after the (n+1)th newline from the
 * end (the newest file's unfinished line is no line yet), as the index of a file and an offset.
 */
async function tailStart(files: OpenFile[], n: number): Promise<{ index: number; offset: number }> {
  let seen = 0;
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let i = files.length - 1; i >= 0; i--) {
    let end = (await files[i]!.fh.stat()).size;
    while (end > 0) {
      const start = Math.max(0, end - CHUNK);
      const { bytesRead } = await files[i]!.fh.read(buf, 0, end - start, start);
      for (let k = bytesRead - 1; k >= 0; k--) {
        if (buf[k] === 0x0a && ++seen === n + 1) return { index: i, offset: start + k + 1 };
      }
      end = start;
    }
  }
  return { index: 0, offset: 0 };
}

/**
 * The entries of the json-file log at `path` (and its rotated files), in order. `stats` counts
 * what was skipped. Memory is bounded by one chunk's entries and one line.
 */
export async function* readJsonFileLog(
  path: string,
  opts: ReadOptions = {},
  stats: ReadStats = { malformed: 0 },
): AsyncGenerator<LogEntry> {
  const max = opts.maxEntryBytes ?? MAX_ENTRY_BYTES;
  const pollMs = opts.pollMs ?? FOLLOW_POLL_MS;
  const queue: LogEntry[] = [];
  const take = (line: Buffer) => {
    const e = parseEntry(line.toString("utf8"));
    if (!e) {
      stats.malformed++;
      return;
    }
    if (opts.since !== undefined && e.timeNs < opts.since) return;
    if (opts.until !== undefined && e.timeNs > opts.until) return;
    queue.push(e);
  };
  const split = new LineSplitter(max, stats);
  const buf = Buffer.allocUnsafe(CHUNK);
  /** `f` from its position to its current end, a chunk at a time. */
  async function* readOn(f: OpenFile): AsyncGenerator<LogEntry> {
    for (;;) {
      const { bytesRead } = await f.fh.read(buf, 0, CHUNK, f.pos);
      if (bytesRead === 0) return;
      f.pos += bytesRead;
      // The splitter keeps views of what it is given: a copy, since buf is read into again.
      split.push(Buffer.from(buf.subarray(0, bytesRead)), take);
      yield* queue.splice(0);
    }
  }
  /** A rotated file, read to its end and closed: a line it did not end is not an entry. */
  async function* finish(f: OpenFile): AsyncGenerator<LogEntry> {
    try {
      yield* readOn(f);
      split.reset();
    } finally {
      await f.fh.close().catch(() => {});
    }
  }

  // Every file is opened before any is read: a rotation meanwhile renames them, and an open
  // file stays itself.
  const files: OpenFile[] = [];
  let current: OpenFile | undefined = opts.from?.take();
  // Watched before anything is read: a write after a read wakes the wait that follows it.
  const dirWatch = opts.follow ? new DirWatch(dirname(path)) : undefined;
  const waitMs = opts.pollMs ?? (dirWatch?.active ? WATCHED_POLL_MS : FOLLOW_POLL_MS);
  try {
    dirWatch?.arm();
    /** The newest file read so far: a rotation is read from the file after it. */
    let newest: number | undefined;
    if (opts.from) {
      newest = current?.ino;
    } else {
      const first = await snapshot(path, undefined, pollMs);
      files.push(...first.rotated);
      current = first.current;
      newest = (current ?? first.rotated.at(-1))?.ino;
      let from = { index: 0, offset: 0 };
      const all = current ? [...files, current] : files;
      if (opts.tail !== undefined && opts.tail >= 0 && all.length > 0) from = await tailStart(all, opts.tail);
      for (const [i, f] of all.entries()) {
        if (i < from.index) continue;
        f.pos = i === from.index ? from.offset : 0;
        if (f !== current) yield* finish(f);
      }
      for (const f of files.splice(0)) await f.fh.close().catch(() => {});
    }
    if (current) yield* readOn(current);
    if (!opts.follow) return;

    for (;;) {
      // Once told to stop, one last round: what is written by then is read, across a rotation too.
      const stop = opts.signal?.aborted || (opts.until !== undefined && BigInt(Date.now()) * 1_000_000n > opts.until);
      if (!stop && dirWatch) {
        // Woken by a change, or at the latest when `until` passes.
        const untilMs = opts.until === undefined ? waitMs : Number(opts.until / 1_000_000n) - Date.now() + 1;
        await dirWatch.wait(Math.max(0, Math.min(waitMs, untilMs)), opts.signal);
      }
      dirWatch?.arm();
      if (current) yield* readOn(current);
      const ino = await inodeAt(path);
      if (current && ino === current.ino) {
        // Emptied in place (max-file 1): from its beginning again.
        if ((await current.fh.stat()).size < current.pos) {
          split.reset();
          current.pos = 0;
          if (stop) yield* readOn(current);
        }
      } else if (ino !== undefined) {
        // Rotated. The files renamed after ours are newer: those first, oldest first, then the
        // new one. If ours is gone (rotated out), every rotated file is newer.
        const next = await snapshot(path, newest, pollMs);
        files.push(...next.rotated); // closed by the finally if the reader stops half-way
        // Ours may have had a last entry written between our read and its rename.
        if (current) yield* finish(current);
        current = undefined;
        for (const f of next.rotated) yield* finish(f);
        current = next.current;
        newest = (current ?? next.rotated.at(-1))?.ino ?? newest;
        if (stop && current) yield* readOn(current);
      } // else: between the rename and the new file; the next round finds it
      if (stop) return;
    }
  } finally {
    dirWatch?.close();
    for (const f of files) await f.fh.close().catch(() => {});
    await current?.fh.close().catch(() => {});
  }
}
