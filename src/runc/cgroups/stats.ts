// Cgroup statistics in runc's model, and their JSON rendering exactly as `runc events --stats`
// prints the event's `data` (runc 1.1 field names and Go's omitempty rules).

export interface CpuUsage {
  /** Nanoseconds. */
  total: number;
  percpu: number[];
  percpuKernel: number[];
  percpuUser: number[];
  kernel: number;
  user: number;
}

export interface Throttling {
  periods: number;
  throttledPeriods: number;
  /** Nanoseconds. */
  throttledTime: number;
}

export interface CpusetStats {
  cpus: number[];
  cpuExclusive: number;
  mems: number[];
  memHardwall: number;
  memExclusive: number;
  memoryMigrate: number;
  memorySpreadPage: number;
  memorySpreadSlab: number;
  memoryPressure: number;
  schedLoadBalance: number;
  schedRelaxDomainLevel: number;
}

export interface MemoryEntry {
  limit: number;
  usage: number;
  max: number;
  failcnt: number;
}

export interface MemoryStats {
  cache: number;
  usage: MemoryEntry;
  /** memory+swap, as v1 reports it (v2 values are converted). */
  swap: MemoryEntry;
  kernel: MemoryEntry;
  kernelTCP: MemoryEntry;
  raw: Record<string, number>;
}

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

export interface BlkioStats {
  ioServiceBytesRecursive: BlkioEntry[];
  ioServicedRecursive: BlkioEntry[];
  ioQueueRecursive: BlkioEntry[];
  ioServiceTimeRecursive: BlkioEntry[];
  ioWaitTimeRecursive: BlkioEntry[];
  ioMergedRecursive: BlkioEntry[];
  ioTimeRecursive: BlkioEntry[];
  sectorsRecursive: BlkioEntry[];
}

export interface HugetlbStats {
  usage: number;
  max: number;
  failcnt: number;
}

export interface CgroupStats {
  cpu: { usage: CpuUsage; throttling: Throttling };
  cpuset: CpusetStats;
  memory: MemoryStats;
  pids: { current: number; limit: number };
  blkio: BlkioStats;
  /** By page size name ("2MB"). */
  hugetlb: Record<string, HugetlbStats>;
}

const memoryEntry = (): MemoryEntry => ({ limit: 0, usage: 0, max: 0, failcnt: 0 });

export function emptyStats(): CgroupStats {
  return {
    cpu: {
      usage: { total: 0, percpu: [], percpuKernel: [], percpuUser: [], kernel: 0, user: 0 },
      throttling: { periods: 0, throttledPeriods: 0, throttledTime: 0 },
    },
    cpuset: {
      cpus: [],
      cpuExclusive: 0,
      mems: [],
      memHardwall: 0,
      memExclusive: 0,
      memoryMigrate: 0,
      memorySpreadPage: 0,
      memorySpreadSlab: 0,
      memoryPressure: 0,
      schedLoadBalance: 0,
      schedRelaxDomainLevel: 0,
    },
    memory: {
      cache: 0,
      usage: memoryEntry(),
      swap: memoryEntry(),
      kernel: memoryEntry(),
      kernelTCP: memoryEntry(),
      raw: {},
    },
    pids: { current: 0, limit: 0 },
    blkio: {
      ioServiceBytesRecursive: [],
      ioServicedRecursive: [],
      ioQueueRecursive: [],
      ioServiceTimeRecursive: [],
      ioWaitTimeRecursive: [],
      ioMergedRecursive: [],
      ioTimeRecursive: [],
      sectorsRecursive: [],
    },
    hugetlb: {},
  };
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// Go's omitempty: drop zero numbers, empty strings and empty slices/maps.
function put(obj: { [key: string]: Json }, name: string, value: number | string | number[], omitEmpty: boolean): void {
  if (omitEmpty && (value === 0 || value === "" || (Array.isArray(value) && value.length === 0))) return;
  obj[name] = value;
}

function memoryEntryJson(e: MemoryEntry): Json {
  const o: { [key: string]: Json } = {};
  put(o, "limit", e.limit, false);
  put(o, "usage", e.usage, true);
  put(o, "max", e.max, true);
  put(o, "failcnt", e.failcnt, false);
  return o;
}

function blkioJson(list: BlkioEntry[]): Json {
  return list.map((e) => {
    const o: { [key: string]: Json } = {};
    put(o, "major", e.major, true);
    put(o, "minor", e.minor, true);
    put(o, "op", e.op, true);
    put(o, "value", e.value, true);
    return o;
  });
}

/** The `data` object of a runc "stats" event. */
export function runcStatsData(s: CgroupStats): Json {
  const usage: { [key: string]: Json } = {};
  put(usage, "total", s.cpu.usage.total, true);
  put(usage, "percpu", s.cpu.usage.percpu, true);
  put(usage, "percpu_kernel", s.cpu.usage.percpuKernel, true);
  put(usage, "percpu_user", s.cpu.usage.percpuUser, true);
  put(usage, "kernel", s.cpu.usage.kernel, false);
  put(usage, "user", s.cpu.usage.user, false);
  const throttling: { [key: string]: Json } = {};
  put(throttling, "periods", s.cpu.throttling.periods, true);
  put(throttling, "throttledPeriods", s.cpu.throttling.throttledPeriods, true);
  put(throttling, "throttledTime", s.cpu.throttling.throttledTime, true);

  const c = s.cpuset;
  const cpuset: { [key: string]: Json } = {};
  put(cpuset, "cpus", c.cpus, true);
  put(cpuset, "cpu_exclusive", c.cpuExclusive, false);
  put(cpuset, "mems", c.mems, true);
  put(cpuset, "mem_hardwall", c.memHardwall, false);
  put(cpuset, "mem_exclusive", c.memExclusive, false);
  put(cpuset, "memory_migrate", c.memoryMigrate, false);
  put(cpuset, "memory_spread_page", c.memorySpreadPage, false);
  put(cpuset, "memory_spread_slab", c.memorySpreadSlab, false);
  put(cpuset, "memory_pressure", c.memoryPressure, false);
  put(cpuset, "sched_load_balance", c.schedLoadBalance, false);
  put(cpuset, "sched_relax_domain_level", c.schedRelaxDomainLevel, false);

  const memory: { [key: string]: Json } = {};
  put(memory, "cache", s.memory.cache, true);
  memory["usage"] = memoryEntryJson(s.memory.usage);
  memory["swap"] = memoryEntryJson(s.memory.swap);
  memory["kernel"] = memoryEntryJson(s.memory.kernel);
  memory["kernelTCP"] = memoryEntryJson(s.memory.kernelTCP);
  const rawKeys = Object.keys(s.memory.raw).sort();
  if (rawKeys.length > 0) memory["raw"] = Object.fromEntries(rawKeys.map((k) => [k, s.memory.raw[k]!]));

  const pids: { [key: string]: Json } = {};
  put(pids, "current", s.pids.current, true);
  put(pids, "limit", s.pids.limit, true);

  const blkio: { [key: string]: Json } = {};
  for (const [name, list] of Object.entries(s.blkio) as [string, BlkioEntry[]][]) {
    if (list.length > 0) blkio[name] = blkioJson(list);
  }

  const hugetlb: { [key: string]: Json } = {};
  for (const size of Object.keys(s.hugetlb).sort()) {
    const h = s.hugetlb[size]!;
    const o: { [key: string]: Json } = {};
    put(o, "usage", h.usage, true);
    put(o, "max", h.max, true);
    put(o, "failcnt", h.failcnt, false);
    hugetlb[size] = o;
  }

  return {
    cpu: { usage, throttling },
    cpuset,
    memory,
    pids,
    blkio,
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}

const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * JSON.stringify that prints large integers exactly as Go prints uint64 (2^63-4096 as
 * 9223372036854771712, not 9223372036854772000; 2^64 as math.MaxUint64).
 */
export function stringifyExact(value: unknown, indent?: number): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v)) {
        return rawJSON(v >= 2 ** 64 ? "18446744073709551615" : BigInt(v).toString());
      }
      return v;
    },
    indent,
  );
}
