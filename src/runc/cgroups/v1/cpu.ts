// v1 cpu controller (CFS and RT bandwidth, shares, idle) and its throttling stats.

import { InvalidArgumentError } from "../../../common/errors.ts";
import type { Resources } from "../../config/types.ts";
import { CgroupWriteError } from "../errors.ts";
import { fileExists, parseFlatKeyed, readOptional, readUint, writeCgroupFile } from "../fsutil.ts";
import type { CgroupStats } from "../stats.ts";
import type { V1Controller } from "./controller.ts";

function setCfs(dir: string, quota: number, period: number): void {
  let retryPeriod = false;
  if (period !== 0) {
    try {
      writeCgroupFile(dir, "cpu.cfs_period_us", String(period));
    } catch (err) {
      // A shorter period can be rejected (EINVAL) while the old quota still applies; set the
      // quota first and retry.
      if (!(err instanceof CgroupWriteError && err.code === "EINVAL") || quota === 0) throw err;
      retryPeriod = true;
    }
  }
  if (quota !== 0) {
    writeCgroupFile(dir, "cpu.cfs_quota_us", String(quota));
    if (retryPeriod) writeCgroupFile(dir, "cpu.cfs_period_us", String(period));
  }
}

export const cpu: V1Controller = {
  name: "cpu",
  wants(r: Resources): boolean {
    const c = r.cpu;
    if (c === undefined) return false;
    return Boolean(
      c.shares || c.quota || c.period || c.burst !== undefined || c.realtimePeriod || c.realtimeRuntime || c.idle,
    );
  },
  set(dir: string, r: Resources): void {
    const c = r.cpu;
    if (c === undefined) return;
    if (c.shares !== undefined && c.shares !== 0) {
      writeCgroupFile(dir, "cpu.shares", String(c.shares));
      // The kernel clamps out-of-range shares silently; report the bound instead.
      const got = readUint(dir, "cpu.shares");
      if (c.shares > got) throw new InvalidArgumentError(`the maximum allowed cpu-shares is ${got}`);
      if (c.shares < got) throw new InvalidArgumentError(`the minimum allowed cpu-shares is ${got}`);
    }
    setCfs(dir, c.quota ?? 0, c.period ?? 0);
    // Older kernels have no burst file; only an actual burst request makes that an error.
    if (c.burst !== undefined && (c.burst !== 0 || fileExists(dir, "cpu.cfs_burst_us"))) {
      writeCgroupFile(dir, "cpu.cfs_burst_us", String(c.burst));
    }
    // RT: the period must be in place before a runtime that only fits in it.
    if (c.realtimePeriod) writeCgroupFile(dir, "cpu.rt_period_us", String(c.realtimePeriod));
    if (c.realtimeRuntime) writeCgroupFile(dir, "cpu.rt_runtime_us", String(c.realtimeRuntime));
    if (c.idle !== undefined && (c.idle !== 0 || fileExists(dir, "cpu.idle"))) {
      writeCgroupFile(dir, "cpu.idle", String(c.idle));
    }
  },
  stats(dir: string, s: CgroupStats): void {
    const text = readOptional(dir, "cpu.stat");
    if (text === undefined) return;
    const kv = parseFlatKeyed(text);
    s.cpu.throttling.periods = kv.get("nr_periods") ?? 0;
    s.cpu.throttling.throttledPeriods = kv.get("nr_throttled") ?? 0;
    s.cpu.throttling.throttledTime = kv.get("throttled_time") ?? 0;
  },
};
