// The host facts a container's spec depends on (CPUs, cpusets, the cgroup version, the last
// capability, the kernel's version, the architecture), read once when berthd starts.
import { existsSync } from "node:fs";
import { availableParallelism, release } from "node:os";
import type { HostFacts } from "./spec/resources.ts";
import { goArch } from "./spec/seccomp.ts";
import { readBounded } from "./store.ts";

/** The spec's host facts, read once. */
export function specHostFacts(): HostFacts {
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const read = (p: string) => {
    try {
      return readBounded(p, 64 * 1024).trim();
    } catch {
      return "";
    }
  };
  const [major, minor] = release()
    .split(".")
    .map((n) => Number.parseInt(n, 10));
  return {
    cpuCount: availableParallelism(),
    cpusetCpus: v2 ? read("/sys/fs/cgroup/cpuset.cpus.effective") : read("/sys/fs/cgroup/cpuset/cpuset.cpus"),
    cpusetMems: v2 ? read("/sys/fs/cgroup/cpuset.mems.effective") : read("/sys/fs/cgroup/cpuset/cpuset.mems"),
    cgroupVersion: v2 ? 2 : 1,
    lastCap: Number(read("/proc/sys/kernel/cap_last_cap")) || 40,
    kernel: [major ?? 0, minor ?? 0],
    goArch: goArch(),
  };
}
