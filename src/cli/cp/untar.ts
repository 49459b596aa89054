// A tar stream from the daemon (docker cp out of a container) extracted into a host directory the
// way docker's CLI extracts it (moby's Untar with NoLchown and NoOverwriteDirNonDir: directories
// merged, anything else replaced, modes and times from the archive, owners not), but never
// writing outside the destination whatever the archive says: names that climb out are refused,
// and every parent is reached from the destination one component at a time, opened
// O_NOFOLLOW|O_DIRECTORY through its parent's fd, so a symlink in the archive (or already on the
// disk) is never followed by a later entry ("link -> /etc", then "link/passwd" is refused, where
// moby's Untar would write /etc/passwd). Node has no openat(2): "/proc/self/fd/<fd>/<name>"
// looks up only <name>. Devices and FIFOs are skipped (Node cannot mknod); xattrs are not set.
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  type Stats,
  symlinkSync,
  writeSync,
} from "node:fs";
import { posix } from "node:path";
import { cleanPath, type TarEntry } from "../../common/archive/tar-format.ts";
import { TarReader } from "../../common/archive/tar-reader.ts";
import { openDirBeneath } from "../../common/in-root.ts";
import { CliError } from "../errors.ts";

/** An archive with more members than this is refused (the directories' times are kept until the end). */
export const MAX_ENTRIES = 1_000_000;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * An fd on the directory `parts` names under the destination, reached without following any
 * symlink and made (0755) where missing when `create`; a component that is a symlink or not a
 * directory stops the copy.
 */
function openParent(destFd: number, parts: readonly string[], create: boolean, entry: string): number {
  const fd = openDirBeneath(fdPath(destFd), parts, create ? 0o755 : undefined);
  if (fd === null)
    throw new CliError(
      `cannot extract ${JSON.stringify(entry)}: ${JSON.stringify(parts.join("/"))} is not a directory of the destination (a symlink is not followed)`,
    );
  return fd;
}

export interface UntarOptions {
  /** Renames applied in turn to each name (and hard link target): docker's RebaseArchiveEntries. */
  rename?: (name: string) => string;
}

/** Extracts the archive `source` into the directory `dest` (which must exist). */
export async function untar(source: AsyncIterable<Buffer>, dest: string, opts: UntarOptions = {}): Promise<void> {
  const destFd = openSync(dest, constants.O_RDONLY | constants.O_DIRECTORY);
  const reader = new TarReader(source, () => {});
  const dirs: { parts: string[]; entry: TarEntry }[] = [];
  let count = 0;
  try {
    for (let e = await reader.next(); e !== null; e = await reader.next()) {
      if (++count > MAX_ENTRIES) throw new CliError(`the archive has more than ${MAX_ENTRIES} entries`);
      const entry = { ...e, name: opts.rename ? opts.rename(e.name) : e.name };
      if (entry.type === "hardlink" && opts.rename) entry.linkname = opts.rename(entry.linkname);
      const parts = cleanPath(entry.name);
      if (parts === null) throw new CliError(`${JSON.stringify(entry.name)} is outside of ${JSON.stringify(dest)}`);
      if (parts.length === 0) continue; // the destination itself: merged
      await extractOne(reader, destFd, dest, parts, entry);
      if (entry.type === "dir") dirs.push({ parts, entry });
    }
    // Directory times last: creating their contents changed them.
    for (const { parts, entry } of dirs) {
      const fd = openDirBeneath(fdPath(destFd), parts);
      if (fd === null) continue;
      try {
        futimesSync(fd, entry.atime ?? entry.mtime, entry.mtime);
      } finally {
        closeSync(fd);
      }
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message);
  } finally {
    closeSync(destFd);
  }
}

async function extractOne(
  reader: TarReader,
  destFd: number,
  dest: string,
  parts: string[],
  e: TarEntry,
): Promise<void> {
  const shown = posix.join(dest, ...parts);
  const parentFd = openParent(destFd, parts.slice(0, -1), true, e.name);
  try {
    const leaf = parts.at(-1)!;
    const at = fdPath(parentFd, leaf);
    const existing = lstatOrNull(at);
    if (existing !== null) {
      if (existing.isDirectory() && e.type !== "dir")
        throw new CliError(
          `cannot overwrite directory ${JSON.stringify(shown)} with non-directory ${JSON.stringify(dest)}`,
        );
      if (!existing.isDirectory() && e.type === "dir")
        throw new CliError(
          `cannot overwrite non-directory ${JSON.stringify(shown)} with directory ${JSON.stringify(dest)}`,
        );
      if (!existing.isDirectory()) rmSync(at, { force: true });
    }
    switch (e.type) {
      case "dir": {
        if (existing === null) mkdirSync(at, 0o700);
        const fd = openSync(at, DIR_FLAGS);
        try {
          fchmodSync(fd, e.mode);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case "file": {
        const fd = openSync(
          at,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_NOCTTY,
          0o600,
        );
        try {
          for await (const chunk of reader.data()) {
            let off = 0;
            while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          }
          fchmodSync(fd, e.mode);
          futimesSync(fd, e.atime ?? e.mtime, e.mtime);
        } finally {
          closeSync(fd);
        }
        return;
      }
      case "symlink": {
        // moby's rule: the target, read from the link's directory, must stay inside the destination.
        if (cleanPath(posix.join(parts.slice(0, -1).join("/"), e.linkname)) === null)
          throw new CliError(`invalid symlink ${JSON.stringify(shown)} -> ${JSON.stringify(e.linkname)}`);
        symlinkSync(e.linkname, at);
        lutimesSync(at, e.atime ?? e.mtime, e.mtime);
        return;
      }
      case "hardlink": {
        const target = cleanPath(e.linkname);
        if (target === null || target.length === 0)
          throw new CliError(`invalid hardlink ${JSON.stringify(shown)} -> ${JSON.stringify(e.linkname)}`);
        const targetParent = openParent(destFd, target.slice(0, -1), false, e.linkname);
        try {
          linkSync(fdPath(targetParent, target.at(-1)!), at);
        } finally {
          closeSync(targetParent);
        }
        return;
      }
      default:
        // char, block, fifo: not made on the host by berth.
        return;
    }
  } finally {
    closeSync(parentFd);
  }
}
