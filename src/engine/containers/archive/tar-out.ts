// A tree inside a container's root written as a tar stream (docker cp out, docker export), read
// through fds only (pinned.ts): a directory is listed through its fd, each child is looked at
// with lstat of "<dir fd>/<name>", entered O_NOFOLLOW|O_DIRECTORY and read O_NOFOLLOW, so a
// symlink in the container, or one swapped in while the walk runs, is written as a symlink and
// never followed to the host's file. Entries as dockerd writes them: names below `base` (a
// directory with a trailing "/"), whole-second mtimes, the second name of a hard-linked file as
// a link to the first, security.capability kept, sockets skipped.

import type { BigIntStats } from "node:fs";
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readlinkSync } from "node:fs";
import { fileData } from "../../../common/archive/file-data.ts";
import type { Fsops } from "../../../common/archive/fsops.ts";
import { entryFromStat } from "../../../common/archive/tar-entry.ts";
import { END_OF_ARCHIVE, encodeHeader, entryTypeOf, type TarEntry } from "../../../common/archive/tar-format.ts";
import { errnoCode } from "../../../common/errors.ts";
import { fdPath, MAX_TREE_DEPTH, type Pinned, pinChildDir, tooDeep } from "./pinned.ts";

/** A directory with more entries than this is refused rather than listed into memory at once. */
export const MAX_DIR_ENTRIES = 1_000_000;
const CAPABILITY_XATTR = "security.capability";

export interface TarTreeOptions {
  /** The name of the top entry ("" for the root: its children are "/bin", ... as dockerd names them). */
  base: string;
  /** Entries (components below the top) that are written but not entered or read: mount points. */
  prune?: (rel: readonly string[]) => boolean;
  /** Leave out the top entry itself (docker export writes only what is inside the root). */
  skipTop?: boolean;
  fsops: Fsops;
}

class TreeWriter {
  readonly #opts: TarTreeOptions;
  /** dev:ino of files with more than one link -> the name written first. */
  readonly #links = new Map<string, string>();

  constructor(opts: TarTreeOptions) {
    this.#opts = opts;
  }

  #name(rel: readonly string[]): string {
    // docker export: the root's children by their own names ("bin/", "etc/passwd").
    if (this.#opts.skipTop) return rel.join("/");
    if (rel.length === 0) return this.#opts.base === "" ? "/" : this.#opts.base;
    return `${this.#opts.base}/${rel.join("/")}`;
  }

  /** One entry: `parentFd` + `name` locate it (`selfFd` when it is the top, already pinned). */
  async *entry(
    parentFd: number | null,
    name: string | null,
    rel: string[],
    st: BigIntStats,
    selfFd?: number,
  ): AsyncGenerator<Buffer> {
    const type = entryTypeOf(st);
    if (type === null) return; // a socket: dockerd skips them
    // The top of the root has no parent here: it is a directory, reached through its own fd.
    const at = parentFd === null || name === null ? fdPath(selfFd!) : fdPath(parentFd, name);
    const tarName = this.#name(rel);
    let linkname = "";
    if (type === "symlink") {
      // Read from beside it: "<parent fd>/<name>" is not followed by readlink.
      try {
        linkname = readlinkSync(at);
      } catch (err) {
        if (errnoCode(err) === "ENOENT" || errnoCode(err) === "EINVAL") return; // gone or swapped
        throw err;
      }
    }
    const entry = entryFromStat(tarName, st, type, linkname);
    if (type !== "dir" && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.#links.get(key);
      if (first !== undefined) {
        yield encodeHeader({ ...entry, type: "hardlink", linkname: first, size: 0 });
        return;
      }
      this.#links.set(key, tarName);
    }
    const pruned = rel.length > 0 && this.#opts.prune?.(rel) === true;
    if (type === "file" && !pruned) {
      const cap = await this.#opts.fsops.lgetxattr(at, CAPABILITY_XATTR).catch(() => null);
      if (cap !== null) entry.xattrs.set(CAPABILITY_XATTR, cap);
      yield* this.#file(at, entry, st);
      return;
    }
    if (pruned && type === "file") entry.size = 0;
    if (!(rel.length === 0 && this.#opts.skipTop)) yield encodeHeader(entry);
    if (type !== "dir" || pruned) return;
    const dirFd = parentFd === null || name === null ? selfFd! : pinChildDir(parentFd, name);
    if (dirFd === null) return; // swapped for something else meanwhile
    try {
      yield* this.#children(dirFd, rel);
    } finally {
      if (dirFd !== selfFd) closeSync(dirFd);
    }
  }

  async *#children(dirFd: number, rel: string[]): AsyncGenerator<Buffer> {
    if (rel.length >= MAX_TREE_DEPTH) throw tooDeep(rel);
    let names: string[];
    try {
      names = readdirSync(fdPath(dirFd));
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    if (names.length > MAX_DIR_ENTRIES) throw new Error(`${this.#name(rel)}: more than ${MAX_DIR_ENTRIES} entries`);
    // Byte order, as Go's filepath.Walk lists them.
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const child of names) {
      let st: BigIntStats;
      try {
        st = lstatSync(fdPath(dirFd, child), { bigint: true });
      } catch (err) {
        if (errnoCode(err) === "ENOENT") continue; // removed meanwhile
        throw err;
      }
      yield* this.entry(dirFd, child, [...rel, child], st);
    }
  }

  /**
   * A regular file's header and data. Opened without following and checked to be the inode lstat
   * saw (a FIFO swapped in cannot block: O_NONBLOCK); exactly the size in the header is written,
   * zeros past an early end, so a file growing or shrinking meanwhile cannot break the stream.
   */
  async *#file(at: string, entry: TarEntry, st: BigIntStats): AsyncGenerator<Buffer> {
    let fd: number;
    try {
      fd = openSync(at, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (err) {
      if (["ENOENT", "ELOOP", "ENXIO"].includes(errnoCode(err) ?? "")) return;
      throw err;
    }
    try {
      const now = fstatSync(fd, { bigint: true });
      if (!now.isFile() || now.ino !== st.ino || now.dev !== st.dev) return;
      yield encodeHeader(entry);
      yield* fileData(fd, entry.size);
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * The tar of `top` (found by resolvePinned with keepParent; its own name in the tar is
 * `opts.base`) and everything below it, ending the archive. A directory is read through its own
 * fd, anything else from the directory it was found in, so a symlink there is written as one
 * and an entry swapped meanwhile is left out rather than followed.
 */
export async function* tarTree(top: Pinned, opts: TarTreeOptions): AsyncGenerator<Buffer> {
  const w = new TreeWriter(opts);
  if (top.stat.isDirectory()) yield* w.entry(null, null, [], top.stat, top.fd);
  else if (top.parent !== undefined && top.rel.length > 0) yield* w.entry(top.parent, top.rel.at(-1)!, [], top.stat);
  yield END_OF_ARCHIVE;
}
