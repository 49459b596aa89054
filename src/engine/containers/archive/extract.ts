// docker cp into a container (PUT /containers/{id}/archive): a tar extracted in a directory of the
// container's root, as dockerd's archive.Untar does it there (entries merged into what exists, an
// existing entry replaced unless both are directories, parents made 0755, owners from the tar or
// the container's user with copyUIDGID, device nodes made as root may make them).
//
// Nothing reaches the host: entry names are cleaned under the destination and refused when they
// leave it (as dockerd's breakout check), and every parent is resolved inside the container's
// root through fds (pinned.ts), so a symlink an earlier entry made, or one the running container
// swaps in meanwhile, resolves inside the container like a chroot would, and the last component
// is never followed (O_EXCL|O_NOFOLLOW, mkdir, symlink, link, mknod, lchown, lutimes, unlink).
//
// The body is spooled to disk first (bounded) and read through once to check it whole before
// anything is written, so a refused archive (an escaping name, a bad header, a cut-off body, too
// many entries) changes nothing. What only writing can find (a full disk, a hard link to a file
// that is not there, a non-directory over a directory with noOverwriteDirNonDir) stops the
// extraction there and leaves the entries before it, as dockerd does.
import { once } from "node:events";
import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Fsops } from "../../../common/archive/fsops.ts";
import { cleanPath, type TarEntry } from "../../../common/archive/tar-format.ts";
import { TarReader } from "../../../common/archive/tar-reader.ts";
import { BerthError, errnoCode, errorMessage, InvalidArgumentError } from "../../../common/errors.ts";
import { chmodNoFollow } from "../../../common/in-root.ts";
import { fdPath, MAX_TREE_DEPTH, mkdirInRoot, pinChildDir, resolvePinned, tooDeep } from "./pinned.ts";

/** The most entries one archive may hold (each is a few syscalls; dockerd sets no bound). */
export const MAX_PUT_ENTRIES = 1_000_000;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const S_IFMT = { char: constants.S_IFCHR, block: constants.S_IFBLK, fifo: constants.S_IFIFO } as const;

export interface ExtractOptions {
  /** dockerd's noOverwriteDirNonDir: an entry may not replace a directory by a non-directory or the reverse. */
  noOverwriteDirNonDir: boolean;
  /** copyUIDGID with a container user: every entry is owned by it; otherwise by the tar's ids. */
  owner?: { uid: number; gid: number };
  fsops: Fsops;
}

/**
 * Writes `body` to a new file in `spoolDir` (0600); past `limit` bytes it stops with `tooLarge()`.
 * The caller removes the file.
 */
export async function spool(body: Readable, spoolDir: string, limit: number, tooLarge: () => Error): Promise<string> {
  const file = join(spoolDir, `put-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.tar`);
  let seen = 0;
  const out = createWriteStream(file, { flags: "wx", mode: 0o600 });
  try {
    await pipeline(
      body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          seen += chunk.length;
          if (seen > limit) throw tooLarge();
          yield chunk;
        }
      },
      out,
    );
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
  return file;
}

function refuse(entry: TarEntry, why: string): never {
  throw new InvalidArgumentError(`tar entry ${JSON.stringify(entry.name)}: ${why}`);
}

/** The entry's components under the destination (refused when it leaves it). */
function entryPath(entry: TarEntry): string[] {
  const rel = cleanPath(entry.name);
  if (rel === null) refuse(entry, "path escapes the destination directory");
  if (rel.length === 0 && entry.type !== "dir") refuse(entry, "a non-directory entry for the destination itself");
  return rel;
}

function linkTarget(entry: TarEntry): string[] {
  const target = cleanPath(entry.linkname);
  if (target === null || target.length === 0)
    refuse(entry, `hard link target ${JSON.stringify(entry.linkname)} is outside the destination directory`);
  return target;
}

/** A reader of the spooled tar, and how to close its file whatever state the stream is in. */
function openSpooled(file: string): { reader: TarReader; close(): Promise<void> } {
  const input = createReadStream(file);
  return {
    reader: new TarReader(input, () => {}),
    close: async () => {
      if (input.closed) return;
      const closed = once(input, "close").catch(() => {});
      input.destroy();
      await closed;
    },
  };
}

/** Reads the spooled tar through: every header and name checked, the entries counted. Writes nothing. */
export async function checkTar(file: string): Promise<number> {
  const { reader, close } = openSpooled(file);
  let count = 0;
  try {
    for (;;) {
      const entry = await reader.next();
      if (entry === null) break;
      if (++count > MAX_PUT_ENTRIES)
        throw new InvalidArgumentError(`the archive holds more than ${MAX_PUT_ENTRIES} entries`);
      entryPath(entry);
      if (entry.type === "hardlink") linkTarget(entry);
    }
  } finally {
    await close();
  }
  return count;
}

class Extractor {
  readonly #rootFd: number;
  readonly #dest: readonly string[];
  readonly #opts: ExtractOptions;
  /** The last parent resolved (entries of one directory come together), dropped on any removal or link. */
  #cached: { key: string; fd: number } | undefined;
  #stale = false;
  /** Directories whose times are set last (adding entries changes them). */
  readonly #dirTimes: { rel: string[]; atime: number; mtime: number }[] = [];

  constructor(rootFd: number, dest: readonly string[], opts: ExtractOptions) {
    this.#rootFd = rootFd;
    this.#dest = dest;
    this.#opts = opts;
  }

  /** Something was removed or a symlink made: the cached parent may no longer be what its path names. */
  #forget(): void {
    this.#stale = true;
  }

  /** The directory `dir` (below the destination) resolved in the root, made (0755) where missing. */
  #parent(dir: readonly string[]): number {
    const key = dir.join("/");
    if (this.#cached?.key === key && !this.#stale) return this.#cached.fd;
    this.#drop();
    const full = [...this.#dest, ...dir];
    let found = resolvePinned(this.#rootFd, full, true);
    if (found === "missing") {
      mkdirInRoot(this.#rootFd, full, 0o755);
      found = resolvePinned(this.#rootFd, full, true);
    }
    if (typeof found === "string" || !found.stat.isDirectory()) {
      if (typeof found !== "string") closeSync(found.fd);
      throw new BerthError("internal", `/${full.join("/")}: not a directory`);
    }
    this.#cached = { key, fd: found.fd };
    return found.fd;
  }

  #drop(): void {
    if (this.#cached) closeSync(this.#cached.fd);
    this.#cached = undefined;
    this.#stale = false;
  }

  async apply(entry: TarEntry, reader: TarReader): Promise<void> {
    const rel = entryPath(entry);
    if (rel.length === 0) return; // the destination itself: left as it is, as dockerd does
    const place = {
      dirFd: this.#parent(rel.slice(0, -1)),
      name: rel.at(-1)!,
      shown: `/${[...this.#dest, ...rel].join("/")}`,
    };
    const at = fdPath(place.dirFd, place.name);
    const existing = lstatOrNull(at);
    if (existing !== null) {
      const isDir = existing.isDirectory();
      if (this.#opts.noOverwriteDirNonDir && isDir && entry.type !== "dir")
        throw new BerthError(
          "internal",
          `cannot overwrite directory ${JSON.stringify(place.shown)} with non-directory`,
        );
      if (this.#opts.noOverwriteDirNonDir && !isDir && entry.type === "dir")
        throw new BerthError(
          "internal",
          `cannot overwrite non-directory ${JSON.stringify(place.shown)} with directory`,
        );
      if (!(isDir && entry.type === "dir")) {
        removeTree(place.dirFd, place.name);
        this.#forget();
      }
    }
    const { uid, gid } = this.#opts.owner ?? entry;
    const target = fdPath(place.dirFd, place.name);
    switch (entry.type) {
      case "dir": {
        if (existing === null || !existing.isDirectory()) mkdirSync(target, 0o700);
        const fd = openSync(target, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
        try {
          fchownSync(fd, uid, gid);
          fchmodSync(fd, entry.mode);
        } finally {
          closeSync(fd);
        }
        await this.#xattrs(entry, target);
        this.#dirTimes.push({ rel, atime: entry.atime ?? entry.mtime, mtime: entry.mtime });
        return;
      }
      case "file": {
        const fd = openSync(target, CREATE_FLAGS, 0o600);
        try {
          let position = 0;
          for await (const chunk of reader.data()) {
            for (let off = 0; off < chunk.length; )
              off += writeSync(fd, chunk, off, chunk.length - off, position + off);
            position += chunk.length;
          }
          fchownSync(fd, uid, gid);
          await this.#xattrs(entry, target);
          fchmodSync(fd, entry.mode);
          futimesSync(fd, entry.atime ?? entry.mtime, entry.mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case "symlink":
        symlinkSync(entry.linkname, target);
        this.#forget();
        lchownSync(target, uid, gid);
        await this.#xattrs(entry, target);
        lutimesSync(target, entry.atime ?? entry.mtime, entry.mtime);
        return;
      case "hardlink": {
        const link = linkTarget(entry);
        const from = resolvePinned(this.#rootFd, [...this.#dest, ...link.slice(0, -1)], true);
        if (typeof from === "string")
          throw new InvalidArgumentError(`tar entry ${JSON.stringify(entry.name)}: hard link target does not exist`);
        try {
          linkSync(fdPath(from.fd, link.at(-1)!), target);
        } catch (err) {
          if (errnoCode(err) === "ENOENT")
            throw new InvalidArgumentError(`tar entry ${JSON.stringify(entry.name)}: hard link target does not exist`);
          throw err;
        } finally {
          closeSync(from.fd);
        }
        return;
      }
      default: {
        await this.#opts.fsops.mknod(
          target,
          S_IFMT[entry.type] | (entry.mode & 0o7777),
          entry.devmajor,
          entry.devminor,
        );
        lchownSync(target, uid, gid);
        await this.#xattrs(entry, target);
        chmodNoFollow(target, entry.mode);
        lutimesSync(target, entry.atime ?? entry.mtime, entry.mtime);
      }
    }
  }

  /** As dockerd: xattrs the filesystem or the caller may not set (ENOTSUP, EPERM) are skipped. */
  async #xattrs(entry: TarEntry, target: string): Promise<void> {
    for (const [name, value] of entry.xattrs) {
      await this.#opts.fsops.lsetxattr(target, name, value).catch((err: unknown) => {
        if (errnoCode(err) !== "ENOTSUP" && errnoCode(err) !== "EPERM") throw err;
      });
    }
  }

  /** Directory times, last (deepest first), each reached again inside the root and changed through an fd. */
  finish(): void {
    this.#drop();
    for (const d of this.#dirTimes.reverse()) {
      const found = resolvePinned(this.#rootFd, [...this.#dest, ...d.rel], false);
      if (typeof found === "string") continue;
      try {
        if (!found.stat.isDirectory()) continue;
        const fd = openSync(fdPath(found.fd), constants.O_RDONLY | constants.O_DIRECTORY);
        try {
          futimesSync(fd, d.atime, d.mtime);
        } finally {
          closeSync(fd);
        }
      } finally {
        closeSync(found.fd);
      }
    }
  }
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return null;
    throw err;
  }
}

/**
 * Removes `name` in the directory open at `dirFd` and everything below it, each directory entered
 * through an fd (O_NOFOLLOW): a symlink swapped in meanwhile is unlinked, never followed.
 */
export function removeTree(dirFd: number, name: string, depth = 0): void {
  const at = fdPath(dirFd, name);
  const st = lstatOrNull(at);
  if (st === null) return;
  if (!st.isDirectory()) {
    unlinkSync(at);
    return;
  }
  if (depth >= MAX_TREE_DEPTH) throw tooDeep([name]);
  const sub = pinChildDir(dirFd, name);
  if (sub === null) {
    unlinkSync(at); // no longer a directory
    return;
  }
  try {
    for (const child of readdirSync(fdPath(sub))) removeTree(sub, child, depth + 1);
  } finally {
    closeSync(sub);
  }
  rmdirSync(at);
}

/**
 * Extracts the checked, spooled tar `file` into `dest` (components below the root open at
 * `rootFd`, a directory). Errors name the entry.
 */
export async function extractTar(
  file: string,
  rootFd: number,
  dest: readonly string[],
  opts: ExtractOptions,
): Promise<void> {
  const { reader, close } = openSpooled(file);
  const x = new Extractor(rootFd, dest, opts);
  try {
    for (;;) {
      const entry = await reader.next();
      if (entry === null) break;
      try {
        await x.apply(entry, reader);
      } catch (err) {
        if (err instanceof BerthError) throw err;
        throw new BerthError("internal", `tar entry ${JSON.stringify(entry.name)}: ${errorMessage(err)}`, {
          cause: err,
        });
      }
    }
  } finally {
    x.finish();
    await close();
  }
}
