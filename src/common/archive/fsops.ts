// The TypeScript side of native/fsops.c: mknod and the l*xattr calls Node lacks, answered by a
// long-lived child process. Requests are pipelined (written without waiting for earlier replies);
// replies arrive in order, so a FIFO of pending calls matches them up. The child is unref'd while
// idle, so an open Fsops never keeps a process alive.
//
// One helper serves every unpack of the daemon, so one caller's input must not fail another's
// calls: a request the helper would refuse (over its frame limit) is refused here before it is
// sent, and if the helper dies all the same (killed, a crash) only the call it stopped on fails;
// the calls queued behind it go to a fresh helper.
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { getSystemErrorName } from "node:util";
import { BerthError, InvalidArgumentError, UnavailableError } from "../errors.ts";
import { PATH_MAX, XATTR_NAME_MAX, XATTR_SIZE_MAX } from "./tar-format.ts";

const OP_MKNOD = 1;
const OP_LSETXATTR = 2;
const OP_LGETXATTR = 3;
const OP_LLISTXATTR = 4;
/** native/fsops.c's MAX_REQUEST: a longer request ends the helper (it cannot resync the stream). */
export const FSOPS_MAX_REQUEST = 1 << 20;

/** <repo>/dist/fsops, found from this module both in src/containerd/archive and in a dist bundle. */
export function fsopsBinary(): string {
  const candidates = [join(import.meta.dirname, "../../../dist/fsops"), join(import.meta.dirname, "fsops")];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new UnavailableError(`fsops helper not found (looked at ${candidates.join(", ")}); build it`);
  return found;
}

/** An error shaped like Node's own system errors (code, errno, syscall, path). */
export interface FsopsError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path: string;
}

function systemError(errno: number, syscall: string, path: string): FsopsError {
  let code: string;
  try {
    code = getSystemErrorName(-errno);
  } catch {
    code = `E${errno}`;
  }
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, errno: -errno, syscall, path });
}

interface Pending {
  syscall: string;
  path: string;
  /** The encoded request, kept until answered: a new helper is sent it if the old one dies first. */
  request: Buffer;
  resolve(data: Buffer): void;
  reject(err: Error): void;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

function encodeRequest(op: number, args: Buffer[]): Buffer {
  let len = 1;
  for (const a of args) len += 4 + a.length;
  const out = Buffer.allocUnsafe(4 + len);
  out.writeUInt32LE(len, 0);
  out[4] = op;
  let off = 5;
  for (const a of args) {
    out.writeUInt32LE(a.length, off);
    a.copy(out, off + 4);
    off += 4 + a.length;
  }
  return out;
}

/** `s` as bytes for a C string of at most `max` bytes (without its NUL); NUL inside refused. */
function cString(s: string, what: string, max: number): Buffer {
  const b = Buffer.from(s);
  if (b.includes(0)) throw new InvalidArgumentError(`${what} contains a NUL byte: ${JSON.stringify(s)}`);
  if (b.length > max) throw new InvalidArgumentError(`${what} is ${b.length} bytes, more than ${max}: ${preview(s)}`);
  return b;
}

function preview(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}...` : s);
}

const pathArg = (path: string) => cString(path, "path", PATH_MAX - 1);
const nameArg = (name: string) => cString(name, "xattr name", XATTR_NAME_MAX);

function valueArg(path: string, name: string, value: Uint8Array): Buffer {
  if (value.length > XATTR_SIZE_MAX) {
    throw new InvalidArgumentError(
      `lsetxattr ${preview(path)}: xattr ${JSON.stringify(name)} value is ${value.length} bytes, more than ${XATTR_SIZE_MAX}`,
    );
  }
  return Buffer.from(value);
}

export class Fsops {
  readonly #binary: string;
  #child: ChildProcessByStdio<Writable, Readable, null> | undefined;
  #pending: Pending[] = [];
  #buffered: Buffer = Buffer.alloc(0);
  #dead: Error | undefined;

  constructor(binary: string = fsopsBinary()) {
    this.#binary = binary;
  }

  /** The helper's pid while one runs (diagnostics, tests). */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** mknod(2): `mode` carries the file type bits (S_IFCHR, S_IFBLK, S_IFIFO) and permissions. */
  async mknod(path: string, mode: number, major = 0, minor = 0): Promise<void> {
    await this.#call(OP_MKNOD, "mknod", path, [pathArg(path), u32(mode), u32(major), u32(minor)]);
  }

  /** lsetxattr(2); a name or value the kernel could not take is refused before it is sent. */
  async lsetxattr(path: string, name: string, value: Uint8Array): Promise<void> {
    const args = [pathArg(path), nameArg(name), valueArg(path, name, value)];
    await this.#call(OP_LSETXATTR, "lsetxattr", path, args);
  }

  /** The attribute's value, or null when the file has no such attribute (ENODATA). */
  async lgetxattr(path: string, name: string): Promise<Buffer | null> {
    try {
      return await this.#call(OP_LGETXATTR, "lgetxattr", path, [pathArg(path), nameArg(name)]);
    } catch (err) {
      if ((err as FsopsError).code === "ENODATA") return null;
      throw err;
    }
  }

  /** Attribute names of the file itself (a symlink's own, not its target's). */
  async llistxattr(path: string): Promise<string[]> {
    const data = await this.#call(OP_LLISTXATTR, "llistxattr", path, [pathArg(path)]);
    const names: string[] = [];
    let start = 0;
    for (let i = 0; i < data.length; i++) {
      if (data[i] === 0) {
        if (i > start) names.push(data.toString("utf8", start, i));
        start = i + 1;
      }
    }
    return names;
  }

  /** Ends the child after it has answered everything already asked. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
    child.ref();
    (child.stdout as Socket).ref();
    child.stdin.end();
    await exited;
  }

  #start(): ChildProcessByStdio<Writable, Readable, null> {
    if (this.#dead) throw this.#dead;
    if (this.#child) return this.#child;
    const child = spawn(this.#binary, [], { stdio: ["pipe", "pipe", "inherit"] });
    child.stdout.on("data", (chunk: Buffer) => this.#onData(chunk));
    // A write error (EPIPE) is reported through "close" below with the pending calls.
    child.stdin.on("error", () => {});
    child.on("error", (err) => this.#fail(new UnavailableError(`fsops helper: ${err.message}`, { cause: err }), true));
    // "close", not "exit": every reply it wrote has been read by then.
    child.on("close", (code, signal) => this.#onClose(child, signal ?? `status ${code}`));
    this.#child = child;
    this.#buffered = Buffer.alloc(0);
    this.#idle(true);
    return child;
  }

  /**
   * The helper is gone. It answers in order and writes its replies before it exits on a bad
   * request, so the first call still pending is the one it stopped on: that one fails, and the
   * calls behind it (never run) go to a new helper. Calls made meanwhile went to the dying one's
   * stdin and are among them.
   */
  #onClose(child: ChildProcessByStdio<Writable, Readable, null>, how: string): void {
    if (this.#child === child) this.#child = undefined;
    else if (this.#child !== undefined) return; // closed on purpose; the pending calls are the new helper's
    if (this.#pending.length === 0) return;
    if (this.#dead) {
      this.#fail(this.#dead);
      return;
    }
    const [stopped, ...rest] = this.#pending;
    this.#pending = [];
    stopped!.reject(
      new BerthError(
        "internal",
        `fsops helper exited (${how}) with calls pending, during ${stopped!.syscall} '${stopped!.path}'`,
      ),
    );
    for (const p of rest) {
      try {
        this.#send(p);
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  /** Rejects every pending call; `permanent` (the binary cannot run) also refuses future ones. */
  #fail(err: Error, permanent = false): void {
    if (permanent) this.#dead = err;
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) p.reject(err);
  }

  // Referenced only while calls are pending: an idle helper must not hold the event loop open.
  #idle(idle: boolean): void {
    const child = this.#child;
    if (!child) return;
    if (idle) {
      child.unref();
      (child.stdout as Socket).unref();
    } else {
      child.ref();
      (child.stdout as Socket).ref();
    }
  }

  #call(op: number, syscall: string, path: string, args: Buffer[]): Promise<Buffer> {
    const request = encodeRequest(op, args);
    // The per-argument limits keep every request far below this; it is the helper's own rule.
    if (request.length - 4 > FSOPS_MAX_REQUEST) {
      throw new InvalidArgumentError(`${syscall} ${preview(path)}: request of ${request.length} bytes is too large`);
    }
    return new Promise<Buffer>((resolve, reject) => this.#send({ syscall, path, request, resolve, reject }));
  }

  #send(p: Pending): void {
    const child = this.#start();
    if (this.#pending.length === 0) this.#idle(false);
    this.#pending.push(p);
    child.stdin.write(p.request);
  }

  #onData(chunk: Buffer): void {
    let buf = this.#buffered.length > 0 ? Buffer.concat([this.#buffered, chunk]) : chunk;
    while (buf.length >= 8) {
      const len = buf.readUInt32LE(0);
      if (buf.length < 4 + len) break;
      const errno = buf.readInt32LE(4);
      const data = buf.subarray(8, 4 + len);
      buf = buf.subarray(4 + len);
      const p = this.#pending.shift();
      if (!p) {
        this.#fail(new BerthError("internal", "fsops helper sent a reply nobody asked for"), true);
        return;
      }
      if (errno === 0) p.resolve(Buffer.from(data));
      else p.reject(systemError(errno, p.syscall, p.path));
    }
    this.#buffered = buf;
    if (this.#pending.length === 0) this.#idle(true);
  }
}

let shared: Fsops | undefined;

/** One helper per process, started on first use. */
export function sharedFsops(): Fsops {
  shared ??= new Fsops();
  return shared;
}
