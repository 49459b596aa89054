import assert from "node:assert/strict";
import { test } from "node:test";
import { HYBRID, PURE_V2 } from "../../../test/fixtures/mountinfo.ts";
import { InvalidArgumentError, NotImplementedError } from "../../common/errors.ts";
import { layoutFromMountinfo } from "./mountinfo.ts";
import { cleanPath, isSystemdPath, parseProcCgroup, resolveCgroupDirs } from "./paths.ts";

const OWN_HYBRID = parseProcCgroup(`9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/f0b1
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`);

test("cleanPath never climbs above its start", () => {
  assert.equal(cleanPath(""), "");
  assert.equal(cleanPath("../../esc"), "esc");
  assert.equal(cleanPath("a/./b//c/"), "a/b/c");
  assert.equal(cleanPath("/a/../../b"), "/b");
  assert.equal(cleanPath("/x/y/"), "/x/y");
});

test("systemd-style paths are recognised", () => {
  assert.equal(isSystemdPath("system.slice:docker:abc"), true);
  assert.equal(isSystemdPath(":berth:abc"), true);
  assert.equal(isSystemdPath("/a:b:c"), false);
  assert.equal(isSystemdPath("a/b"), false);
});

test("parseProcCgroup splits co-mounted controllers and keys cgroup2 as ''", () => {
  const m = parseProcCgroup("3:cpu,cpuacct:/x\n0::/y:z\n");
  assert.equal(m.get("cpu"), "/x");
  assert.equal(m.get("cpuacct"), "/x");
  assert.equal(m.get(""), "/y:z");
});

const hybrid = layoutFromMountinfo(HYBRID);

test("hybrid, no cgroupsPath: <own cgroup>/<id> in every hierarchy (runc 1.1)", () => {
  const p = resolveCgroupDirs({ layout: hybrid, ownCgroup: OWN_HYBRID, cgroupsPath: undefined, containerId: "c1" });
  assert.equal(p["memory"], "/sys/fs/cgroup/memory/process_api/f0b1/c1");
  assert.equal(p["cpu"], "/sys/fs/cgroup/cpu/c1");
  assert.equal(p["name=systemd"], "/sys/fs/cgroup/systemd/c1");
  assert.equal(p[""], "/sys/fs/cgroup/unified/c1");
});

test("hybrid, absolute path: below each mount point, own cgroup ignored", () => {
  const p = resolveCgroupDirs({ layout: hybrid, ownCgroup: OWN_HYBRID, cgroupsPath: "/abs/y", containerId: "c1" });
  assert.equal(p["memory"], "/sys/fs/cgroup/memory/abs/y");
  assert.equal(p[""], "/sys/fs/cgroup/unified/abs/y");
});

test("hybrid, relative path with '..' is cleaned", () => {
  const p = resolveCgroupDirs({ layout: hybrid, ownCgroup: OWN_HYBRID, cgroupsPath: "../../esc", containerId: "c1" });
  assert.equal(p["memory"], "/sys/fs/cgroup/memory/process_api/f0b1/esc");
  assert.equal(p["pids"], "/sys/fs/cgroup/pids/esc");
});

test("v2, relative path: below the parent of the runtime's own cgroup", () => {
  const layout = layoutFromMountinfo(PURE_V2);
  const own = parseProcCgroup("0::/user.slice/session-1.scope\n");
  assert.deepEqual(resolveCgroupDirs({ layout, ownCgroup: own, cgroupsPath: undefined, containerId: "c1" }), {
    "": "/sys/fs/cgroup/user.slice/c1",
  });
  assert.deepEqual(resolveCgroupDirs({ layout, ownCgroup: own, cgroupsPath: "/berth/c1", containerId: "x" }), {
    "": "/sys/fs/cgroup/berth/c1",
  });
});

test("v2 inside a container: own cgroup is relative to the mount's root", () => {
  const layout = layoutFromMountinfo("90 80 0:26 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
  const own = parseProcCgroup("0::/docker/abc/init\n");
  assert.deepEqual(resolveCgroupDirs({ layout, ownCgroup: own, cgroupsPath: "k", containerId: "x" }), {
    "": "/sys/fs/cgroup/k",
  });
});

test("systemd driver and root paths are refused", () => {
  const base = { layout: hybrid, ownCgroup: OWN_HYBRID, containerId: "c1" };
  assert.throws(() => resolveCgroupDirs({ ...base, cgroupsPath: "system.slice:berth:c1" }), NotImplementedError);
  assert.throws(() => resolveCgroupDirs({ ...base, cgroupsPath: undefined, systemd: true }), /systemd cgroup driver/);
  assert.throws(() => resolveCgroupDirs({ ...base, cgroupsPath: "/" }), InvalidArgumentError);
});
