// A container's cgroup counters, read by berth-runc's cgroup code (the v1 controllers' and v2's
// stats, as `berth-runc events --stats` reports them) at the path berthd put in its spec
// (linux.cgroupsPath, "/<namespace>/<id>"). Read here rather than through containerd's task
// Metrics: berth-shim reports cgroup v1 metrics only, containerd-shim-runc-v2 v1 or v2 by host,
// each needing its own decoding, while the files are the same whichever shim runs the container,
// on berth-containerd or Debian's containerd.
import { errorMessage } from "../../common/errors.ts";
import { type CgroupManager, cgroupManagerFor } from "../../runc/cgroups/manager.ts";
import type { CgroupStats } from "../../runc/cgroups/stats.ts";

/**
 * A spec's cgroupsPath when it is a plain absolute path (what berthd writes); anything else (a
 * relative path, which would resolve against berthd's own cgroup, "..", a systemd
 * "slice:prefix:name", a NUL, an overlong one) is undefined. Pure.
 */
export function plainCgroupsPath(cgroupsPath: unknown): string | undefined {
  if (typeof cgroupsPath !== "string" || !cgroupsPath.startsWith("/") || cgroupsPath.length > 4096) return undefined;
  const parts = cgroupsPath.split("/").filter(Boolean);
  if (parts.length === 0 || parts.some((p) => p === "." || p === ".." || p.includes(":") || p.includes("\0"))) {
    return undefined;
  }
  return `/${parts.join("/")}`;
}

/** The reader of one container's cgroup: undefined when its path is not one berthd would write. */
export function cgroupReader(
  cgroupsPath: unknown,
  id: string,
  warn: (why: string) => void,
): (() => CgroupStats | undefined) | undefined {
  const path = plainCgroupsPath(cgroupsPath);
  if (path === undefined) return undefined;
  let manager: CgroupManager;
  try {
    manager = cgroupManagerFor(path, id);
  } catch (err) {
    warn(errorMessage(err));
    return undefined;
  }
  return () => {
    try {
      return manager.stats();
    } catch (err) {
      // A container that exits meanwhile, or a file that cannot be read: no reading this time.
      warn(errorMessage(err));
      return undefined;
    }
  };
}
