import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultSpec } from "../config/default.ts";
import { MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from "../config/mount-options.ts";
import type { Spec } from "../config/types.ts";
import { enterRootOps, prepareRootOps, rootPropagation } from "./root.ts";

function spec(edit?: (s: Spec) => void): Spec {
  const s = defaultSpec();
  edit?.(s);
  return s;
}

const withPropagation = (value: string) => spec((s) => (s.linux!.rootfsPropagation = value));

test("rootfsPropagation: the tree gets runc's flag, the rootfs's parent never stays shared, '/' gets what a bind cannot inherit", () => {
  const cases: [string | undefined, number, number, number | undefined][] = [
    [undefined, MS_SLAVE | MS_REC, MS_SLAVE, undefined],
    ["slave", MS_SLAVE, MS_SLAVE, undefined],
    ["rslave", MS_SLAVE | MS_REC, MS_SLAVE, undefined],
    ["private", MS_PRIVATE, MS_PRIVATE, undefined],
    ["rprivate", MS_PRIVATE | MS_REC, MS_PRIVATE, undefined],
    ["shared", MS_SHARED, MS_PRIVATE, MS_SHARED],
    ["rshared", MS_SHARED | MS_REC, MS_PRIVATE, MS_SHARED | MS_REC],
    ["unbindable", MS_UNBINDABLE, MS_PRIVATE, MS_UNBINDABLE],
    ["runbindable", MS_UNBINDABLE | MS_REC, MS_PRIVATE, MS_UNBINDABLE | MS_REC],
  ];
  for (const [value, tree, parent, root] of cases) {
    const s = value === undefined ? spec() : withPropagation(value);
    assert.deepEqual(rootPropagation(s), { tree, parent, root }, value ?? "unset");
  }
  assert.throws(() => rootPropagation(withPropagation("sideways")), /linux\.rootfsPropagation/);
});

test("with a mount namespace: propagation, parent, bind before the mounts; pivot_root, then the root's own propagation", () => {
  const s = withPropagation("shared");
  assert.deepEqual(prepareRootOps(s, "/b/rootfs", "/b", false), [
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
    assert.throws(() => prepareRootOps(withPropagation(value), "/b/rootfs", "/", true), /not safe without pivot_root/);
    assert.equal(prepareRootOps(withPropagation(value), "/b/rootfs", "/", false).length, 3);
  }
  assert.equal(prepareRootOps(withPropagation("rslave"), "/b/rootfs", "/", true).length, 3);
});

test("without a mount namespace: nothing is mounted or changed, the init chroots", () => {
  const s = spec((x) => (x.linux!.namespaces = x.linux!.namespaces!.filter((n) => n.type !== "mount")));
  assert.deepEqual(prepareRootOps(s, "/b/rootfs", "/", false), []);
  assert.deepEqual(enterRootOps(s, "/b/rootfs", false), [{ op: "CHROOT", args: ["/b/rootfs"] }]);
  // --no-pivot would MS_MOVE the rootfs onto the host's "/": a chroot all the same.
  assert.deepEqual(enterRootOps(s, "/b/rootfs", true), [{ op: "CHROOT", args: ["/b/rootfs"] }]);
});
