// Reading a file inside a directory tree we do not trust (an image's rootfs, a running
// container's root) the way a process chrooted there would see it, from the host, without ever
// leaving the tree, blocking, or opening a device:
// - the path is resolved as openat2(RESOLVE_IN_ROOT) would: symlinks are followed, but an
//   absolute target starts again at the root and ".." stops there;
// - the file is opened with O_PATH|O_NOFOLLOW (no open side effects: a FIFO cannot block, a
//   device is not opened), checked to be a regular file of bounded size, and checked, through
//   /proc/self/fd, to be the very file the resolution found: a directory on the way that was
//   swapped for a symlink in the meantime (a running container can do that) is caught there;
// - only then is it reopened for reading, through its own fd.
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, realpathSync } from "node:fs";

/** The kernel's ELOOP limit. */
const MAX_SYMLINKS = 40;
/** Linux's O_PATH (Node does not export it; libuv hands flags to open(2) as they are). */
const O_PATH = 0o10000000;

function join(root: string, rel: readonly string[]): string {
  if (rel.length === 0) return root;
  return root === "/" ? `/${rel.join("/")}` : `${root}/${rel.join("/")}`;
}

/**
 * The components of `path` inside `root` with every symlink resolved inside the root, or
 * undefined when a component is missing, a non-final component is not a directory, or there are
 * too many symlinks. `root` must be a real path (no symlinks).
 */
export function resolveInRoot(root: string, path: string): string[] | undefined {
  const resolved: string[] = [];
  const queue = path.split("/");
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      resolved.pop();
      continue;
    }
    resolved.push(c);
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(join(root, resolved));
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return undefined;
      let target: string;
      try {
        target = readlinkSync(join(root, resolved));
      } catch {
        return undefined;
      }
      resolved.pop();
      if (target.startsWith("/")) resolved.length = 0;
      queue.unshift(...target.split("/"));
    } else if (!st.isDirectory() && queue.some((q) => q !== "" && q !== ".")) {
      return undefined; // ENOTDIR
    }
  }
  return resolved;
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
  const expected = join(realRoot, rel);
  let pathFd: number;
  try {
    pathFd = openSync(expected, O_PATH | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(pathFd);
    if (!st.isFile() || st.size > opts.maxBytes) return undefined;
    if (readlinkSync(`/proc/self/fd/${pathFd}`) !== expected) return undefined;
    return readBounded(`/proc/self/fd/${pathFd}`, st.size);
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
