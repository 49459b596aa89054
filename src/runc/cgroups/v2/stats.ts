// cgroup v2 statistics in the same shape as v1's (what `events --stats` prints).
import { parseFlatKeyed, readOptional, readUintOptional } from "../fsutil.ts";
import type { CgroupStats } from "../stats.ts";

export function statsV2(dir: string, s: CgroupStats): void {
  const cpu = parseFlatKeyed(readOptional(dir, "cpu.stat") ?? "");
  // v2 counts microseconds; the stats format (from v1) is nanoseconds.
  s.cpu.usage.total = (cpu.get("usage_usec") ?? 0) * 1000;
  s.cpu.usage.user = (cpu.get("user_usec") ?? 0) * 1000;
  s.cpu.usage.kernel = (cpu.get("system_usec") ?? 0) * 1000;
  s.cpu.throttling.periods = cpu.get("nr_periods") ?? 0;
  s.cpu.throttling.throttledPeriods = cpu.get("nr_throttled") ?? 0;
  s.cpu.throttling.throttledTime = (cpu.get("throttled_usec") ?? 0) * 1000;
  const stat = readOptional(dir, "memory.stat");
  if (stat !== undefined) {
    s.memory.raw = Object.fromEntries(parseFlatKeyed(stat));
    s.memory.cache = s.memory.raw["file"] ?? 0;
  }
  s.memory.usage.usage = readUintOptional(dir, "memory.current") ?? 0;
  s.memory.usage.limit = readUintOptional(dir, "memory.max") ?? 0;
  s.memory.usage.max = readUintOptional(dir, "memory.peak") ?? 0;
  s.memory.swap.usage = readUintOptional(dir, "memory.swap.current") ?? 0;
  s.memory.swap.limit = readUintOptional(dir, "memory.swap.max") ?? 0;
  const events = parseFlatKeyed(readOptional(dir, "memory.events") ?? "");
  s.memory.usage.failcnt = events.get("max") ?? 0;
  s.pids.current = readUintOptional(dir, "pids.current") ?? 0;
  s.pids.limit = readUintOptional(dir, "pids.max") ?? 0;
}

export function oomKillCountV2(dir: string): number {
  return parseFlatKeyed(readOptional(dir, "memory.events") ?? "").get("oom_kill") ?? 0;
}
