// Where a container's cgroup lives, following runc's cgroupfs driver:
//  - an absolute linux.cgroupsPath is taken relative to each hierarchy's mount point;
//  - a relative one (and the default, the container id) is relative to the runtime's own cgroup
//    in each v1 hierarchy; on pure v2 it is relative to the *parent* of the runtime's own cgroup,
//    because the runtime's own cgroup already holds processes and so cannot delegate controllers.
//  - paths are cleaned so ".." can never climb above the starting point.

import { readFileSync } from "node:fs";
import { posix } from "node:path";
import { InvalidArgumentError, NotImplementedError } from "../../common/errors.ts";
import type { CgroupLayout, CgroupMount } from "./mountinfo.ts";

/** Go's filepath.Clean, made safe: relative paths are cleaned as if rooted, so "../x" -> "x". */
export function cleanPath(p: string): string {
  if (p === "") return "";
  const abs = posix.resolve("/", p);
  if (p.startsWith("/")) return abs;
  const rel = abs.slice(1);
  return rel === "" ? "." : rel;
}

/** "slice:prefix:name" is the systemd driver's syntax; berth only has the cgroupfs driver. */
export function isSystemdPath(p: string): boolean {
  return /^[^/:]*:[^/:]*:[^/:]*$/.test(p);
}

/** Parses /proc/<pid>/cgroup into controller -> path; the cgroup2 entry has key "". */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === "") out.set("", path);
    else for (const c of controllers.split(",")) out.set(c, path);
  }
  return out;
}

export function readOwnCgroup(procCgroupPath = "/proc/self/cgroup"): Map<string, string> {
  return parseProcCgroup(readFileSync(procCgroupPath, "utf8"));
}

// The runtime's own cgroup as a path below the mount point (a container may see only a sub-tree).
function ownRelative(mount: CgroupMount, own: string | undefined): string {
  if (own === undefined) return "";
  const rel = posix.relative(mount.root, own);
  return rel.startsWith("..") ? "" : rel;
}

export interface ResolveOptions {
  layout: CgroupLayout;
  /** The runtime's own cgroups (parseProcCgroup of /proc/self/cgroup). */
  ownCgroup: Map<string, string>;
  cgroupsPath: string | undefined;
  containerId: string;
  /** Set by `--systemd-cgroup`. */
  systemd?: boolean;
}

/** The inner path (below a hierarchy's starting point), cleaned; absolute or relative. */
export function innerPath(cgroupsPath: string | undefined, containerId: string, systemd = false): string {
  if (systemd || (cgroupsPath !== undefined && isSystemdPath(cgroupsPath))) {
    throw new NotImplementedError("systemd cgroup driver is not supported");
  }
  const inner = cleanPath(cgroupsPath ?? "") || cleanPath(containerId);
  if (inner === "" || inner === "." || inner === "/") {
    throw new InvalidArgumentError(
      `cgroupsPath ${JSON.stringify(cgroupsPath ?? "")}: resolves to a hierarchy root; a container needs its own cgroup`,
    );
  }
  return inner;
}

/** Controller -> absolute directory. v1 keys are controller names; cgroup2 (v2 or hybrid) is "". */
export function resolveCgroupDirs(opts: ResolveOptions): Record<string, string> {
  const inner = innerPath(opts.cgroupsPath, opts.containerId, opts.systemd);
  const absolute = inner.startsWith("/");
  const { layout, ownCgroup } = opts;
  const out: Record<string, string> = {};
  if (layout.mode === "v2") {
    const mount = layout.unified!;
    if (absolute) out[""] = posix.join(mount.mountpoint, inner);
    else out[""] = posix.join(mount.mountpoint, posix.dirname(ownRelative(mount, ownCgroup.get("")) || "."), inner);
    return out;
  }
  for (const [controller, mount] of layout.v1) {
    out[controller] = absolute
      ? posix.join(mount.mountpoint, inner)
      : posix.join(mount.mountpoint, ownRelative(mount, ownCgroup.get(controller)), inner);
  }
  if (layout.unified !== undefined) {
    const mount = layout.unified;
    out[""] = absolute
      ? posix.join(mount.mountpoint, inner)
      : posix.join(mount.mountpoint, ownRelative(mount, ownCgroup.get("")), inner);
  }
  return out;
}
