// /dev inside the container: the devices every container gets, the spec's own, and the links.
import { MS_BIND } from "../config/mount-options.ts";
import type { Device, DeviceCgroupRule, Spec } from "../config/types.ts";
import { MountTargetKind, type PlanOp } from "./ops.ts";

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;

/** The devices the runtime-spec says a Linux container always has. */
export const DEFAULT_DEVICES: readonly Device[] = [
  { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
];

/**
 * Rules appended after the spec's own, as runc does: mknod of any node (access still needs an
 * allow rule), the default devices, ptys and /dev/net/tun.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceCgroupRule[] = [
  { allow: true, type: "c", access: "m" },
  { allow: true, type: "b", access: "m" },
  ...[
    [1, 3],
    [1, 8],
    [1, 7],
    [5, 0],
    [1, 5],
    [1, 9],
  ].map(([major, minor]) => ({ allow: true, type: "c" as const, major, minor, access: "rwm" })),
  { allow: true, type: "c", major: 136, access: "rwm" },
  { allow: true, type: "c", major: 5, minor: 2, access: "rwm" },
  { allow: true, type: "c", major: 10, minor: 200, access: "rwm" },
];

/**
 * The device cgroup policy of a container: the spec's rules, then the defaults. Devices listed
 * in linux.devices are created but not allowed unless a rule allows them (as runc).
 */
export function deviceCgroupRules(spec: Spec): DeviceCgroupRule[] {
  return [...(spec.linux?.resources?.devices ?? []), ...DEFAULT_DEVICE_RULES];
}

/** Whether the runtime populates /dev (not when the spec bind-mounts a /dev of its own). */
export function managesDev(spec: Spec): boolean {
  return !(spec.mounts ?? []).some(
    (m) => m.destination === "/dev" && (m.options ?? []).some((o) => o === "bind" || o === "rbind"),
  );
}

export function devicesFor(spec: Spec): Device[] {
  const own = spec.linux?.devices ?? [];
  const byPath = new Map<string, Device>();
  for (const d of [...DEFAULT_DEVICES, ...own]) byPath.set(d.path, d);
  return [...byPath.values()];
}

function typeBits(d: Device): number {
  return d.type === "b" ? S_IFBLK : d.type === "p" ? S_IFIFO : S_IFCHR;
}

/**
 * mknod each device, or, inside a user namespace where mknod is refused, bind-mount the host's
 * node onto an empty file (what a user-namespaced root can do).
 */
export function deviceOps(spec: Spec, rootfs: string, inUserNs: boolean): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const d of devicesFor(spec)) {
    if (inUserNs) {
      ops.push({ op: "MOUNT", args: [rootfs, d.path, d.path, "", MS_BIND, "", MountTargetKind.FILE] });
    } else {
      const mode = typeBits(d) | (d.fileMode ?? 0o666);
      ops.push({ op: "MKNOD", args: [rootfs, d.path, mode, d.major ?? 0, d.minor ?? 0, d.uid ?? 0, d.gid ?? 0] });
    }
  }
  const links: [string, string][] = [
    ["/proc/self/fd", "/dev/fd"],
    ["/proc/self/fd/0", "/dev/stdin"],
    ["/proc/self/fd/1", "/dev/stdout"],
    ["/proc/self/fd/2", "/dev/stderr"],
    ["pts/ptmx", "/dev/ptmx"],
  ];
  for (const [target, link] of links) ops.push({ op: "SYMLINK", args: [rootfs, target, link] });
  return ops;
}
