// Paths inside a container's root reached through file descriptors, never through a path the
// host resolves. A running container can swap a directory for a symlink at any moment (the
// docker cp race, CVE-2018-15664), so nothing here lstat()s a path and then uses it: each
// component is opened O_PATH|O_NOFOLLOW relative to its parent's fd, a symlink's target is read
// from beside it and resolved again inside the root (common/in-root.ts's InRootWalk: an absolute
// target starts at the root, ".." stops there), and the caller acts on the entry through the fd
// it is given or through "<parent fd>/<name>", where only <name> is looked up.
//
// Node has no openat(2): "/proc/<pid>/fd/<dirfd>/<name>" is the same lookup (the magic link is
// the directory the fd holds). Our own pid rather than "self", so the fsops helper (a child
// process) can be handed these paths too.
import { type BigIntStats, closeSync, constants, fstatSync, mkdirSync, openSync, readlinkSync } from "node:fs";
import { BerthError, errnoCode } from "../../../common/errors.ts";
import { InRootWalk } from "../../../common/in-root.ts";

/** Linux's O_PATH (Node does not export it; libuv hands flags to open(2) as they are). */
export const O_PATH = 0o10000000;
const PIN = O_PATH | constants.O_NOFOLLOW;

/** The path that reaches what `fd` holds (and `name` in it, not followed when the call does not follow). */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/${process.pid}/fd/${fd}` : `/proc/${process.pid}/fd/${fd}/${name}`;
}

/** An entry found inside the root: an O_PATH fd on it (a symlink itself when not followed). */
export interface Pinned {
  fd: number;
  /** Its components below the root, symlinks resolved. */
  rel: string[];
  stat: BigIntStats;
  /**
   * With `keepParent`, for an entry that is not a directory: an O_PATH fd on the directory it was
   * found in (the caller closes it too), so it is reached from there again, never by its path.
   */
  parent?: number;
}

/**
 * The deepest directory a walk enters. Each level holds its directory's fd while its children are
 * read (reaching it again by path would let a running container redirect the walk), so a
 * container that nests directories without end must not run berthd out of fds. PATH_MAX allows
 * ~2048 levels; real trees stay far below 512.
 */
export const MAX_TREE_DEPTH = 512;

/** A walk went deeper than MAX_TREE_DEPTH. */
export function tooDeep(rel: readonly string[]): BerthError {
  return new BerthError("internal", `/${rel.slice(0, 8).join("/")}/...: more than ${MAX_TREE_DEPTH} directories deep`);
}

/** Why a path could not be resolved: dockerd answers both "not found". */
export type Unresolved = "missing" | "not-a-directory";

/** open(2) errors that mean there is nothing usable there (gone, not a dir, a symlink swapped in). */
const MISSING = new Set(["ENOENT", "ENOTDIR", "ELOOP", "EINVAL"]);

/** An O_PATH fd on the directory `rootFd` holds (the root itself as an entry). */
function pinRoot(rootFd: number): Pinned {
  const fd = openSync(fdPath(rootFd), O_PATH | constants.O_DIRECTORY);
  return { fd, rel: [], stat: fstatSync(fd, { bigint: true }) };
}

/**
 * Resolves `path` (components or a slash path) inside the tree open at `rootFd`, as
 * openat2(RESOLVE_IN_ROOT) would; the last component's symlink is followed only when
 * `followLast`. The caller closes the fd.
 */
export function resolvePinned(
  rootFd: number,
  path: string | readonly string[],
  followLast: boolean,
  keepParent = false,
): Pinned | Unresolved {
  const walk = new InRootWalk(path);
  // dirs[i] holds walk.resolved[i] while it is a parent of what comes next.
  const dirs: number[] = [];
  const parent = () => dirs.at(-1) ?? rootFd;
  const trim = (n: number) => {
    while (dirs.length > n) closeSync(dirs.pop()!);
  };
  try {
    while (walk.next()) {
      // A ".." or a symlink's target may have taken the walk back up: drop the fds past it.
      trim(walk.resolved.length - 1);
      // One fd a level: symlinks to long chains of directories must not multiply them without end.
      if (walk.resolved.length > MAX_TREE_DEPTH) throw tooDeep(walk.resolved);
      const name = walk.resolved.at(-1)!;
      let fd: number;
      try {
        fd = openSync(fdPath(parent(), name), PIN);
      } catch (err) {
        if (MISSING.has(errnoCode(err) ?? "")) return "missing";
        throw err;
      }
      let keep = false;
      try {
        const st = fstatSync(fd, { bigint: true });
        if (st.isSymbolicLink() && (walk.more || followLast)) {
          let target: string;
          try {
            target = readlinkSync(fdPath(parent(), name));
          } catch (err) {
            if (MISSING.has(errnoCode(err) ?? "")) return "missing"; // swapped meanwhile
            throw err;
          }
          if (!walk.follow(target)) return "missing"; // ELOOP
          continue;
        }
        if (walk.more) {
          if (!st.isDirectory()) return "not-a-directory";
          dirs.push(fd);
          keep = true;
          continue;
        }
        keep = true;
        const found: Pinned = { fd, rel: [...walk.resolved], stat: st };
        if (keepParent && !st.isDirectory()) {
          found.parent = dirs.length > 0 ? dirs.pop()! : openSync(fdPath(rootFd), O_PATH | constants.O_DIRECTORY);
        }
        return found;
      } finally {
        if (!keep) closeSync(fd);
      }
    }
    // The walk ended on a ".." (or named the root): what it names is an fd we hold, or the root.
    trim(walk.resolved.length);
    if (walk.resolved.length === 0) return pinRoot(rootFd);
    const fd = openSync(fdPath(dirs.at(-1)!), O_PATH | constants.O_DIRECTORY);
    return { fd, rel: [...walk.resolved], stat: fstatSync(fd, { bigint: true }) };
  } finally {
    trim(0);
  }
}

/** An O_PATH fd on the directory `name` in the directory open at `dirFd`, not followed; null when it is not one. */
export function pinChildDir(dirFd: number, name: string): number | null {
  try {
    return openSync(fdPath(dirFd, name), PIN | constants.O_DIRECTORY);
  } catch (err) {
    if (MISSING.has(errnoCode(err) ?? "")) return null;
    throw err;
  }
}

/**
 * Makes the directories of `path` (components) that are missing, each inside the root open at
 * `rootFd` (symlinks on the way resolved inside it), with `mode`. Stops quietly at a component
 * that is there but not a directory: the caller's resolution then says so.
 */
export function mkdirInRoot(rootFd: number, path: readonly string[], mode: number): void {
  for (let i = 1; i <= path.length; i++) {
    const at = resolvePinned(rootFd, path.slice(0, i), true);
    if (typeof at !== "string") {
      closeSync(at.fd);
      continue;
    }
    if (at === "not-a-directory") return;
    const up = resolvePinned(rootFd, path.slice(0, i - 1), true);
    if (typeof up === "string") return;
    try {
      // A dangling symlink there fails EEXIST: it is not followed out of the root to be made.
      mkdirSync(fdPath(up.fd, path[i - 1]!), mode);
    } finally {
      closeSync(up.fd);
    }
  }
}
