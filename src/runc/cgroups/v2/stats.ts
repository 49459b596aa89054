// Stats from a cgroup2 directory, converted to runc's (v1-shaped) model.

import { parseCpuList } from "../convert.ts";
import { parseFlatKeyed, readOptional, readUintOptional, UINT64_MAX } from "../fsutil.ts";
import { hugePageSizes } from "../hugepages.ts";
import type { BlkioEntry, CgroupStats } from "../stats.ts";
import { emptyStats } from "../stats.ts";

function flat(dir: string, file: string): Map<string, number> {
  const text = readOptional(dir, file);
  return text === undefined ? new Map() : parseFlatKeyed(text);
}

/** io.stat lines: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0". */
export function parseIoStat(text: string): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const [dev, ...pairs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? "");
    if (!m) continue;
    const major = Number(m[1]);
    const minor = Number(m[2]);
    for (const pair of pairs) {
      const [k, v] = pair.split("=");
      const value = Number(v);
      if (k === "rbytes") bytes.push({ major, minor, op: "Read", value });
      else if (k === "wbytes") bytes.push({ major, minor, op: "Write", value });
      else if (k === "rios") ios.push({ major, minor, op: "Read", value });
      else if (k === "wios") ios.push({ major, minor, op: "Write", value });
    }
  }
  return { bytes, ios };
}

export function statsV2(dir: string): CgroupStats {
  const s = emptyStats();

  const cpu = flat(dir, "cpu.stat");
  s.cpu.usage.total = (cpu.get("usage_usec") ?? 0) * 1000;
  s.cpu.usage.user = (cpu.get("user_usec") ?? 0) * 1000;
  s.cpu.usage.kernel = (cpu.get("system_usec") ?? 0) * 1000;
  s.cpu.throttling.periods = cpu.get("nr_periods") ?? 0;
  s.cpu.throttling.throttledPeriods = cpu.get("nr_throttled") ?? 0;
  s.cpu.throttling.throttledTime = (cpu.get("throttled_usec") ?? 0) * 1000;

  const memStat = readOptional(dir, "memory.stat");
  if (memStat !== undefined) {
    s.memory.raw = Object.fromEntries(parseFlatKeyed(memStat));
    s.memory.cache = s.memory.raw["file"] ?? 0;
    const usage = readUintOptional(dir, "memory.current") ?? 0;
    const limit = readUintOptional(dir, "memory.max") ?? UINT64_MAX;
    s.memory.usage = {
      usage,
      limit,
      max: readUintOptional(dir, "memory.peak") ?? 0,
      failcnt: flat(dir, "memory.events").get("max") ?? 0,
    };
    // v1 reports swap as memory+swap; do the same so consumers see one meaning.
    const swapUsage = readUintOptional(dir, "memory.swap.current");
    if (swapUsage !== undefined) {
      const swapLimit = readUintOptional(dir, "memory.swap.max") ?? UINT64_MAX;
      s.memory.swap = {
        usage: swapUsage + usage,
        limit: swapLimit >= UINT64_MAX || limit >= UINT64_MAX ? UINT64_MAX : swapLimit + limit,
        max: 0,
        failcnt: flat(dir, "memory.swap.events").get("fail") ?? 0,
      };
    }
  }

  s.pids.current = readUintOptional(dir, "pids.current") ?? 0;
  const pidsMax = readUintOptional(dir, "pids.max") ?? 0;
  s.pids.limit = pidsMax === UINT64_MAX ? 0 : pidsMax;

  const io = readOptional(dir, "io.stat");
  if (io !== undefined) {
    const { bytes, ios } = parseIoStat(io);
    s.blkio.ioServiceBytesRecursive = bytes;
    s.blkio.ioServicedRecursive = ios;
  }

  for (const size of hugePageSizes()) {
    const usage = readUintOptional(dir, `hugetlb.${size}.current`);
    if (usage === undefined) continue;
    s.hugetlb[size] = { usage, max: 0, failcnt: flat(dir, `hugetlb.${size}.events`).get("max") ?? 0 };
  }

  const cpus = readOptional(dir, "cpuset.cpus.effective");
  if (cpus !== undefined) {
    s.cpuset.cpus = parseCpuList(cpus);
    s.cpuset.mems = parseCpuList(readOptional(dir, "cpuset.mems.effective") ?? "");
  }
  return s;
}
