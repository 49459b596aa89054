// The container's root: how "/" comes to be the rootfs, and with which propagation.
//
// In a mount namespace of its own (runc's order): the tree gets linux.rootfsPropagation (rslave by
// default), the mount holding the rootfs is made private if it is still shared (pivot_root refuses
// a shared parent, and the bind below would propagate out), the rootfs is bound onto itself (so
// "/" inherits the parent's propagation: a slave stays a slave of the same master), and after
// pivot_root "/" gets the configured propagation when a bind cannot have inherited it (shared,
// unbindable), as runc does from 1.4 on. Without one, the runtime's mount namespace is the
// container's: nothing is mounted or changed there, the init only chroots into the rootfs.
import { InvalidSpecError } from "../../common/errors.ts";
import { MS_BIND, MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from "../config/mount-options.ts";
import type { Spec } from "../config/types.ts";
import { hasNamespace } from "./namespaces.ts";
import { MountTargetKind, type PlanOp } from "./ops.ts";

/** linux.rootfsPropagation's values as mount(2) flags (runc's mapping). */
export const ROOTFS_PROPAGATION: Readonly<Record<string, number>> = {
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

/** The propagation flags each step applies; pure, so the policy is testable without a kernel. */
export interface RootPropagation {
  /** On "/" of the new mount namespace, before anything is mounted. */
  tree: number;
  /** On "/" after pivot_root, when the bind of the rootfs cannot have brought it along. */
  root?: number;
}

/**
 * The mount that holds the rootfs, as the runtime's mount namespace shows it: a new mount
 * namespace starts as a copy, where a shared mount's copy is shared too (a peer of it).
 */
export interface RootfsParentMount {
  path: string;
  /** Its mountinfo optional fields hold "shared:N". */
  shared: boolean;
}

export function rootPropagation(spec: Spec): RootPropagation {
  const value = spec.linux?.rootfsPropagation;
  let tree = MS_SLAVE | MS_REC;
  if (value !== undefined) {
    const flag = ROOTFS_PROPAGATION[value];
    if (flag === undefined)
      throw new InvalidSpecError("linux.rootfsPropagation", `unknown propagation ${JSON.stringify(value)}`);
    tree = flag;
  }
  return { tree, root: tree & (MS_SHARED | MS_UNBINDABLE) ? tree : undefined };
}

/**
 * What the rootfs's parent mount gets after the tree's flag: MS_PRIVATE when it would still be
 * shared, else nothing (runc 1.1.5 checks for "shared:" the same way). The tree's flag reached the
 * parent when it is "/" or the flag is recursive; a non-recursive slave or private leaves a parent
 * below "/" as the runtime's namespace has it. With a shared or unbindable tree (runc 1.4's
 * behaviour, applied to "/" again after pivot_root) the parent is always made private, since a
 * bind from an unbindable mount fails.
 */
export function parentPropagation(tree: number, parent: RootfsParentMount): number | undefined {
  if (tree & (MS_SHARED | MS_UNBINDABLE)) return MS_PRIVATE;
  const reached = parent.path === "/" || (tree & MS_REC) !== 0;
  return !reached && parent.shared ? MS_PRIVATE : undefined;
}

/** Whether the container has a mount namespace (new or joined); without one it has the runtime's. */
export function ownsMountNamespace(spec: Spec): boolean {
  return hasNamespace(spec, "mount");
}

/**
 * In the container's mount namespace, before its mounts: the tree's propagation, the parent
 * mount's, and the rootfs bound onto itself (pivot_root needs a mount point).
 */
export function prepareRootOps(
  spec: Spec,
  rootfs: string,
  rootfsParentMount: RootfsParentMount,
  noPivot: boolean,
): PlanOp[] {
  if (!ownsMountNamespace(spec)) return [];
  const p = rootPropagation(spec);
  // Refused as runc refuses it, in its words.
  if (noPivot && p.tree & MS_PRIVATE)
    throw new InvalidSpecError(
      "linux.rootfsPropagation",
      "rootfsPropagation of [r]private is not safe without pivot_root",
    );
  const parent = parentPropagation(p.tree, rootfsParentMount);
  return [
    { op: "SET_PROPAGATION", args: ["", "/", p.tree] },
    ...(parent === undefined
      ? []
      : [{ op: "SET_PROPAGATION", args: ["", rootfsParentMount.path, parent] } satisfies PlanOp]),
    { op: "MOUNT", args: ["", rootfs, rootfs, "", MS_BIND | MS_REC, "", MountTargetKind.NONE] },
  ];
}

/** Makes the rootfs "/": pivot_root (MS_MOVE and chroot with --no-pivot), or only a chroot. */
export function enterRootOps(spec: Spec, rootfs: string, noPivot: boolean): PlanOp[] {
  // In the runtime's own mount namespace nothing may be moved or pivoted: that is the host's "/".
  if (!ownsMountNamespace(spec)) return [{ op: "CHROOT", args: [rootfs] }];
  const ops: PlanOp[] = [noPivot ? { op: "MOVE_ROOT", args: [rootfs] } : { op: "PIVOT_ROOT", args: [rootfs] }];
  const root = rootPropagation(spec).root;
  if (root !== undefined) ops.push({ op: "SET_PROPAGATION", args: ["", "/", root] });
  return ops;
}
