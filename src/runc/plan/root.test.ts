import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultSpec } from "../config/default.ts";
import { MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from "../config/mount-options.ts";
import type { Spec } from "../config/types.ts";
import { enterRootOps, parentPropagation, prepareRootOps, type RootfsParentMount, rootPropagation } from "./root.ts";

function spec(edit?: (s: Spec) => void): Spec {
  const s = defaultSpec();
  edit?.(s);
  return s;
}

const withPropagation = (value: string) => spec((s) => (s.linux!.rootfsPropagation = value));

const ROOT_PARENT: RootfsParentMount = { path: "/", shared: false };

test("rootfsPropagation: the tree gets runc's flag, '/' after pivot_root what a bind cannot inherit", () => {
  const cases: [string | undefined, number, number | undefined][] = [
    [undefined, MS_SLAVE | MS_REC, undefined],
    ["slave", MS_SLAVE, undefined],
    ["rslave", MS_SLAVE | MS_REC, undefined],
    ["private", MS_PRIVATE, undefined],
    ["rprivate", MS_PRIVATE | MS_REC, undefined],
    ["shared", MS_SHARED, MS_SHARED],
    ["rshared", MS_SHARED | MS_REC, MS_SHARED | MS_REC],
    ["unbindable", MS_UNBINDABLE, MS_UNBINDABLE],
    ["runbindable", MS_UNBINDABLE | MS_REC, MS_UNBINDABLE | MS_REC],
  ];
  for (const [value, tree, root] of cases) {
    const s = value === undefined ? spec() : withPropagation(value);
    assert.deepEqual(rootPropagation(s), { tree, root }, value ?? "unset");
  }
  assert.throws(() => rootPropagation(withPropagation("sideways")), /linux\.rootfsPropagation/);
});

test("the rootfs's parent mount is made private only when the tree's flag left it shared (runc 1.1.5's check)", () => {
  const below = (shared: boolean): RootfsParentMount => ({ path: "/var/lib/x", shared });
  // [tree, parent, expected]
  const cases: [number, RootfsParentMount, number | undefined][] = [
    // The flag reached the parent ("/" itself, or recursive): slave and private leave nothing shared.
    [MS_SLAVE, { path: "/", shared: true }, undefined],
    [MS_SLAVE | MS_REC, below(true), undefined],
    [MS_PRIVATE | MS_REC, below(true), undefined],
    // A non-recursive flag on "/" leaves a parent below it as the runtime's namespace has it.
    [MS_SLAVE, below(true), MS_PRIVATE],
    [MS_PRIVATE, below(true), MS_PRIVATE],
    [MS_SLAVE, below(false), undefined],
    [MS_PRIVATE, below(false), undefined],
    // Shared and unbindable trees (runc 1.4's behaviour): always private, so the bind works.
    [MS_SHARED, below(false), MS_PRIVATE],
    [MS_UNBINDABLE | MS_REC, ROOT_PARENT, MS_PRIVATE],
  ];
  for (const [tree, parent, expected] of cases) {
    assert.equal(
      parentPropagation(tree, parent),
      expected,
      `tree ${tree.toString(16)} parent ${JSON.stringify(parent)}`,
    );
  }
});

test("with a mount namespace: propagation, parent, bind before the mounts; pivot_root, then the root's own propagation", () => {
  const s = withPropagation("shared");
  assert.deepEqual(prepareRootOps(s, "/b/rootfs", { path: "/b", shared: false }, false), [
    { op: "SET_PROPAGATION", args: ["", "/", MS_SHARED] },
    { op: "SET_PROPAGATION", args: ["", "/b", MS_PRIVATE] },
    { op: "MOUNT", args: ["", "/b/rootfs", "/b/rootfs", "", 0x1000 | MS_REC, "", 0] },
  ]);
  assert.deepEqual(enterRootOps(s, "/b/rootfs", false), [
    { op: "PIVOT_ROOT", args: ["/b/rootfs"] },
    { op: "SET_PROPAGATION", args: ["", "/", MS_SHARED] },
  ]);
  assert.deepEqual(enterRootOps(withPropagation("rslave"), "/b/rootfs", true), [
    { op: "MOVE_ROOT", args: ["/b/rootfs"] },
  ]);
});

test("--no-pivot with a private tree is refused, as runc refuses it", () => {
  for (const value of ["private", "rprivate"]) {
    assert.throws(
      () => prepareRootOps(withPropagation(value), "/b/rootfs", ROOT_PARENT, true),
      /not safe without pivot_root/,
    );
    assert.doesNotThrow(() => prepareRootOps(withPropagation(value), "/b/rootfs", ROOT_PARENT, false));
  }
  // rslave reached every mount: no parent step, only the tree's flag and the bind.
  assert.equal(prepareRootOps(withPropagation("rslave"), "/b/rootfs", ROOT_PARENT, true).length, 2);
});

test("without a mount namespace: nothing is mounted or changed, the init chroots", () => {
  const s = spec((x) => (x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== "mount")));
  assert.deepEqual(prepareRootOps(s, "/b/rootfs", ROOT_PARENT, false), []);
  assert.deepEqual(enterRootOps(s, "/b/rootfs", false), [{ op: "CHROOT", args: ["/b/rootfs"] }]);
  // --no-pivot would MS_MOVE the rootfs onto the host's "/": a chroot all the same.
  assert.deepEqual(enterRootOps(s, "/b/rootfs", true), [{ op: "CHROOT", args: ["/b/rootfs"] }]);
});
