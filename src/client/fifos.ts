// The client's end of a process's stdio: fifos in a private directory, the way ctr and dockerd make
// them for containerd (the shim opens the other ends). The directory is made 0700 under a parent
// the caller owns, and each fifo 0700 in it, so no one else can open or swap them.
//
// How each end is opened, so nothing blocks and no end is lost:
// - stdout/stderr: O_RDONLY|O_NONBLOCK, read through a libuv pipe handle. Opening never waits for
//   the shim, and until a writer has come the fifo is neither readable nor hung up (Linux reports
//   POLLHUP only after a writer has come and gone), so the stream waits for the shim and ends when
//   the last writer closes (the process and the shim's copies are done).
// - stdin: O_RDWR (a fifo opened so never blocks nor fails for want of a reader), opened before the
//   task is asked for, so the shim's non-blocking reader finds a writer. closeStdin() ends it; with
//   CloseIO the shim then sees EOF.
// The shim side of the same fifos is src/shim/stdio.ts; none of its code is shared (it opens the
// other ends, with the shim's ownership rules).
import { closeSync, constants, fstatSync, lstatSync, openSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { InvalidArgumentError } from "../common/errors.ts";
import { execChecked } from "../common/exec.ts";

/** Which fifos a process gets (a terminal has no stderr: the pty carries both). */
export interface FifoSetOptions {
  stdin?: boolean;
  /** Default true. */
  stdout?: boolean;
  /** Default true unless `terminal`. */
  stderr?: boolean;
  terminal?: boolean;
}

/** The stdio paths a CreateTask or Exec request names ("" for none). */
export interface TaskIO {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

/** A name that is safe as one path component and short enough for any socket or fifo path. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class FifoSet {
  /** The private directory holding the fifos. */
  readonly dir: string;
  readonly io: TaskIO;
  /** Feeds the process's stdin; undefined without one. */
  readonly stdin: Writable | undefined;
  readonly stdout: Readable | undefined;
  readonly stderr: Readable | undefined;
  #closed = false;

  private constructor(dir: string, io: TaskIO, ends: { stdin?: Socket; stdout?: Socket; stderr?: Socket }) {
    this.dir = dir;
    this.io = io;
    this.stdin = ends.stdin;
    this.stdout = ends.stdout;
    this.stderr = ends.stderr;
  }

  /**
   * Makes `<parent>/<name>-XXXXXX/` with the fifos asked for and opens the client's ends. `parent`
   * must exist and be the caller's (a daemon's exec root, a test's temp dir).
   */
  static async create(parent: string, name: string, opts: FifoSetOptions = {}): Promise<FifoSet> {
    if (!NAME.test(name)) throw new InvalidArgumentError(`fifos: ${JSON.stringify(name)} is not a safe name`);
    const dir = await mkdtemp(join(parent, `${name}-`)); // mkdtemp makes it 0700
    const wanted = {
      stdin: opts.stdin === true,
      stdout: opts.stdout !== false,
      stderr: opts.terminal ? false : opts.stderr !== false,
    };
    const path = (which: keyof typeof wanted) => (wanted[which] ? join(dir, which) : "");
    const io: TaskIO = {
      stdin: path("stdin"),
      stdout: path("stdout"),
      stderr: path("stderr"),
      terminal: opts.terminal === true,
    };
    const ends: { stdin?: Socket; stdout?: Socket; stderr?: Socket } = {};
    try {
      const fifos = [io.stdin, io.stdout, io.stderr].filter((p) => p !== "");
      if (fifos.length > 0)
        await execChecked("mkfifo", ["-m", "0700", ...fifos], { stdio: ["ignore", "ignore", "pipe"] });
      if (io.stdin) ends.stdin = pipeEnd(io.stdin, constants.O_RDWR, "stdin");
      if (io.stdout) ends.stdout = pipeEnd(io.stdout, constants.O_RDONLY | constants.O_NONBLOCK, "stdout");
      if (io.stderr) ends.stderr = pipeEnd(io.stderr, constants.O_RDONLY | constants.O_NONBLOCK, "stderr");
    } catch (err) {
      for (const s of Object.values(ends)) s.destroy();
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return new FifoSet(dir, io, ends);
  }

  /**
   * Opens the client's ends again of the fifos an earlier FifoSet made in `dir` (a daemon that
   * restarted while its task ran: what the pipes hold is read from where the last reader left
   * off). The directory must be a private one of this user's (0700, no symlink); only fifos are
   * opened, each end as create opens it.
   */
  static reopen(dir: string, terminal: boolean): FifoSet {
    const st = lstatSync(dir);
    if (!st.isDirectory() || (st.mode & 0o077) !== 0 || st.uid !== process.getuid?.()) {
      throw new InvalidArgumentError(`fifos: ${dir} is not a private directory of this user's`);
    }
    const present = (name: string) => {
      try {
        return lstatSync(join(dir, name)).isFIFO() ? join(dir, name) : "";
      } catch {
        return "";
      }
    };
    const io: TaskIO = { stdin: present("stdin"), stdout: present("stdout"), stderr: present("stderr"), terminal };
    const ends: { stdin?: Socket; stdout?: Socket; stderr?: Socket } = {};
    try {
      if (io.stdin) ends.stdin = pipeEnd(io.stdin, constants.O_RDWR, "stdin");
      if (io.stdout) ends.stdout = pipeEnd(io.stdout, constants.O_RDONLY | constants.O_NONBLOCK, "stdout");
      if (io.stderr) ends.stderr = pipeEnd(io.stderr, constants.O_RDONLY | constants.O_NONBLOCK, "stderr");
    } catch (err) {
      for (const s of Object.values(ends)) s.destroy();
      throw err;
    }
    return new FifoSet(dir, io, ends);
  }

  /** Ends stdin: the process reads EOF once the shim is told (Tasks.CloseIO). */
  closeStdin(): Promise<void> {
    const s = this.stdin;
    if (!s || s.writableFinished || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => s.end(() => resolve()));
  }

  /** Closes every end still open and removes the fifos and their directory. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [this.stdin, this.stdout, this.stderr]) s?.destroy();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Opens a fifo this set just made (refusing anything else at the path) as a libuv pipe stream. */
function pipeEnd(path: string, flags: number, which: string): Socket {
  const fd = openSync(path, flags | constants.O_NOFOLLOW);
  if (!fstatSync(fd).isFIFO()) {
    closeSync(fd);
    throw new InvalidArgumentError(`fifos: ${path} is not a fifo`);
  }
  const readable = which !== "stdin";
  const s = new Socket({ fd, readable, writable: !readable });
  // A reader that stops reading or a process gone: errors end the stream; the owner sees its end.
  s.on("error", () => {});
  return s;
}

/**
 * Everything `stream` gives until it ends, at most `limit` bytes: past that the rest is read and
 * dropped (the process is not blocked), and `truncated` says so.
 */
export async function readOutput(
  stream: Readable,
  limit = 1 << 20,
): Promise<{ text: string; bytes: number; truncated: boolean }> {
  const parts: Buffer[] = [];
  let kept = 0;
  let bytes = 0;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    bytes += b.length;
    if (kept < limit) {
      const take = b.subarray(0, limit - kept);
      parts.push(take);
      kept += take.length;
    }
  }
  return { text: Buffer.concat(parts, kept).toString("utf8"), bytes, truncated: bytes > kept };
}
