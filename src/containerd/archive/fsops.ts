// The TypeScript side of native/fsops.c: mknod and the l*xattr calls Node lacks, answered by a
// long-lived child process. Requests are pipelined (written without waiting for earlier replies);
// replies arrive in order, so a FIFO of pending calls matches them up. The child is unref'd while
// idle, so an open Fsops never keeps a process alive.
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { getSystemErrorName } from "node:util";
import { BerthError, UnavailableError } from "../../common/errors.ts";

const OP_MKNOD = 1;
const OP_LSETXATTR = 2;
const OP_LGETXATTR = 3;
const OP_LLISTXATTR = 4;

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

function cString(s: string, what: string): Buffer {
  const b = Buffer.from(s);
  if (b.includes(0)) throw new BerthError("invalid-argument", `${what} contains a NUL byte: ${JSON.stringify(s)}`);
  return b;
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
  mknod(path: string, mode: number, major = 0, minor = 0): Promise<void> {
    return this.#call(OP_MKNOD, "mknod", path, [cString(path, "path"), u32(mode), u32(major), u32(minor)]).then(
      () => undefined,
    );
  }

  lsetxattr(path: string, name: string, value: Uint8Array): Promise<void> {
    const args = [cString(path, "path"), cString(name, "xattr name"), Buffer.from(value)];
    return this.#call(OP_LSETXATTR, "lsetxattr", path, args).then(() => undefined);
  }

  /** The attribute's value, or null when the file has no such attribute (ENODATA). */
  async lgetxattr(path: string, name: string): Promise<Buffer | null> {
    try {
      return await this.#call(OP_LGETXATTR, "lgetxattr", path, [cString(path, "path"), cString(name, "xattr name")]);
    } catch (err) {
      if ((err as FsopsError).code === "ENODATA") return null;
      throw err;
    }
  }

  /** Attribute names of the file itself (a symlink's own, not its target's). */
  async llistxattr(path: string): Promise<string[]> {
    const data = await this.#call(OP_LLISTXATTR, "llistxattr", path, [cString(path, "path")]);
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
    // A write error (EPIPE) is reported through "exit" below with the pending calls.
    child.stdin.on("error", () => {});
    child.on("error", (err) => this.#fail(new UnavailableError(`fsops helper: ${err.message}`, { cause: err }), true));
    child.on("exit", (code, signal) => {
      // The next call starts a fresh helper; the calls in flight are lost and fail.
      if (this.#child === child) this.#child = undefined;
      if (this.#pending.length > 0) {
        this.#fail(
          new BerthError("internal", `fsops helper exited (${signal ?? `status ${code}`}) with calls pending`),
        );
      }
    });
    this.#child = child;
    this.#idle(true);
    return child;
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
    const child = this.#start();
    return new Promise<Buffer>((resolve, reject) => {
      if (this.#pending.length === 0) this.#idle(false);
      this.#pending.push({ syscall, path, resolve, reject });
      child.stdin.write(encodeRequest(op, args));
    });
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
