// v1 cpuset: a new cpuset cgroup starts with empty cpus/mems and refuses tasks until both are
// filled, so every directory on the way down is initialised from its parent.

import { posix } from "node:path";
import type { Resources } from "../../config/types.ts";
import { parseCpuList } from "../convert.ts";
import { readCgroupFile, readOptional, readUintOptional, writeCgroupFile } from "../fsutil.ts";
import type { CgroupStats } from "../stats.ts";
import { mkdirTracked } from "../tree.ts";
import type { V1Controller } from "./controller.ts";

/**
 * mkdir -p from `mountpoint` down to `dir`, then copy cpuset.cpus/mems from the parent into any
 * directory on the way where they are empty. Returns the directories it created (outermost first).
 */
export function createCpusetDir(mountpoint: string, dir: string): string[] {
  const created = mkdirTracked(mountpoint, dir);
  let current = mountpoint;
  for (const part of posix
    .relative(mountpoint, dir)
    .split("/")
    .filter((p) => p !== "")) {
    const parent = current;
    current = posix.join(current, part);
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (readCgroupFile(current, file).trim() === "") {
        writeCgroupFile(current, file, readCgroupFile(parent, file).trim());
      }
    }
  }
  return created;
}

const flag = (dir: string, file: string) => readUintOptional(dir, file) ?? 0;

export const cpuset: V1Controller = {
  name: "cpuset",
  wants(r: Resources): boolean {
    return Boolean(r.cpu?.cpus || r.cpu?.mems);
  },
  set(dir: string, r: Resources): void {
    if (r.cpu?.cpus) writeCgroupFile(dir, "cpuset.cpus", r.cpu.cpus);
    if (r.cpu?.mems) writeCgroupFile(dir, "cpuset.mems", r.cpu.mems);
  },
  stats(dir: string, s: CgroupStats): void {
    const cpus = readOptional(dir, "cpuset.cpus");
    if (cpus === undefined) return;
    const c = s.cpuset;
    c.cpus = parseCpuList(cpus);
    c.mems = parseCpuList(readOptional(dir, "cpuset.mems") ?? "");
    c.cpuExclusive = flag(dir, "cpuset.cpu_exclusive");
    c.memHardwall = flag(dir, "cpuset.mem_hardwall");
    c.memExclusive = flag(dir, "cpuset.mem_exclusive");
    c.memoryMigrate = flag(dir, "cpuset.memory_migrate");
    c.memorySpreadPage = flag(dir, "cpuset.memory_spread_page");
    c.memorySpreadSlab = flag(dir, "cpuset.memory_spread_slab");
    c.memoryPressure = flag(dir, "cpuset.memory_pressure");
    c.schedLoadBalance = flag(dir, "cpuset.sched_load_balance");
    // This one is signed (-1 = system default).
    c.schedRelaxDomainLevel = Number((readOptional(dir, "cpuset.sched_relax_domain_level") ?? "0").trim());
  },
};
