// Where docker cp and docker export reach a container's files, as an fd on its root:
// - running (or paused): /proc/<pid>/root, the container's own view — its overlay rootfs with its
//   binds, volumes and tmpfs mounts on it — so what is read is what the container sees and what
//   is written goes through the container's own overlay mount. A second overlay mount of the same
//   upperdir while the container's is up is refused by the kernel with index=on and "undefined
//   behaviour" without it, so it is never made. The pid is checked again after the open (the
//   container may have exited and the pid been reused meanwhile).
// - created or stopped: the snapshot's mounts on a private temp dir (withTempMount), with the container's bind mounts (HostConfig.Binds and Mounts of type bind) bound
//   on it where the container would have them, read-only ones read-only, as dockerd mounts a
//   stopped container's volumes for docker cp. A bind whose mount point the image lacks gets one
//   (a directory, for a directory source) as the runtime would at start. Tmpfs mounts have no
//   content while the container is down: the rootfs beneath is what is read, as on dockerd.
// The caller runs inside the container's operation queue, so a container is not started while
// its snapshot is mounted here.
import { closeSync, constants, openSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { BerthError, errorMessage, FailedPreconditionError } from "../../../common/errors.ts";
import { withTempMount } from "../../../common/mount/mounter.ts";
import { shimSys } from "../../../common/sys.ts";
import type { ContainerFilesystem } from "../manager.ts";
import { userMounts } from "../spec/mounts.ts";
import { fdPath, mkdirInRoot, O_PATH, resolvePinned } from "./pinned.ts";

export interface BindPoint {
  /** The mount's destination in the container, cleaned ("/data"). */
  destination: string;
  readonly: boolean;
}

export interface ContainerRoot {
  /** An fd (O_RDONLY|O_DIRECTORY) on the container's root. */
  rootFd: number;
  running: boolean;
  /** The container's bind mounts (dockerd's "volumes" for the read-only checks of docker cp). */
  binds: BindPoint[];
  /** Mount points below the root that are not the rootfs (a running container's; docker export skips their contents). */
  mountPoints: Set<string>;
}

/** The bind mounts a container's HostConfig asks for, shallowest first. */
function bindsOf(fs: ContainerFilesystem): { destination: string; source: string; readonly: boolean }[] {
  return userMounts(fs.record.HostConfig)
    .mounts.filter((m) => m.type === "bind")
    .map((m) => ({ destination: m.destination, source: m.source ?? "", readonly: (m.options ?? []).includes("ro") }))
    .sort((a, b) => a.destination.split("/").length - b.destination.split("/").length);
}

/** Mount points below the root in a /proc/<pid>/mountinfo (paths as that process sees them). */
export function mountPointsIn(mountinfo: string): Set<string> {
  const out = new Set<string>();
  for (const line of mountinfo.split("\n")) {
    const point = line.split(" ")[4];
    if (point === undefined || point === "/") continue;
    out.add(point.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
  }
  return out;
}

/**
 * Runs `fn` with the container's root open; `withBinds`: a stopped container's bind mounts bound
 * on it (docker cp; docker export reads the rootfs alone, as dockerd).
 */
export async function withContainerRoot<T>(
  fs: ContainerFilesystem,
  withBinds: boolean,
  fn: (root: ContainerRoot) => Promise<T>,
): Promise<T> {
  const binds = bindsOf(fs);
  const points = binds.map((b) => ({ destination: b.destination, readonly: b.readonly }));
  const state = fs.record.State;
  if (state.Running && state.Pid > 0) {
    const pid = state.Pid;
    const rootFd = openSync(`/proc/${pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      const mountinfo = await readFile(`/proc/${pid}/mountinfo`, "utf8");
      const now = fs.current().State;
      if (!now.Running || now.Pid !== pid) {
        throw new FailedPreconditionError(`container ${fs.record.ID} stopped while its files were being reached`);
      }
      return await fn({ rootFd, running: true, binds: points, mountPoints: mountPointsIn(mountinfo) });
    } finally {
      closeSync(rootFd);
    }
  }
  // Mounted writable even for reads: a bind's missing mount point is made, as the runtime would.
  return withTempMount(fs.rootfs, false, async (root) => {
    if (withBinds) for (const b of binds) bindInto(root, b);
    const rootFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      return await fn({ rootFd, running: false, binds: points, mountPoints: new Set() });
    } finally {
      closeSync(rootFd);
    }
  });
}

/** mount(2) flags. */
const MS_RDONLY = 1;
const MS_REMOUNT = 32;
const MS_BIND = 4096;
const MS_REC = 16384;

/**
 * Binds `b.source` on its destination inside `root` (a private temp mount of a stopped
 * container's rootfs). The destination is resolved inside the root and pinned by an fd, and the
 * bind goes on "/proc/self/fd/<fd>" with mount(2) itself: nothing resolves the path again, so a
 * directory swapped for a symlink meanwhile (a bind source another container shares) cannot send
 * the bind anywhere else. The source is the administrator's, taken as given, as dockerd does.
 */
function bindInto(root: string, b: { destination: string; source: string; readonly: boolean }): void {
  let sourceIsDir: boolean;
  try {
    sourceIsDir = statSync(b.source).isDirectory();
  } catch {
    return; // a source gone since create: the container could not start either; nothing to show
  }
  const sys = shimSys();
  const parts = b.destination.split("/").filter((c) => c !== "");
  if (parts.length === 0) return; // never on the root itself (dockerd refuses such a bind at create)
  const rootFd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    let found = resolvePinned(rootFd, parts, true);
    if (found === "missing" && sourceIsDir) {
      mkdirInRoot(rootFd, parts, 0o755);
      found = resolvePinned(rootFd, parts, true);
    }
    if (typeof found === "string") return;
    try {
      if (found.stat.isDirectory() !== sourceIsDir) return;
      sys.mount(b.source, `/proc/self/fd/${found.fd}`, "", MS_BIND | MS_REC, "");
    } finally {
      closeSync(found.fd);
    }
    if (!b.readonly) return;
    // The new mount's root: looked up again from its pinned parent (a lookup crosses into it).
    const parent = resolvePinned(rootFd, found.rel.slice(0, -1), true);
    if (typeof parent === "string") throw new BerthError("internal", `${b.destination}: its parent went away`);
    try {
      const top = openSync(fdPath(parent.fd, found.rel.at(-1)!), O_PATH | constants.O_NOFOLLOW);
      try {
        sys.mount("", `/proc/self/fd/${top}`, "", MS_REMOUNT | MS_BIND | MS_RDONLY, "");
      } finally {
        closeSync(top);
      }
    } finally {
      closeSync(parent.fd);
    }
  } catch (err) {
    if (err instanceof BerthError) throw err;
    throw new BerthError("internal", `binding ${b.source} on ${b.destination}: ${errorMessage(err)}`, { cause: err });
  } finally {
    closeSync(rootFd);
  }
}
