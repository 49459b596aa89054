import assert from "node:assert/strict";
import { test } from "node:test";
import {
  KNOWN_MOUNT_OPTIONS,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  parseMountOptions,
} from "./mount-options.ts";

test("flag values are the kernel's", () => {
  assert.equal(MS_RDONLY, 1);
  assert.equal(MS_BIND, 4096);
  assert.equal(MS_REC, 16384);
  assert.equal(MS_PRIVATE, 1 << 18);
});

test("runc spec's /dev tmpfs: flags and data", () => {
  const p = parseMountOptions(["nosuid", "strictatime", "mode=755", "size=65536k"]);
  assert.equal(p.flags, MS_NOSUID | MS_STRICTATIME);
  assert.equal(p.data, "mode=755,size=65536k");
  assert.equal(p.bind, false);
  assert.deepEqual(p.propagation, []);
});

test("rbind with propagation and read-only", () => {
  const p = parseMountOptions(["rbind", "rprivate", "ro", "nosuid", "nodev", "noexec"]);
  assert.equal(p.flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  assert.equal(p.bind, true);
  assert.equal(p.recursive, true);
  assert.deepEqual(p.propagation, [MS_PRIVATE | MS_REC]);
  assert.equal(p.data, "");
});

test("later options win; clearing options are recorded", () => {
  const p = parseMountOptions(["ro", "rw", "nosuid", "suid", "relatime", "norelatime"]);
  assert.equal(p.flags, 0);
  assert.equal(p.clearFlags, MS_RDONLY | MS_NOSUID | MS_RELATIME);
  assert.equal(parseMountOptions(["rw", "ro"]).clearFlags, 0);
});

test("propagation options keep their order", () => {
  assert.deepEqual(parseMountOptions(["shared", "rslave"]).propagation, [MS_SHARED, MS_SLAVE | MS_REC]);
});

test("recursive attributes for mount_setattr", () => {
  const p = parseMountOptions(["rbind", "rro", "rnosuid", "rnodev", "rdev"]);
  assert.equal(p.recAttrSet, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
  assert.equal(p.recAttrClr, MOUNT_ATTR_NODEV);
  const atime = parseMountOptions(["rnoatime"]);
  assert.equal(atime.recAttrSet, MOUNT_ATTR_NOATIME);
  assert.equal(atime.recAttrClr, MOUNT_ATTR__ATIME);
  // Clearing an atime value falls back to relatime (0), still clearing the whole field.
  const back = parseMountOptions(["rnoatime", "ratime"]);
  assert.equal(back.recAttrSet, 0);
  assert.equal(back.recAttrClr, MOUNT_ATTR__ATIME);
});

test("extensions and unknown options", () => {
  const p = parseMountOptions(["tmpcopyup", "size=64m", "idmap", "tmpcopyup", "acl", "defaults"]);
  assert.deepEqual(p.extensions, ["tmpcopyup", "idmap"]);
  // acl is filesystem data (runc stopped mapping it to MS_POSIXACL); defaults is a no-op.
  assert.equal(p.data, "size=64m,acl");
  assert.equal(p.flags, 0);
});

test("no options", () => {
  assert.deepEqual(parseMountOptions(undefined), {
    flags: 0,
    clearFlags: 0,
    propagation: [],
    data: "",
    bind: false,
    recursive: false,
    recAttrSet: 0,
    recAttrClr: 0,
    extensions: [],
  });
});

test("known options are sorted and include the runtime-spec's table", () => {
  assert.deepEqual([...KNOWN_MOUNT_OPTIONS].sort(), KNOWN_MOUNT_OPTIONS);
  for (const o of ["bind", "rbind", "rro", "rnosymfollow", "tmpcopyup", "idmap", "ridmap", "nosymfollow", "defaults"]) {
    assert.ok(KNOWN_MOUNT_OPTIONS.includes(o), o);
  }
});
