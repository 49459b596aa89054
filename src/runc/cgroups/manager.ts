// Entry point: pick the manager for this host's layout and resolve where the container's cgroup
// lives. Paths are resolved once (at create) and should be saved in the container state, because
// a relative cgroupsPath depends on the cgroup of whichever process resolves it.

import { readFileSync } from "node:fs";
import { FailedPreconditionError } from "../../common/errors.ts";
import type { CgroupManager } from "./manager-types.ts";
import type { CgroupLayout } from "./mountinfo.ts";
import { layoutFromMountinfo } from "./mountinfo.ts";
import { parseProcCgroup, resolveCgroupDirs } from "./paths.ts";
import { V1Manager } from "./v1/manager.ts";
import { V2Manager } from "./v2/manager.ts";

export type { CgroupManager } from "./manager-types.ts";

export interface CgroupManagerOptions {
  /** `--systemd-cgroup`: not supported, gives NotImplementedError. */
  systemd?: boolean;
  /** Overrides for tests: the text of /proc/self/mountinfo and /proc/self/cgroup. */
  mountinfo?: string;
  procSelfCgroup?: string;
}

function layoutOf(opts: CgroupManagerOptions): CgroupLayout {
  const layout = layoutFromMountinfo(opts.mountinfo ?? readFileSync("/proc/self/mountinfo", "utf8"));
  if (layout.v1.size === 0 && layout.unified === undefined)
    throw new FailedPreconditionError("no cgroup filesystem is mounted");
  return layout;
}

function managerFor(paths: Record<string, string>, layout: CgroupLayout): CgroupManager {
  if (layout.mode === "v2") return new V2Manager(paths[""]!, layout.unified!.mountpoint);
  return new V1Manager(paths, layout);
}

/** The manager for a container: linux.cgroupsPath (may be undefined) and the container id. */
export function cgroupManagerFor(
  cgroupsPath: string | undefined,
  containerId: string,
  opts: CgroupManagerOptions = {},
): CgroupManager {
  const layout = layoutOf(opts);
  const ownCgroup = parseProcCgroup(opts.procSelfCgroup ?? readFileSync("/proc/self/cgroup", "utf8"));
  const paths = resolveCgroupDirs({ layout, ownCgroup, cgroupsPath, containerId, systemd: opts.systemd ?? false });
  return managerFor(paths, layout);
}

/** Rebuilds a manager from paths saved in a container's state. */
export function cgroupManagerFromPaths(paths: Record<string, string>, opts: CgroupManagerOptions = {}): CgroupManager {
  return managerFor(paths, layoutOf(opts));
}
