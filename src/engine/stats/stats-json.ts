// dockerd's stats JSON (types.StatsJSON) from two readings of a container's cgroup (berth-runc's
// CgroupStats), field for field, with Go's omitempty where dockerd's structs have it (a zero
// count is left out, a struct never is); a container that is not running gets the zero value with
// its name and id, as dockerd sends it. Pure.
import type { BlkioEntry, CgroupStats } from "../../runc/cgroups/stats.ts";

/** Go's zero time.Time as its JSON encoder writes it. */
export const ZERO_TIME = "0001-01-01T00:00:00Z";
/** cgroups write "no limit" as the largest int64 (v1) or "max" (read as 2^64): past 4 EiB is none. */
const NO_LIMIT = 2 ** 62;

export interface Reading {
  at: Date;
  version: 1 | 2;
  stats: CgroupStats;
  /** /proc/stat's total, ns. */
  systemCpu: number;
  onlineCpus: number;
  /** The limit shown for a container without one (dockerd's machine memory). */
  machineMemory: number;
}

/** Go's omitempty for numbers: the key only when the value is not zero. */
function nonZero(key: string, v: number | undefined): Record<string, number> {
  return v === undefined || v === 0 ? {} : { [key]: v };
}

function cpuStats(r: Reading | undefined): Record<string, unknown> {
  const u = r?.stats.cpu.usage;
  const t = r?.stats.cpu.throttling;
  return {
    cpu_usage: {
      total_usage: u?.total ?? 0,
      ...(u && u.percpu.length > 0 ? { percpu_usage: [...u.percpu] } : {}),
      usage_in_kernelmode: u?.kernel ?? 0,
      usage_in_usermode: u?.user ?? 0,
    },
    ...nonZero("system_cpu_usage", r?.systemCpu),
    ...nonZero("online_cpus", r?.onlineCpus),
    throttling_data: {
      periods: t?.periods ?? 0,
      throttled_periods: t?.throttledPeriods ?? 0,
      throttled_time: t?.throttledTime ?? 0,
    },
  };
}

type BlkioJson = { major: number; minor: number; op: string; value: number };

function blkioStats(r: Reading | undefined): Record<string, BlkioJson[] | null> {
  const b = r?.stats.blkio;
  const entries = (list: BlkioEntry[] | undefined, lower: boolean) =>
    (list ?? []).map((e) => ({
      major: e.major,
      minor: e.minor,
      op: lower ? e.op.toLowerCase() : e.op,
      value: e.value,
    }));
  const v1 = r?.version === 1;
  // dockerd copies every list on v1 (empty ones as []); on v2 only the first two, ops in lower case.
  const all = (list: BlkioEntry[] | undefined) => (v1 ? entries(list, false) : null);
  return {
    io_service_bytes_recursive: r ? entries(b?.ioServiceBytesRecursive, !v1) : null,
    io_serviced_recursive: r ? entries(b?.ioServicedRecursive, !v1) : null,
    io_queue_recursive: all(b?.ioQueueRecursive),
    io_service_time_recursive: all(b?.ioServiceTimeRecursive),
    io_wait_time_recursive: all(b?.ioWaitTimeRecursive),
    io_merged_recursive: all(b?.ioMergedRecursive),
    io_time_recursive: all(b?.ioTimeRecursive),
    sectors_recursive: all(b?.sectorsRecursive),
  };
}

function memoryStats(r: Reading | undefined): Record<string, unknown> {
  if (!r) return {};
  const m = r.stats.memory;
  const own = m.usage.limit > 0 && m.usage.limit < NO_LIMIT ? m.usage.limit : undefined;
  const limit = own === undefined || (r.machineMemory > 0 && own > r.machineMemory) ? r.machineMemory : own;
  const v1 = r.version === 1;
  return {
    ...nonZero("usage", m.usage.usage),
    ...(v1 ? nonZero("max_usage", m.usage.max) : {}),
    ...(Object.keys(m.raw).length > 0 ? { stats: { ...m.raw } } : {}),
    ...(v1 ? nonZero("failcnt", m.usage.failcnt) : {}),
    ...nonZero("limit", limit),
  };
}

/** One stats object: `cur` the reading now, `prev` the one before (precpu, preread); none: zeros. */
export function statsJson(
  container: { Name: string; ID: string },
  cur: Reading | undefined,
  prev: Reading | undefined,
): Record<string, unknown> {
  const pids = cur?.stats.pids;
  return {
    read: cur ? cur.at.toISOString() : ZERO_TIME,
    preread: prev ? prev.at.toISOString() : ZERO_TIME,
    pids_stats: pids
      ? { ...nonZero("current", pids.current), ...nonZero("limit", pids.limit < NO_LIMIT ? pids.limit : 0) }
      : {},
    blkio_stats: blkioStats(cur),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(cur),
    precpu_stats: cpuStats(prev),
    memory_stats: memoryStats(cur),
    name: container.Name,
    id: container.ID,
  };
}
