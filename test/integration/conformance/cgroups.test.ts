// Cgroups: resource limits as seen from inside (v1 controller files under /sys/fs/cgroup or the
// v2 unified files), /proc/self/cgroup with and without a cgroup namespace, and removal of the
// container's cgroup after delete.

import { existsSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { readLayout } from "../../../src/runc/cgroups/mountinfo.ts";
import type { Spec } from "../../../src/runc/config/types.ts";
import { type ConformanceCase, conformance, contains, type Half, probeCase } from "./harness.ts";

const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");

/**
 * The container's cgroup goes below a parent shared by these cases. A runtime removes only its
 * leaf, so each case also tries to remove the parent afterwards; rmdir fails harmlessly while
 * another case still has a container below it.
 */
function cgroupsPath(h: Half): string {
  h.defer(() => {
    const layout = readLayout();
    const mounts = [...layout.v1.values(), ...(layout.unified ? [layout.unified] : [])];
    for (const m of mounts) {
      try {
        rmdirSync(join(m.mountpoint, "berth-conformance"));
      } catch {
        // Still in use by another case, or already gone.
      }
    }
  });
  return `/berth-conformance/${h.id}`;
}

function limits(s: Spec, h: Half): void {
  s.linux!.cgroupsPath = cgroupsPath(h);
  s.linux!.resources = {
    ...s.linux!.resources,
    memory: { limit: 64 * 1024 * 1024, reservation: 32 * 1024 * 1024 },
    pids: { limit: 42 },
    cpu: { shares: 512, quota: 50000, period: 100000 },
  };
}

const READ_LIMITS = v2
  ? "cd /sys/fs/cgroup && cat memory.max memory.low pids.max cpu.max cpu.weight\n"
  : `for f in memory/memory.limit_in_bytes memory/memory.soft_limit_in_bytes pids/pids.max cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us; do
  echo "$f $(cat /sys/fs/cgroup/$f)"
done
`;

async function cgroupGone(h: Half): Promise<string> {
  const dirs = v2
    ? [`/sys/fs/cgroup${cgroupsPath(h)}`]
    : ["memory", "pids", "cpu"].map((c) => `/sys/fs/cgroup/${c}${cgroupsPath(h)}`);
  return `cgroup dirs left: ${dirs.filter((d) => existsSync(d)).length}\n`;
}

const cases: ConformanceCase[] = [
  probeCase({
    name: "memory, pids and cpu limits seen inside",
    spec: limits,
    probe: READ_LIMITS,
    after: cgroupGone,
    check: contains(v2 ? "67108864" : "memory/memory.limit_in_bytes 67108864", "42", "cgroup dirs left: 0"),
  }),
  probeCase({
    name: "/proc/self/cgroup without a cgroup namespace",
    spec: (s, h) => {
      s.linux!.cgroupsPath = cgroupsPath(h);
    },
    probe: "sort /proc/self/cgroup\n",
    check: contains("/berth-conformance/<ID>"),
  }),
  probeCase({
    name: "/proc/self/cgroup in a cgroup namespace",
    spec: (s, h) => {
      s.linux!.cgroupsPath = cgroupsPath(h);
      s.linux!.namespaces!.push({ type: "cgroup" });
    },
    probe: `sort /proc/self/cgroup\n${READ_LIMITS}`,
  }),
  probeCase({
    name: "the /sys/fs/cgroup tree inside",
    spec: (s, h) => {
      s.linux!.cgroupsPath = cgroupsPath(h);
    },
    probe: "ls /sys/fs/cgroup; touch /sys/fs/cgroup/x 2>&1 || true\n",
  }),
  probeCase({
    name: "pids limit is enforced",
    spec: (s, h) => {
      s.linux!.cgroupsPath = cgroupsPath(h);
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 4 } };
    },
    // A failed fork ends a busybox sh, so the forking happens in a child shell: the two shells and
    // two sleeps fill the limit of 4, the third fork fails.
    probe: `sh -c 'for i in 1 2 3 4 5 6; do sleep 2 & echo "started $i"; done'; echo "child sh status $?"\n`,
    check: contains("started 2\nchild sh status 2", "can't fork"),
  }),
  probeCase({
    name: "memory limit is enforced (OOM kill)",
    spec: (s, h) => {
      s.linux!.cgroupsPath = cgroupsPath(h);
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 16 * 1024 * 1024, swap: 16 * 1024 * 1024 } };
    },
    // tail buffers its newline-free input; a high oom_score_adj makes it the OOM killer's choice, not pid 1.
    probe: `sh -c 'echo 1000 > /proc/self/oom_score_adj; head -c 64m /dev/zero | tail > /dev/null'; echo "status $?"\n`,
    check: contains("status 137"),
  }),
];

conformance("cgroups", cases);
