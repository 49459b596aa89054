// Where the cgroup hierarchies are mounted, read from /proc/self/mountinfo. Nothing is assumed
// about /sys/fs/cgroup: hosts differ (pure v1, v1 + cgroup2 "hybrid", pure v2) and containers
// may mount a sub-tree (the mount's root field) rather than the whole hierarchy.

import { readFileSync } from "node:fs";

export interface MountinfoEntry {
  root: string;
  mountpoint: string;
  /** The optional fields: "shared:N", "master:N", "propagate_from:N", "unbindable". */
  optional: string[];
  fstype: string;
  superOptions: string[];
}

/** One mounted hierarchy: `root` is the hierarchy path that appears at `mountpoint`. */
export interface CgroupMount {
  mountpoint: string;
  root: string;
}

export type CgroupMode = "v1" | "hybrid" | "v2";

export interface CgroupLayout {
  mode: CgroupMode;
  /** v1 hierarchies by controller name ("cpu", "memory", ... and "name=systemd"). */
  v1: Map<string, CgroupMount>;
  unified?: CgroupMount;
}

/** v1 controllers berth knows how to join; other named hierarchies are left alone. */
export const V1_CONTROLLERS = [
  "cpuset",
  "cpu",
  "cpuacct",
  "memory",
  "devices",
  "freezer",
  "blkio",
  "pids",
  "hugetlb",
  "net_cls",
  "net_prio",
  "perf_event",
  "rdma",
  "misc",
  "name=systemd",
] as const;

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountinfoEntry[] {
  const out: MountinfoEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const fields = line.split(" ");
    const sep = fields.indexOf("-", 6);
    if (sep < 0 || fields.length < sep + 3) continue;
    out.push({
      root: unescapeOctal(fields[3] ?? ""),
      mountpoint: unescapeOctal(fields[4] ?? ""),
      optional: fields.slice(6, sep),
      fstype: fields[sep + 1] ?? "",
      superOptions: (fields[sep + 3] ?? "").split(","),
    });
  }
  return out;
}

// When a hierarchy is mounted twice (bind mounts in containers), the one under /sys/fs/cgroup wins.
function better(candidate: CgroupMount, current: CgroupMount | undefined, preferred: string[]): boolean {
  if (current === undefined) return true;
  const rank = (m: CgroupMount) => {
    const i = preferred.indexOf(m.mountpoint);
    if (i >= 0) return i;
    return m.mountpoint.startsWith("/sys/fs/cgroup/") ? preferred.length : preferred.length + 1;
  };
  return rank(candidate) < rank(current);
}

export function layoutFromMountinfo(text: string): CgroupLayout {
  const v1 = new Map<string, CgroupMount>();
  let unified: CgroupMount | undefined;
  const known = new Set<string>(V1_CONTROLLERS);
  for (const m of parseMountinfo(text)) {
    const mount = { mountpoint: m.mountpoint, root: m.root };
    if (m.fstype === "cgroup2") {
      if (better(mount, unified, ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"])) unified = mount;
    } else if (m.fstype === "cgroup") {
      for (const opt of m.superOptions) {
        if (known.has(opt) && better(mount, v1.get(opt), [])) v1.set(opt, mount);
      }
    }
  }
  const hasV1Controllers = [...v1.keys()].some((k) => !k.startsWith("name="));
  const mode: CgroupMode = !hasV1Controllers && unified !== undefined ? "v2" : unified !== undefined ? "hybrid" : "v1";
  const layout: CgroupLayout = { mode, v1: mode === "v2" ? new Map() : v1 };
  if (unified !== undefined) layout.unified = unified;
  return layout;
}

export function readLayout(mountinfoPath = "/proc/self/mountinfo"): CgroupLayout {
  return layoutFromMountinfo(readFileSync(mountinfoPath, "utf8"));
}
