import assert from "node:assert/strict";
import { test } from "node:test";
import { HYBRID, PURE_V2 } from "../../../test/fixtures/mountinfo.ts";
import { layoutFromMountinfo, parseMountinfo } from "./mountinfo.ts";

test("parseMountinfo handles optional fields and octal escapes", () => {
  const [m] = parseMountinfo("50 22 0:40 /a\\040b /mnt/x\\040y rw shared:3 master:1 - cgroup cgroup rw,memory\n");
  assert.deepEqual(m, {
    root: "/a b",
    mountpoint: "/mnt/x y",
    optional: ["shared:3", "master:1"],
    fstype: "cgroup",
    superOptions: ["rw", "memory"],
  });
});

test("hybrid layout: v1 controllers plus the cgroup2 mount", () => {
  const l = layoutFromMountinfo(HYBRID);
  assert.equal(l.mode, "hybrid");
  assert.equal(l.v1.get("memory")?.mountpoint, "/sys/fs/cgroup/memory");
  assert.equal(l.v1.get("name=systemd")?.mountpoint, "/sys/fs/cgroup/systemd");
  assert.equal(l.v1.has("hugetlb"), false);
  assert.equal(l.v1.has("rw"), false);
  assert.deepEqual(l.unified, { mountpoint: "/sys/fs/cgroup/unified", root: "/" });
});

test("co-mounted controllers share a hierarchy", () => {
  const l = layoutFromMountinfo("32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n");
  assert.equal(l.mode, "v1");
  assert.equal(l.v1.get("cpu")?.mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  assert.equal(l.v1.get("cpuacct")?.mountpoint, "/sys/fs/cgroup/cpu,cpuacct");
  assert.equal(l.unified, undefined);
});

test("pure v2 layout", () => {
  const l = layoutFromMountinfo(PURE_V2);
  assert.equal(l.mode, "v2");
  assert.equal(l.v1.size, 0);
  assert.equal(l.unified?.mountpoint, "/sys/fs/cgroup");
});

test("a container's sub-tree mount keeps its root; /sys/fs/cgroup wins over other mounts", () => {
  const text = `90 80 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw
91 80 0:26 / /mnt/cg rw - cgroup2 cgroup2 rw
`;
  const l = layoutFromMountinfo(text);
  assert.deepEqual(l.unified, { mountpoint: "/sys/fs/cgroup", root: "/docker/abc" });
});

test("named v1-only systemd hierarchy with cgroup2 counts as v2", () => {
  const l = layoutFromMountinfo(`${PURE_V2}40 29 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n`);
  assert.equal(l.mode, "v2");
});
