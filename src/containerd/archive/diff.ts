// Writes a snapshot's own changes as an OCI layer tar: the reverse of apply.ts. Two sources:
//  - an overlayfs upper dir, which holds exactly the changes (0/0 character devices are
//    whiteouts, trusted.overlay.opaque=y marks opaque directories);
//  - two plain trees (lower, upper), compared entry by entry: added, changed (type, mode, owner,
//    xattrs, size, mtime, link target, device, and content when mtimes are second-truncated) and
//    deleted (written as ".wh.<name>").
// Output is deterministic: entries in byte order of names, parents first, mtimes truncated to
// seconds (as containerd writes them), whiteouts dated at the epoch.
import { createHash, type Hash } from "node:crypto";
import { type BigIntStats, constants as fsc } from "node:fs";
import { type FileHandle, lstat, open, readdir, readlink } from "node:fs/promises";
import { Readable, Transform, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { type Fsops, sharedFsops } from "../../common/archive/fsops.ts";
import { bareEntry, entryFromStat } from "../../common/archive/tar-entry.ts";
import {
  END_OF_ARCHIVE,
  encodeHeader,
  entryTypeOf,
  paddingFor,
  type TarEntry,
} from "../../common/archive/tar-format.ts";
import { BerthError } from "../../common/errors.ts";
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from "./layer-entry.ts";

export type DiffSource =
  /** An overlayfs upper directory. */
  | { kind: "overlay"; upper: string }
  /** Two trees; `lower` null means empty (every upper entry is added). */
  | { kind: "plain"; lower: string | null; upper: string };

export interface WriteDiffOptions {
  compression?: "none" | "gzip";
  signal?: AbortSignal;
  fsops?: Fsops;
}

export interface DiffResult {
  /** "sha256:<hex>" and byte count of what was written to the output (compressed if asked). */
  digest: string;
  size: number;
  /** "sha256:<hex>" and byte count of the uncompressed tar. */
  diffId: string;
  uncompressedSize: number;
}

const READ_CHUNK = 1 << 20;
const OVERLAY_XATTR_PREFIX = "trusted.overlay.";

interface Node {
  name: string;
  st: BigIntStats;
  xattrs: Map<string, Buffer>;
}

function isOverlayWhiteout(st: BigIntStats): boolean {
  return st.isCharacterDevice() && st.rdev === 0n;
}

function join(rel: string, name: string): string {
  return rel === "" ? name : `${rel}/${name}`;
}

function sameXattrs(a: Map<string, Buffer>, b: Map<string, Buffer>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w?.equals(v)) return false;
  }
  return true;
}

function whiteoutEntry(rel: string, name: string): TarEntry {
  return bareEntry({ name: join(rel, name), type: "file" });
}

class DiffWalker {
  readonly #fsops: Fsops;
  readonly #signal: AbortSignal | undefined;
  /** First archived path of each multiply-linked inode: later names become hard links. */
  readonly #inodes = new Map<string, string>();
  /** Directory headers held back until something below them is written (plain diffs). */
  readonly #pending: { header: Buffer; written: boolean }[] = [];

  constructor(fsops: Fsops, signal: AbortSignal | undefined) {
    this.#fsops = fsops;
    this.#signal = signal;
  }

  async #xattrs(abs: string): Promise<Map<string, Buffer>> {
    const names = (await this.#fsops.llistxattr(abs)).filter((n) => !n.startsWith(OVERLAY_XATTR_PREFIX)).sort();
    const values = await Promise.all(names.map((n) => this.#fsops.lgetxattr(abs, n)));
    const out = new Map<string, Buffer>();
    names.forEach((n, i) => {
      const v = values[i];
      if (v) out.set(n, v);
    });
    return out;
  }

  /** Sorted children of a directory with their stats and xattrs (fetched concurrently). */
  async #children(dir: string): Promise<Node[]> {
    const names = (await readdir(dir)).sort();
    return Promise.all(
      names.map(async (name) => {
        const abs = `${dir}/${name}`;
        const [st, xattrs] = await Promise.all([lstat(abs, { bigint: true }), this.#xattrs(abs)]);
        return { name, st, xattrs };
      }),
    );
  }

  async #entry(abs: string, rel: string, node: Node): Promise<TarEntry | null> {
    const type = entryTypeOf(node.st);
    if (type === null) return null;
    const linkname = type === "symlink" ? await readlink(abs) : "";
    return entryFromStat(rel, node.st, type, linkname, node.xattrs);
  }

  async *#flushPending(): AsyncGenerator<Buffer> {
    for (const p of this.#pending) {
      if (!p.written) {
        p.written = true;
        yield p.header;
      }
    }
  }

  async *#write(abs: string, entry: TarEntry, st?: BigIntStats): AsyncGenerator<Buffer> {
    this.#signal?.throwIfAborted();
    yield* this.#flushPending();
    if (st !== undefined && entry.type === "file" && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#inodes.get(key);
      if (first !== undefined) entry = { ...entry, type: "hardlink", size: 0, linkname: first };
      else this.#inodes.set(key, entry.name);
    }
    yield encodeHeader(entry);
    if (entry.type === "file" && entry.size > 0) {
      yield* fileData(abs, entry.size, st);
      const pad = paddingFor(entry.size);
      if (pad > 0) yield Buffer.alloc(pad);
    }
  }

  async *overlay(root: string, rel: string): AsyncGenerator<Buffer> {
    const dir = rel === "" ? root : `${root}/${rel}`;
    for (const node of await this.#children(dir)) {
      const abs = `${dir}/${node.name}`;
      const path = join(rel, node.name);
      if (isOverlayWhiteout(node.st)) {
        yield* this.#write(abs, whiteoutEntry(rel, WHITEOUT_PREFIX + node.name));
        continue;
      }
      const entry = await this.#entry(abs, path, node);
      if (entry === null) continue;
      yield* this.#write(abs, entry, node.st);
      if (entry.type !== "dir") continue;
      const opaque = await this.#fsops.lgetxattr(abs, `${OVERLAY_XATTR_PREFIX}opaque`);
      if (opaque?.toString() === "y") yield* this.#write(abs, whiteoutEntry(path, OPAQUE_WHITEOUT));
      yield* this.overlay(root, path);
    }
  }

  /** `lower` null: nothing below this directory exists in the lower tree. */
  async *plain(lower: string | null, upper: string, rel: string): AsyncGenerator<Buffer> {
    const udir = rel === "" ? upper : `${upper}/${rel}`;
    const ldir = lower === null ? null : rel === "" ? lower : `${lower}/${rel}`;
    const uppers = await this.#children(udir);
    const lowers = ldir === null ? [] : await this.#children(ldir);
    const lowerByName = new Map(lowers.map((n) => [n.name, n]));
    const upperNames = new Set(uppers.map((n) => n.name));
    const names = [...new Set([...upperNames, ...lowerByName.keys()])].sort();
    const upperByName = new Map(uppers.map((n) => [n.name, n]));
    for (const name of names) {
      const path = join(rel, name);
      const u = upperByName.get(name);
      const l = lowerByName.get(name);
      if (u === undefined) {
        yield* this.#write("", whiteoutEntry(rel, WHITEOUT_PREFIX + name));
        continue;
      }
      const abs = `${udir}/${name}`;
      const entry = await this.#entry(abs, path, u);
      if (entry === null) continue;
      const lowerDir = l?.st.isDirectory() ? lower : null;
      if (entry.type === "dir" && lowerDir !== null && l !== undefined) {
        if (!(await sameNode(`${ldir}/${name}`, abs, l, u))) {
          yield* this.#write(abs, entry);
          yield* this.plain(lowerDir, upper, path);
          continue;
        }
        // Unchanged itself: written only if something below it is.
        this.#pending.push({ header: encodeHeader(entry), written: false });
        yield* this.plain(lowerDir, upper, path);
        this.#pending.pop();
        continue;
      }
      if (l !== undefined && entry.type !== "dir" && (await sameNode(`${ldir}/${name}`, abs, l, u))) continue;
      yield* this.#write(abs, entry, u.st);
      if (entry.type === "dir") yield* this.plain(null, upper, path);
    }
  }
}

/** Whether a lower and an upper entry are the same for a diff (as containerd's double walk). */
async function sameNode(labs: string, uabs: string, l: Node, u: Node): Promise<boolean> {
  const a = l.st;
  const b = u.st;
  if (entryTypeOf(a) !== entryTypeOf(b) || a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid) return false;
  if (!sameXattrs(l.xattrs, u.xattrs)) return false;
  if (a.isSymbolicLink()) return (await readlink(labs)) === (await readlink(uabs));
  if (a.isCharacterDevice() || a.isBlockDevice()) return a.rdev === b.rdev;
  if (a.isDirectory()) return a.mtimeNs === b.mtimeNs;
  if (!a.isFile()) return true;
  if (a.dev === b.dev && a.ino === b.ino) return true;
  if (a.size !== b.size || a.mtimeNs !== b.mtimeNs) return false;
  // Equal nanosecond mtimes prove nothing when a copy truncated them to seconds: compare bytes.
  if (a.mtimeNs % 1_000_000_000n === 0n) return sameContent(labs, uabs, a, b);
  return true;
}

/**
 * Opens the file `st` describes, by path; refuses whatever else the path reaches now. A running
 * container can swap a parent directory of its snapshot for a symlink between the walk's lstat
 * and this open: without the check the diff would carry a host file's bytes.
 */
async function openSame(abs: string, st: BigIntStats): Promise<FileHandle> {
  const fh = await open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  const now = await fh.stat({ bigint: true }).catch(async (err: unknown) => {
    await fh.close();
    throw err;
  });
  if (now.dev !== st.dev || now.ino !== st.ino) {
    await fh.close();
    throw new BerthError("internal", `${abs} changed while its diff was written (not the file first seen)`);
  }
  return fh;
}

async function sameContent(a: string, b: string, sa: BigIntStats, sb: BigIntStats): Promise<boolean> {
  const fa = await openSame(a, sa);
  const fb = await openSame(b, sb).catch(async (err: unknown) => {
    await fa.close();
    throw err;
  });
  try {
    const ba = Buffer.allocUnsafe(READ_CHUNK);
    const bb = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, READ_CHUNK), fb.read(bb, 0, READ_CHUNK)]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (ra.bytesRead === 0) return true;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

async function* fileData(abs: string, size: number, st: BigIntStats | undefined): AsyncGenerator<Buffer> {
  const fh = st ? await openSame(abs, st) : await open(abs, fsc.O_RDONLY | fsc.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length);
      if (bytesRead === 0) throw new BerthError("internal", `${abs} shrank while its diff was written`);
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

function hashing(hash: Hash, count: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      count(chunk.length);
      done(null, chunk);
    },
  });
}

/** The uncompressed layer tar of `source`, as a stream of chunks. */
export async function* diffTar(source: DiffSource, fsops: Fsops, signal?: AbortSignal): AsyncGenerator<Buffer> {
  const walker = new DiffWalker(fsops, signal);
  if (source.kind === "overlay") yield* walker.overlay(source.upper, "");
  else yield* walker.plain(source.lower, source.upper, "");
  yield END_OF_ARCHIVE;
}

/** Writes the layer tar of `source` to `output` (gzip-compressed if asked); ends `output`. */
export async function writeDiff(
  source: DiffSource,
  output: Writable,
  opts: WriteDiffOptions = {},
): Promise<DiffResult> {
  const tarHash = createHash("sha256");
  const outHash = createHash("sha256");
  let tarSize = 0;
  let outSize = 0;
  const tar = Readable.from(diffTar(source, opts.fsops ?? sharedFsops(), opts.signal), { objectMode: false });
  const counted = hashing(tarHash, (n) => {
    tarSize += n;
  });
  const written = hashing(outHash, (n) => {
    outSize += n;
  });
  const signal = opts.signal ? { signal: opts.signal } : {};
  if (opts.compression === "gzip") await pipeline(tar, counted, createGzip(), written, output, signal);
  else await pipeline(tar, counted, written, output, signal);
  const diffId = `sha256:${tarHash.digest("hex")}`;
  return {
    digest: opts.compression === "gzip" ? `sha256:${outHash.digest("hex")}` : diffId,
    size: outSize,
    diffId,
    uncompressedSize: tarSize,
  };
}
