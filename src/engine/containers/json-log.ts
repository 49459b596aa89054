// A container's output in dockerd's json-file format, one JSON object a line:
// {"log":"hello\n","stream":"stdout","time":"2026-12-05T12:00:00.123456789Z"}. Interim: berthd
// writes it from the fifos it reads (writer below) until the keeper-side logger takes over; the
// reader (logs, attach with logs=1) stays, since the format is the same.
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";

export type LogStream = "stdout" | "stderr";

export interface LogEntry {
  stream: LogStream;
  /** The line as written, its newline included (a partial line has none). */
  log: Buffer;
  /** The time as written (RFC 3339 with nanoseconds). */
  time: string;
}

/** A line longer than this is written in pieces without a newline, as dockerd splits at 16 KiB. */
export const MAX_LINE_BYTES = 16 * 1024;

/** Now, RFC 3339 with nanoseconds (the milliseconds of Date, then process time's finer digits). */
export function nanoTime(now = new Date()): string {
  const ns = String(process.hrtime.bigint() % 1_000_000n).padStart(6, "0");
  return now.toISOString().replace(/Z$/, `${ns}Z`);
}

/** One json-file line. */
export function formatEntry(stream: LogStream, log: Buffer, time: string): string {
  return `${JSON.stringify({ log: log.toString("utf8"), stream, time })}\n`;
}

/** Appends output to a json-file log, line by line per stream. */
export class JsonLogWriter {
  readonly path: string;
  readonly #fd: number;
  readonly #partial: Record<LogStream, Buffer[]> = { stdout: [], stderr: [] };
  #closed = false;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o640,
    );
  }

  write(stream: LogStream, chunk: Buffer): void {
    if (this.#closed) return;
    let rest = chunk;
    for (;;) {
      const nl = rest.indexOf(0x0a);
      if (nl < 0) break;
      this.#emit(stream, Buffer.concat([...this.#partial[stream], rest.subarray(0, nl + 1)]));
      this.#partial[stream] = [];
      rest = rest.subarray(nl + 1);
    }
    if (rest.length === 0) return;
    this.#partial[stream].push(Buffer.from(rest));
    let pending = Buffer.concat(this.#partial[stream]);
    while (pending.length >= MAX_LINE_BYTES) {
      this.#emit(stream, pending.subarray(0, MAX_LINE_BYTES));
      pending = pending.subarray(MAX_LINE_BYTES);
    }
    this.#partial[stream] = pending.length > 0 ? [pending] : [];
  }

  /** Writes what is left of unfinished lines and closes the file. */
  close(): void {
    if (this.#closed) return;
    for (const stream of ["stdout", "stderr"] as const) {
      if (this.#partial[stream].length > 0) this.#emit(stream, Buffer.concat(this.#partial[stream]));
    }
    this.#closed = true;
    closeSync(this.#fd);
  }

  #emit(stream: LogStream, line: Buffer): void {
    const text = Buffer.from(formatEntry(stream, line, nanoTime()));
    for (let off = 0; off < text.length; ) off += writeSync(this.#fd, text, off);
  }
}

/** One line of the log; undefined when it is not an entry (a torn last line, a foreign line). */
export function parseEntry(line: string): LogEntry | undefined {
  try {
    const v = JSON.parse(line) as { log?: unknown; stream?: unknown; time?: unknown };
    if (typeof v.log !== "string" || (v.stream !== "stdout" && v.stream !== "stderr") || typeof v.time !== "string")
      return undefined;
    return { stream: v.stream, log: Buffer.from(v.log, "utf8"), time: v.time };
  } catch {
    return undefined;
  }
}

/** Reads a growing log from an offset: whole lines only, so a line being written is read later. */
export class JsonLogReader {
  readonly path: string;
  #offset = 0;
  #carry = Buffer.alloc(0);
  /** Entries read by skip() past what it skipped, given out by the next readNew(). */
  #pending: LogEntry[] = [];

  constructor(path: string) {
    this.path = path;
  }

  /** Passes over the next `n` entries (read in bounded steps, none kept). */
  skip(n: number): void {
    let left = n;
    while (left > 0) {
      const batch = this.readNew();
      if (batch.length === 0) return;
      if (batch.length > left) this.#pending = batch.slice(left);
      left -= Math.min(left, batch.length);
    }
  }

  /**
   * The entries written since the last call, at most about `maxBytes` of the file's at a time
   * (call again until it answers none); none when the file is missing.
   */
  readNew(maxBytes = 4 << 20): LogEntry[] {
    if (this.#pending.length > 0) {
      const p = this.#pending;
      this.#pending = [];
      return p;
    }
    let fd: number;
    try {
      fd = openSync(this.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return [];
    }
    const out: LogEntry[] = [];
    try {
      if (!fstatSync(fd).isFile()) return [];
      const buf = Buffer.alloc(Math.min(maxBytes, 1 << 20));
      let total = 0;
      while (total < maxBytes) {
        const n = readSync(fd, buf, 0, buf.length, this.#offset);
        if (n === 0) break;
        this.#offset += n;
        total += n;
        let data = Buffer.concat([this.#carry, buf.subarray(0, n)]);
        for (;;) {
          const nl = data.indexOf(0x0a);
          if (nl < 0) break;
          const entry = parseEntry(data.subarray(0, nl).toString("utf8"));
          if (entry) out.push(entry);
          data = data.subarray(nl + 1);
        }
        // A line longer than any the writer makes is not a log line: dropped, not kept growing.
        this.#carry = data.length > 4 * MAX_LINE_BYTES ? Buffer.alloc(0) : Buffer.from(data);
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }
}

/**
 * A reader of the log from its last `tail` entries (all with none): the entries are counted first,
 * in bounded steps, so no more than a step's worth is ever held, however long the log.
 */
export function openTail(path: string, tail: number | undefined): JsonLogReader {
  const reader = new JsonLogReader(path);
  if (tail === undefined) return reader;
  const counter = new JsonLogReader(path);
  let total = 0;
  for (let batch = counter.readNew(); batch.length > 0; batch = counter.readNew()) total += batch.length;
  reader.skip(Math.max(0, total - tail));
  return reader;
}
