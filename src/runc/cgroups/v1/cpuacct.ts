// v1 cpuacct: CPU usage stats only (nothing to set).

import type { Resources } from "../../config/types.ts";
import { parseFlatKeyed, readOptional, readUintOptional } from "../fsutil.ts";
import type { CgroupStats } from "../stats.ts";
import type { V1Controller } from "./controller.ts";

// cpuacct.stat counts in USER_HZ ticks, which Linux fixes at 100 for user space.
const NS_PER_TICK = 1e9 / 100;

function numbers(text: string | undefined): number[] {
  if (text === undefined) return [];
  return text
    .trim()
    .split(/\s+/)
    .filter((t) => t !== "")
    .map(Number);
}

export const cpuacct: V1Controller = {
  name: "cpuacct",
  wants(_r: Resources): boolean {
    return false;
  },
  set(): void {},
  stats(dir: string, s: CgroupStats): void {
    const u = s.cpu.usage;
    u.total = readUintOptional(dir, "cpuacct.usage") ?? 0;
    u.percpu = numbers(readOptional(dir, "cpuacct.usage_percpu"));
    // usage_all: a "cpu user system" header, then one line per CPU.
    const all = readOptional(dir, "cpuacct.usage_all");
    if (all !== undefined) {
      const kernel: number[] = [];
      const user: number[] = [];
      for (const line of all.trim().split("\n").slice(1)) {
        const [, usr, sys] = line.trim().split(/\s+/);
        user.push(Number(usr ?? 0));
        kernel.push(Number(sys ?? 0));
      }
      u.percpuKernel = kernel;
      u.percpuUser = user;
    }
    const stat = readOptional(dir, "cpuacct.stat");
    if (stat !== undefined) {
      const kv = parseFlatKeyed(stat);
      u.user = (kv.get("user") ?? 0) * NS_PER_TICK;
      u.kernel = (kv.get("system") ?? 0) * NS_PER_TICK;
    }
  },
};
