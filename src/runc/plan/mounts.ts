// Mounts: the spec's mounts turned into ops that resolve every target inside the rootfs.
// Policy only; native/nsexec/ opens targets with openat2(RESOLVE_IN_ROOT) (resolve.c) so a symlink
// in the image cannot send a mount outside the container.
import { InvalidSpecError } from "../../common/errors.ts";
import {
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  parseMountOptions,
} from "../config/mount-options.ts";
import type { Mount, Spec } from "../config/types.ts";
import { MountTargetKind, type PlanOp } from "./ops.ts";

/** A mounted cgroup hierarchy, as the container should see it. */
export interface CgroupView {
  /** Name under the cgroup mount: "memory", "cpu", "systemd" (v1), or "" for cgroup2. */
  name: string;
  /** Mount data for a fresh cgroup mount inside a cgroup namespace: "memory", "name=systemd". */
  subsystem: string;
  /** The container's own cgroup directory on the host (bind source without a cgroup namespace). */
  hostDir: string;
}

export interface MountContext {
  rootfs: string;
  /** Whether the source of a bind mount is a directory (decides mkdir vs create-file). */
  isDirectory: (hostPath: string) => boolean;
  cgroups: CgroupView[];
  cgroupNamespace: boolean;
}

function mountOps(m: Mount, index: number, ctx: MountContext): PlanOp[] {
  const opts = parseMountOptions(m.options);
  const type = m.type ?? (opts.bind ? "bind" : "");
  const dest = m.destination;
  if (!dest.startsWith("/")) throw new InvalidSpecError(`mounts[${index}].destination`, "must be an absolute path");
  const ops: PlanOp[] = [];
  const root = ctx.rootfs;

  if (type === "cgroup") return cgroupMountOps(m, opts.flags, ctx);

  if (opts.bind) {
    const source = m.source ?? "";
    if (!source) throw new InvalidSpecError(`mounts[${index}].source`, "a bind mount needs a source");
    const kind = ctx.isDirectory(source) ? MountTargetKind.DIR : MountTargetKind.FILE;
    ops.push({ op: "MOUNT", args: [root, source, dest, "", opts.flags | MS_BIND, "", kind] });
  } else {
    const flags = opts.flags;
    // tmpfs is made read-only after it is mounted so that the runtime could populate it first.
    const first = type === "tmpfs" ? flags & ~MS_RDONLY : flags;
    // As runc: procfs and sysfs only on a plain directory (a symlink there is refused, not followed).
    const kind = type === "proc" || type === "sysfs" ? MountTargetKind.ORDINARY_DIR : MountTargetKind.DIR;
    ops.push({ op: "MOUNT", args: [root, m.source ?? type, dest, type, first, opts.data, kind] });
    if (type === "tmpfs" && flags & MS_RDONLY) {
      // Read-only for this mount, not the superblock (what `mount -o remount,bind,ro` does).
      ops.push({ op: "REMOUNT", args: [root, dest, flags | MS_RDONLY | MS_BIND, 1] });
    }
  }
  // Resolved inside the rootfs like the mount itself: a symlink at dest must not name a host mount.
  for (const p of opts.propagation) ops.push({ op: "SET_PROPAGATION", args: [root, dest, p] });
  return ops;
}

/**
 * A `cgroup` mount shows the container its own cgroups: a tmpfs holding one directory per
 * hierarchy (v1), or the cgroup2 tree. Inside a cgroup namespace the hierarchies are mounted
 * fresh (the kernel roots them at the container's cgroup); otherwise the host directories of the
 * container's cgroups are bind-mounted.
 */
function cgroupMountOps(m: Mount, flags: number, ctx: MountContext): PlanOp[] {
  const root = ctx.rootfs;
  const dest = m.destination;
  const ro = (flags & MS_RDONLY) !== 0;
  const base = flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  const ops: PlanOp[] = [];
  const v2 = ctx.cgroups.length === 1 && ctx.cgroups[0]!.name === "";
  if (v2) {
    const cg = ctx.cgroups[0]!;
    if (ctx.cgroupNamespace)
      ops.push({ op: "MOUNT", args: [root, "cgroup2", dest, "cgroup2", flags, "", MountTargetKind.DIR] });
    else
      ops.push({ op: "MOUNT", args: [root, cg.hostDir, dest, "", MS_BIND | MS_REC | flags, "", MountTargetKind.DIR] });
    return ops;
  }
  ops.push({ op: "MOUNT", args: [root, "tmpfs", dest, "tmpfs", base, "mode=755", MountTargetKind.DIR] });
  for (const cg of ctx.cgroups) {
    if (cg.name === "") continue;
    const target = `${dest}/${cg.name}`;
    if (ctx.cgroupNamespace) {
      ops.push({
        op: "MOUNT",
        args: [root, "cgroup", target, "cgroup", base | (ro ? MS_RDONLY : 0), cg.subsystem, 1, 0],
      });
    } else {
      ops.push({
        op: "MOUNT",
        args: [root, cg.hostDir, target, "", MS_BIND | MS_REC | base | (ro ? MS_RDONLY : 0), "", 1, 0],
      });
    }
  }
  // Nothing more may be created beside the hierarchies (the mount itself stays rw, as runc's).
  ops.push({ op: "CHMOD", args: [root, dest, 0o555] });
  return ops;
}

export function specMountOps(spec: Spec, ctx: MountContext): PlanOp[] {
  return (spec.mounts ?? []).flatMap((m, i) => mountOps(m, i, ctx));
}

/** After pivot_root: readonly paths become read-only bind mounts of themselves. */
export function readonlyPathOps(spec: Spec): PlanOp[] {
  return (spec.linux?.readonlyPaths ?? []).map((p) => ({
    op: "REMOUNT",
    args: ["/", p, MS_BIND | MS_REC | MS_RDONLY, 1],
  }));
}

export function maskedPathOps(spec: Spec): PlanOp[] {
  return (spec.linux?.maskedPaths ?? []).map((p) => ({ op: "MASK_PATH", args: [p] }));
}
