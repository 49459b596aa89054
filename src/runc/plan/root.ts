// The container's root: how "/" comes to be the rootfs, and with which propagation.
//
// In a mount namespace of its own (runc's order): the tree gets linux.rootfsPropagation (rslave by
// default), the mount holding the rootfs is made private (slave, when the tree is) so the bind
// below neither propagates out nor trips pivot_root, the rootfs is bound onto itself, and after
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
  /** On the mount that holds the rootfs: never shared (pivot_root refuses that, and a bind there would leak out). */
  parent: number;
  /** On "/" after pivot_root, when the bind of the rootfs cannot have brought it along. */
  root?: number;
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
  return {
    tree,
    // A bind of a slave mount is a slave of the same master: "/" inside then hears the host's
    // mounts under the rootfs, as slave asks. Anything else starts private.
    parent: tree & MS_SLAVE ? MS_SLAVE : MS_PRIVATE,
    root: tree & (MS_SHARED | MS_UNBINDABLE) ? tree : undefined,
  };
}

/** Whether the container has a mount namespace (new or joined); without one it has the runtime's. */
export function ownsMountNamespace(spec: Spec): boolean {
  return hasNamespace(spec, "mount");
}

/**
 * In the container's mount namespace, before its mounts: the tree's propagation, the parent
 * mount's, and the rootfs bound onto itself (pivot_root needs a mount point).
 */
export function prepareRootOps(spec: Spec, rootfs: string, rootfsParentMount: string, noPivot: boolean): PlanOp[] {
  if (!ownsMountNamespace(spec)) return [];
  const p = rootPropagation(spec);
  // Refused as runc refuses it, in its words.
  if (noPivot && p.tree & MS_PRIVATE)
    throw new InvalidSpecError(
      "linux.rootfsPropagation",
      "rootfsPropagation of [r]private is not safe without pivot_root",
    );
  return [
    { op: "SET_PROPAGATION", args: ["", "/", p.tree] },
    { op: "SET_PROPAGATION", args: ["", rootfsParentMount, p.parent] },
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
