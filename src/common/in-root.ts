// Paths inside a directory tree we do not trust (an image's rootfs, a layer being applied, a
// running container's root), reached from the host without ever leaving the tree. Two ways:
// - In the root (InRootWalk, resolveInRoot, readFileInRoot): a path resolved as
//   openat2(RESOLVE_IN_ROOT) would: symlinks are followed, but an absolute target starts again at
//   the root and ".." stops there. The walk itself decides nothing about the disk: its driver
//   looks at each step and says what is there, so a synchronous reader here and layer
//   application's asynchronous, creating resolver (containerd/archive/root-path.ts) share it.
//   readFileInRoot opens the file with O_PATH|O_NOFOLLOW (a FIFO cannot block, a device is not
//   opened), checks it is a regular file of bounded size and, through /proc/self/fd, that it is
//   the very file the resolution found (a directory on the way swapped for a symlink meanwhile,
//   as a running container can do, is caught there), and only then reads it through its own fd.
// - Beneath the root, following nothing (openDirBeneath, chmodNoFollow): metadata changes that
//   act on an entry itself. A layer may replace a directory it made earlier with a symlink to
//   anywhere on the host; a chmod, chown or utimes that runs later by path would then land on
//   the host. So directories are reached from the root one component at a time, each opened
//   O_NOFOLLOW|O_DIRECTORY relative to its parent's fd, and changed through the fd; other
//   entries are pinned with O_PATH|O_NOFOLLOW before a chmod. Node has no openat(2):
//   "/proc/self/fd/<dirfd>/<name>" is the same lookup (the magic link is the directory the fd
//   holds; only <name> is resolved, and O_NOFOLLOW applies to it).
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  type Stats,
} from "node:fs";
import { InvalidArgumentError } from "./errors.ts";

/** The kernel's ELOOP limit. */
const MAX_SYMLINKS = 40;
/** Linux's O_PATH (Node does not export it; libuv hands flags to open(2) as they are). */
const O_PATH = 0o10000000;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** open(2) errors that mean "not a real directory (any more)": gone, not a dir, or a symlink. */
const NOT_A_DIRECTORY = new Set(["ENOENT", "ENOTDIR", "ELOOP"]);

/** The host path of `rel` (components) under `root`. Pure. */
export function pathIn(root: string, rel: readonly string[]): string {
  if (rel.length === 0) return root;
  return root === "/" ? `/${rel.join("/")}` : `${root}/${rel.join("/")}`;
}

function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/**
 * One resolution of a path inside a root, step by step. The driver calls next() and looks at the
 * entry `resolved` names (lstat): a symlink it hands to follow(); anything else it judges itself
 * (a missing entry, a file where a directory is needed). Pure.
 */
export class InRootWalk {
  /** The components resolved so far; after next(), the last one is the entry to look at. */
  readonly resolved: string[] = [];
  readonly #queue: string[];
  #links = 0;

  constructor(path: string | readonly string[]) {
    this.#queue = typeof path === "string" ? path.split("/") : [...path];
  }

  /** Steps to the next component ("" and "." skipped, ".." never above the root); false at the end. */
  next(): boolean {
    while (this.#queue.length > 0) {
      const c = this.#queue.shift()!;
      if (c === "" || c === ".") continue;
      if (c === "..") {
        this.resolved.pop();
        continue;
      }
      this.resolved.push(c);
      return true;
    }
    return false;
  }

  /** Whether a component other than "" or "." is still to come (the current entry is a parent). */
  get more(): boolean {
    return this.#queue.some((q) => q !== "" && q !== ".");
  }

  /**
   * The current entry is a symlink to `target`: the walk goes on there, inside the root (an
   * absolute target from the root). False when that is one symlink too many (ELOOP).
   */
  follow(target: string): boolean {
    if (++this.#links > MAX_SYMLINKS) return false;
    this.resolved.pop();
    if (target.startsWith("/")) this.resolved.length = 0;
    this.#queue.unshift(...target.split("/"));
    return true;
  }
}

/**
 * The components of `path` inside `root` with every symlink resolved inside the root, or
 * undefined when a component is missing, a non-final component is not a directory, or there are
 * too many symlinks. `root` must be a real path (no symlinks).
 */
export function resolveInRoot(root: string, path: string): string[] | undefined {
  const walk = new InRootWalk(path);
  while (walk.next()) {
    const abs = pathIn(root, walk.resolved);
    let st: Stats;
    try {
      st = lstatSync(abs);
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = readlinkSync(abs);
      } catch {
        return undefined;
      }
      if (!walk.follow(target)) return undefined;
    } else if (!st.isDirectory() && walk.more) {
      return undefined; // ENOTDIR
    }
  }
  return walk.resolved;
}

export interface ReadInRootOptions {
  /** Files larger than this are not read. */
  maxBytes: number;
}

/**
 * The content of the regular file at `path` inside `root`, or undefined when there is none that
 * can be read safely: missing, not a regular file, larger than `maxBytes`, or not where the
 * resolution found it by the time it was opened.
 */
export function readFileInRoot(root: string, path: string, opts: ReadInRootOptions): Buffer | undefined {
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return undefined;
  }
  const rel = resolveInRoot(realRoot, path);
  if (rel === undefined || rel.length === 0) return undefined;
  const expected = pathIn(realRoot, rel);
  let pathFd: number;
  try {
    pathFd = openSync(expected, O_PATH | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(pathFd);
    if (!st.isFile() || st.size > opts.maxBytes) return undefined;
    if (readlinkSync(fdPath(pathFd)) !== expected) return undefined;
    return readBounded(fdPath(pathFd), st.size);
  } catch {
    return undefined;
  } finally {
    closeSync(pathFd);
  }
}

/** Reads the `size` bytes fstat promised (undefined if there are more: the file grew since). */
function readBounded(fdPath: string, size: number): Buffer | undefined {
  // Reopening an O_PATH fd's magic link opens that same inode; nothing is resolved again.
  const fd = openSync(fdPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const buf = Buffer.alloc(size + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > size) return undefined;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Components of a root-relative path; refuses ".", ".." and empty components rather than fold them. */
export function components(rel: string): string[] {
  if (rel === "") return [];
  const parts = rel.split("/");
  for (const c of parts) {
    if (c === "" || c === "." || c === "..") throw new InvalidArgumentError(`path ${JSON.stringify(rel)} is not clean`);
  }
  return parts;
}

/**
 * An fd (O_RDONLY|O_DIRECTORY) on the directory `rel` names under `root`, reached without
 * following any symlink below `root`; null when a component is missing (unless `makeMode` is
 * given: then it is made with that mode), not a directory, or a symlink. The caller closes the fd.
 */
export function openDirBeneath(root: string, rel: readonly string[], makeMode?: number): number | null {
  let fd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const c of rel) {
      if (c === "" || c === "." || c === ".." || c.includes("/")) {
        throw new InvalidArgumentError(`path component ${JSON.stringify(c)} is not a name`);
      }
      let next: number;
      try {
        next = openSync(fdPath(fd, c), DIR_FLAGS);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? "";
        if (code === "ENOENT" && makeMode !== undefined) {
          mkdirSync(fdPath(fd, c), makeMode);
          next = openSync(fdPath(fd, c), DIR_FLAGS);
        } else if (NOT_A_DIRECTORY.has(code)) {
          closeSync(fd);
          fd = -1;
          return null;
        } else throw err;
      }
      closeSync(fd);
      fd = next;
    }
    const out = fd;
    fd = -1;
    return out;
  } finally {
    if (fd !== -1) closeSync(fd);
  }
}

/** The stat of the directory `rel` under `root` reached without symlinks, or null. */
export function statDirBeneath(root: string, rel: readonly string[]): Stats | null {
  const fd = openDirBeneath(root, rel);
  if (fd === null) return null;
  try {
    return fstatSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** An fd on the directory at `abs` itself (not a symlink's target), or null when it is not one. */
export function openDirNoFollow(abs: string): number | null {
  try {
    return openSync(abs, DIR_FLAGS);
  } catch (err) {
    if (NOT_A_DIRECTORY.has((err as NodeJS.ErrnoException).code ?? "")) return null;
    throw err;
  }
}

/**
 * chmod of the entry at `abs` itself: a symlink there is never followed (it is refused). Devices
 * and fifos cannot be opened for fchmod without side effects, so the inode is pinned with O_PATH
 * and changed through its /proc/self/fd link, as fchmodat(AT_SYMLINK_NOFOLLOW) does in glibc.
 */
export function chmodNoFollow(abs: string, mode: number): void {
  const fd = openSync(abs, O_PATH | constants.O_NOFOLLOW);
  try {
    if (fstatSync(fd).isSymbolicLink()) {
      throw Object.assign(new Error(`ELOOP: chmod of a symlink refused '${abs}'`), {
        code: "ELOOP",
        syscall: "chmod",
        path: abs,
      });
    }
    chmodSync(fdPath(fd), mode);
  } finally {
    closeSync(fd);
  }
}
