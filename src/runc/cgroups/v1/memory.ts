// v1 memory controller: limits and stats.

import { InvalidArgumentError } from "../../../common/errors.ts";
import type { Resources } from "../../config/types.ts";
import { CgroupWriteError } from "../errors.ts";
import {
  fileExists,
  parseFlatKeyed,
  readCgroupFile,
  readOptional,
  readUint,
  readUintOptional,
  writeCgroupFile,
} from "../fsutil.ts";
import type { CgroupStats, MemoryEntry } from "../stats.ts";
import type { V1Controller } from "./controller.ts";

const LIMIT = "memory.limit_in_bytes";
const MEMSW = "memory.memsw.limit_in_bytes";

function setLimit(dir: string, value: number): void {
  if (value === 0) return;
  try {
    writeCgroupFile(dir, LIMIT, String(value));
  } catch (err) {
    // EBUSY: the new limit is below what the cgroup already uses; say so plainly.
    if (err instanceof CgroupWriteError && err.code === "EBUSY") {
      const usage = readUint(dir, "memory.usage_in_bytes");
      const peak = readUint(dir, "memory.max_usage_in_bytes");
      throw new InvalidArgumentError(
        `unable to set memory limit to ${value} (current usage: ${usage}, peak usage: ${peak})`,
        { cause: err },
      );
    }
    throw err;
  }
}

function setSwap(dir: string, value: number): void {
  if (value !== 0) writeCgroupFile(dir, MEMSW, String(value));
}

// The kernel requires memory.limit <= memsw.limit at every moment, so the write order depends on
// whether the limits go up or down.
function setLimitAndSwap(dir: string, limit: number, swap: number): void {
  let s = swap;
  if (limit === -1 && s === 0 && fileExists(dir, MEMSW)) s = -1;
  if (limit !== 0 && s !== 0) {
    const current = readUint(dir, LIMIT);
    if (s === -1 || current < s) {
      setSwap(dir, s);
      setLimit(dir, limit);
      return;
    }
  }
  setLimit(dir, limit);
  setSwap(dir, s);
}

// Writing kernel-memory limits is a no-op or unsupported on recent kernels; never fatal.
function setKernelLimit(dir: string, file: string, value: number | undefined): void {
  if (value === undefined || value === 0) return;
  try {
    writeCgroupFile(dir, file, String(value));
  } catch (err) {
    const code = err instanceof CgroupWriteError ? err.code : undefined;
    if (code !== "EOPNOTSUPP" && code !== "ENOTSUP" && code !== "ENOENT") throw err;
  }
}

function entry(dir: string, prefix: string): MemoryEntry {
  return {
    usage: readUintOptional(dir, `${prefix}.usage_in_bytes`) ?? 0,
    max: readUintOptional(dir, `${prefix}.max_usage_in_bytes`) ?? 0,
    failcnt: readUintOptional(dir, `${prefix}.failcnt`) ?? 0,
    limit: readUintOptional(dir, `${prefix}.limit_in_bytes`) ?? 0,
  };
}

export const memory: V1Controller = {
  name: "memory",
  wants(r: Resources): boolean {
    const m = r.memory;
    if (m === undefined) return false;
    return Boolean(
      m.limit || m.reservation || m.swap || m.kernel || m.kernelTCP || m.disableOOMKiller || m.swappiness !== undefined,
    );
  },
  set(dir: string, r: Resources): void {
    const m = r.memory;
    if (m === undefined) return;
    setLimitAndSwap(dir, m.limit ?? 0, m.swap ?? 0);
    setKernelLimit(dir, "memory.kmem.limit_in_bytes", m.kernel);
    setKernelLimit(dir, "memory.kmem.tcp.limit_in_bytes", m.kernelTCP);
    if (m.reservation !== undefined && m.reservation !== 0) {
      writeCgroupFile(dir, "memory.soft_limit_in_bytes", String(m.reservation));
    }
    if (m.disableOOMKiller !== undefined) {
      const want = m.disableOOMKiller ? 1 : 0;
      const now = parseFlatKeyed(readCgroupFile(dir, "memory.oom_control")).get("oom_kill_disable");
      if (now !== want) writeCgroupFile(dir, "memory.oom_control", String(want));
    }
    if (m.swappiness !== undefined && m.swappiness !== -1) {
      if (!Number.isInteger(m.swappiness) || m.swappiness < 0 || m.swappiness > 100) {
        throw new InvalidArgumentError(`invalid memory swappiness ${m.swappiness}: valid range is 0-100`);
      }
      writeCgroupFile(dir, "memory.swappiness", String(m.swappiness));
    }
    if (m.useHierarchy !== undefined) {
      // Recent kernels fix use_hierarchy at 1; only write when it would change something.
      const want = m.useHierarchy ? 1 : 0;
      if (readUintOptional(dir, "memory.use_hierarchy") !== want)
        writeCgroupFile(dir, "memory.use_hierarchy", String(want));
    }
  },
  stats(dir: string, s: CgroupStats): void {
    const text = readOptional(dir, "memory.stat");
    if (text === undefined) return;
    s.memory.raw = Object.fromEntries(parseFlatKeyed(text));
    s.memory.cache = s.memory.raw["cache"] ?? 0;
    s.memory.usage = entry(dir, "memory");
    s.memory.swap = entry(dir, "memory.memsw");
    s.memory.kernel = entry(dir, "memory.kmem");
    s.memory.kernelTCP = entry(dir, "memory.kmem.tcp");
  },
};

/** The number of OOM kills in the cgroup (memory.oom_control "oom_kill"), 0 if unknown. */
export function oomKillCountV1(dir: string): number {
  const text = readOptional(dir, "memory.oom_control");
  return text === undefined ? 0 : (parseFlatKeyed(text).get("oom_kill") ?? 0);
}
