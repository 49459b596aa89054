// Metadata changes that act on an entry itself, never on what a symlink points to. A layer may
// replace a directory it made earlier with a symlink to anywhere on the host; a chmod, chown or
// utimes that runs later by path would then land on the host. So directories are reached from a
// root one component at a time, each opened O_NOFOLLOW|O_DIRECTORY relative to its parent's fd,
// and changed through the fd; other entries are pinned with O_PATH|O_NOFOLLOW before a chmod.
// Node has no openat(2): "/proc/self/fd/<dirfd>/<name>" is the same lookup (the magic link is the
// directory the fd holds; only <name> is resolved, and O_NOFOLLOW applies to it).
import { chmodSync, closeSync, constants as fsc, fstatSync, openSync, type Stats } from "node:fs";
import { InvalidArgumentError } from "../../common/errors.ts";

/** Linux O_PATH: an fd naming the inode without opening it for I/O (not in Node's constants). */
const O_PATH = 0o10000000;
const DIR_FLAGS = fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW;

/** open(2) errors that mean "not a real directory (any more)": gone, not a dir, or a symlink. */
const NOT_A_DIRECTORY = new Set(["ENOENT", "ENOTDIR", "ELOOP"]);

function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
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
 * following any symlink below `root`; null when a component is missing, not a directory, or a
 * symlink. The caller closes the fd.
 */
export function openDirBeneath(root: string, rel: readonly string[]): number | null {
  let fd = openSync(root, fsc.O_RDONLY | fsc.O_DIRECTORY);
  try {
    for (const c of rel) {
      if (c === "" || c === "." || c === ".." || c.includes("/")) {
        throw new InvalidArgumentError(`path component ${JSON.stringify(c)} is not a name`);
      }
      let next: number;
      try {
        next = openSync(fdPath(fd, c), DIR_FLAGS);
      } catch (err) {
        if (NOT_A_DIRECTORY.has((err as NodeJS.ErrnoException).code ?? "")) {
          closeSync(fd);
          fd = -1;
          return null;
        }
        throw err;
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
  const fd = openSync(abs, O_PATH | fsc.O_NOFOLLOW);
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
