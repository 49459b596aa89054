// docker diff (GET /containers/{id}/changes): what the container changed, read from its writable
// layer — the overlay snapshot's upperdir — against the image's layers below it, as dockerd's
// overlay walk does: a whiteout (a 0:0 character device) is a deletion, an opaque directory too
// (its lower contents are gone; what it holds now are additions), anything else is a
// modification when a lower layer has that path and an addition when none has. A directory
// that is only in the upper dir because something inside it changed (same mode, size and mtime
// as below) is not listed itself, but every changed path's parent directory is (Kind 0).
//
// berth-runc makes the mount points a container needs (/proc, /dev, /etc/hostname, ...) in the
// writable layer when the image lacks them, where dockerd has them in its "-init" layer: those
// mount points and the directories above them are taken as part of the image, so a fresh
// container shows no changes, as on dockerd.
//
// Every directory is entered through an fd without following symlinks (pinned.ts), in the upper
// dir and in each lower, so a symlink in a layer never sends the walk to the host.
import { type BigIntStats, closeSync, constants, lstatSync, openSync, readdirSync } from "node:fs";
import type { Fsops } from "../../../common/archive/fsops.ts";
import { errnoCode, NotImplementedError } from "../../../common/errors.ts";
import type { Mount } from "../../../common/mount/mount.ts";
import { fdPath, MAX_TREE_DEPTH, pinChildDir, tooDeep } from "./pinned.ts";
import { MAX_DIR_ENTRIES } from "./tar-out.ts";

export const CHANGE_MODIFY = 0;
export const CHANGE_ADD = 1;
export const CHANGE_DELETE = 2;

export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

/** The upper dir and the lower dirs (nearest first) of a snapshot's overlay mount. */
export function overlayLayers(mounts: readonly Mount[]): { upper: string; lowers: string[] } {
  const overlay = mounts.find((m) => m.type === "overlay");
  const option = (name: string) => overlay?.options.find((o) => o.startsWith(`${name}=`))?.slice(name.length + 1);
  const upper = option("upperdir");
  if (overlay === undefined || upper === undefined) {
    throw new NotImplementedError("docker diff needs the container's snapshot on overlayfs (a writable upper layer)");
  }
  const lowers = (option("lowerdir") ?? "").split(":").filter((l) => l !== "");
  return { upper, lowers };
}

/** The mount points and every directory above them ("/proc", "/etc", "/etc/hostname", ...). */
export function initPaths(destinations: readonly string[]): { points: Set<string>; parents: Set<string> } {
  const points = new Set<string>();
  const parents = new Set<string>();
  for (const d of destinations) {
    const parts = d.split("/").filter((c) => c !== "" && c !== ".");
    if (parts.length === 0 || parts.includes("..")) continue;
    points.add(`/${parts.join("/")}`);
    for (let i = 1; i < parts.length; i++) parents.add(`/${parts.slice(0, i).join("/")}`);
  }
  return { points, parents };
}

function lstatOrNull(path: string): BigIntStats | null {
  try {
    return lstatSync(path, { bigint: true });
  } catch (err) {
    if (["ENOENT", "ENOTDIR"].includes(errnoCode(err) ?? "")) return null;
    throw err;
  }
}

/** Looks paths up in the lower layers, each reached from its root without following symlinks. */
class Lowers {
  readonly #roots: number[];

  constructor(dirs: readonly string[]) {
    this.#roots = dirs.map((d) => openSync(d, constants.O_RDONLY | constants.O_DIRECTORY));
  }

  /** The stat of `rel` in the nearest lower that has it, or null. */
  find(rel: readonly string[]): BigIntStats | null {
    for (const root of this.#roots) {
      let dir = root;
      const opened: number[] = [];
      try {
        let ok = true;
        for (const c of rel.slice(0, -1)) {
          const next = pinChildDir(dir, c);
          if (next === null) {
            ok = false;
            break;
          }
          opened.push(next);
          dir = next;
        }
        if (!ok) continue;
        const st = lstatOrNull(fdPath(dir, rel.at(-1)!));
        if (st !== null) return st;
      } finally {
        for (const fd of opened) closeSync(fd);
      }
    }
    return null;
  }

  close(): void {
    for (const fd of this.#roots) closeSync(fd);
  }
}

const OPAQUE_XATTR = "trusted.overlay.opaque";

/** The changes of the container whose snapshot is mounted by `mounts`; `mountPoints` are its spec's mount destinations. */
export async function containerChanges(
  mounts: readonly Mount[],
  mountPoints: readonly string[],
  fsops: Fsops,
): Promise<Change[]> {
  const { upper, lowers: lowerDirs } = overlayLayers(mounts);
  const init = initPaths(mountPoints);
  const lowers = new Lowers(lowerDirs);
  const upperFd = openSync(upper, constants.O_RDONLY | constants.O_DIRECTORY);
  const out: Change[] = [];
  /** Directories listed already (as changed, added or as a changed path's parent). */
  const listed = new Set<string>();
  const record = (path: string, kind: Change["Kind"]) => {
    // A changed path's directory is listed before it (dockerd 20.10's tree comparison does so for
    // every kind of change).
    const parent = path.slice(0, path.lastIndexOf("/")) || "/";
    if (parent !== "/" && !listed.has(parent)) {
      listed.add(parent);
      out.push({ Path: parent, Kind: CHANGE_MODIFY });
    }
    listed.add(path);
    out.push({ Path: path, Kind: kind });
  };
  /** `hidden`: below an opaque directory, where the lower layers' contents do not count. */
  const walk = async (dirFd: number, rel: string[], hidden: boolean): Promise<void> => {
    if (rel.length >= MAX_TREE_DEPTH) throw tooDeep(rel);
    const names = readdirSync(fdPath(dirFd));
    if (names.length > MAX_DIR_ENTRIES) throw new Error(`/${rel.join("/")}: more than ${MAX_DIR_ENTRIES} entries`);
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const childRel = [...rel, name];
      const path = `/${childRel.join("/")}`;
      const at = fdPath(dirFd, name);
      const st = lstatOrNull(at);
      if (st === null) continue;
      if (st.isCharacterDevice() && st.rdev === 0n) {
        if (!hidden) record(path, CHANGE_DELETE);
        continue;
      }
      let opaque = false;
      if (st.isDirectory()) {
        const value = await fsops.lgetxattr(at, OPAQUE_XATTR).catch(() => null);
        opaque = value !== null && value.length === 1 && value[0] === 0x79; // "y"
      }
      const below = hidden ? null : lowers.find(childRel);
      if (opaque && below !== null) {
        record(path, CHANGE_DELETE);
      } else if (below === null) {
        const inInit =
          init.parents.has(path) || (init.points.has(path) && (st.isDirectory() || (st.isFile() && st.size === 0n)));
        if (!inInit) record(path, CHANGE_ADD);
      } else if (!(st.isDirectory() && below.isDirectory() && sameDir(st, below))) {
        // A directory with the same mode, size and mtime is only here for what changed inside it.
        record(path, CHANGE_MODIFY);
      }
      if (st.isDirectory()) {
        const sub = pinChildDir(dirFd, name);
        if (sub === null) continue;
        try {
          await walk(sub, childRel, hidden || opaque);
        } finally {
          closeSync(sub);
        }
      }
    }
  };
  try {
    await walk(upperFd, [], false);
  } finally {
    closeSync(upperFd);
    lowers.close();
  }
  return out;
}

function sameDir(a: BigIntStats, b: BigIntStats): boolean {
  return a.mode === b.mode && a.size === b.size && a.mtimeNs === b.mtimeNs;
}
