import assert from "node:assert/strict";
import { test } from "node:test";
import { mountCall } from "./rootfs.ts";

test("mountCall: overlay options become data, flag words become MS_* bits", () => {
  const c = mountCall({
    type: "overlay",
    source: "overlay",
    options: ["index=off", "workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2", "rw", "nosuid"],
  });
  assert.deepEqual(c, {
    source: "overlay",
    fstype: "overlay",
    flags: 0x2,
    data: "index=off,workdir=/w,upperdir=/u,lowerdir=/l1:/l2",
    remountReadOnly: false,
  });
});

test("mountCall: a read-only bind is a bind plus a read-only remount", () => {
  const c = mountCall({ type: "bind", source: "/snap/1/fs", options: ["rbind", "ro"] });
  assert.deepEqual(c, { source: "/snap/1/fs", fstype: "", flags: 0x1000 | 0x4000, data: "", remountReadOnly: true });
  assert.equal(mountCall({ type: "bind", source: "/s", options: ["rbind", "rw"] })?.remountReadOnly, false);
});

test("mountCall: options read as mount(8) reads them, later words winning", () => {
  // "suid" after "nosuid" clears it, as in mount(8); before, both were kept as given.
  assert.equal(mountCall({ type: "overlay", source: "overlay", options: ["nosuid", "suid"] })?.flags, 0);
  assert.equal(mountCall({ type: "tmpfs", source: "tmpfs", options: ["sync", "size=1m"] })?.flags, 0x10);
  assert.equal(mountCall({ type: "tmpfs", source: "tmpfs", options: ["sync", "size=1m"] })?.data, "size=1m");
});

test("mountCall: what takes more than one mount(2) call is left to mount(8)", () => {
  for (const o of ["rprivate", "shared", "rro", "idmap"])
    assert.equal(mountCall({ type: "bind", source: "/s", options: ["rbind", o] }), undefined, o);
});
