// HostConfig's resource limits: checked with dockerd's words (verifyPlatformContainerResources)
// and mapped to linux.resources as dockerd maps them (devices.ts adds the device rules). Pure: what the host has (CPUs, memory
// nodes, cgroup version) comes in as HostFacts.
import { InvalidArgumentError } from "../../../common/errors.ts";
import type { Resources } from "../../../runc/config/types.ts";
import type { HostConfig } from "./types.ts";

/** What the host offers, read by the caller (runtime.NumCPU, the root cpuset, the cgroup version). */
export interface HostFacts {
  /** CPUs the daemon may use. */
  cpuCount: number;
  /** The CPUs and memory nodes a container may ask for ("0-1"). */
  cpusetCpus: string;
  cpusetMems: string;
  cgroupVersion: 1 | 2;
  /** /proc/sys/kernel/cap_last_cap. */
  lastCap: number;
  /** The running kernel's major.minor. */
  kernel: readonly [number, number];
  /** Go's name of the host architecture (amd64, arm64, ...). */
  goArch: string;
  /**
   * Whether the kernel accounts swap per cgroup (memory.memsw.* on v1, memory.swap.max on v2);
   * default true. Without it dockerd drops the swap limit with a warning, and so does berthd.
   */
  swapLimit?: boolean;
}

/** The smallest memory limit dockerd accepts (6 MiB). */
export const MIN_MEMORY = 6_291_456;
/** The CFS period --cpus uses. */
export const NANO_CPU_PERIOD = 100_000;

/** Go's parsers.ParseUintList: "0-2,4" as a set; undefined when malformed. */
export function parseUintList(list: string): Set<number> | undefined {
  const out = new Set<number>();
  if (list === "") return out;
  for (const part of list.split(",")) {
    const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(part);
    if (m === null) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

function checkCpuset(requested: string, available: string, what: "cpus" | "mems"): void {
  if (requested === "") return;
  const want = parseUintList(requested);
  if (want === undefined) {
    throw new InvalidArgumentError(`Invalid value ${requested} for cpuset ${what}: invalid format: ${requested}`);
  }
  const have = parseUintList(available) ?? new Set<number>();
  for (const n of want) {
    if (!have.has(n)) {
      const noun = what === "cpus" ? "CPUs" : "memory nodes";
      throw new InvalidArgumentError(
        `Requested ${noun} are not available - requested ${requested}, available: ${available}`,
      );
    }
  }
}

/** dockerd's checks of the resource fields, in its order; the first failure is the error. */
export function checkResources(h: HostConfig, host: HostFacts): void {
  const fail = (m: string): never => {
    throw new InvalidArgumentError(m);
  };
  if (h.Memory !== 0 && h.Memory < MIN_MEMORY) fail("Minimum memory limit allowed is 6MB");
  if (h.Memory > 0 && h.MemorySwap > 0 && h.MemorySwap < h.Memory) {
    fail("Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  if (h.Memory === 0 && h.MemorySwap > 0) {
    fail("You should always set the Memory limit when using Memoryswap limit, see usage");
  }
  const swappiness = h.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    fail(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (h.MemoryReservation > 0 && h.Memory > 0 && h.Memory < h.MemoryReservation) {
    fail("Minimum memory limit can not be less than memory reservation limit, see usage");
  }
  if (h.MemoryReservation !== 0 && h.MemoryReservation < MIN_MEMORY) fail("Minimum memory reservation allowed is 6MB");
  if (h.NanoCpus > 0 && h.CpuPeriod > 0) fail("Conflicting options: Nano CPUs and CPU Period cannot both be set");
  if (h.NanoCpus > 0 && h.CpuQuota > 0) fail("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
  if (h.NanoCpus < 0 || h.NanoCpus > host.cpuCount * 1e9) {
    fail(`Range of CPUs is from 0.01 to ${host.cpuCount}.00, as there are only ${host.cpuCount} CPUs available`);
  }
  if (h.CpuShares < 0) fail("shares: invalid argument");
  if (h.CpuPeriod !== 0 && (h.CpuPeriod < 1000 || h.CpuPeriod > 1_000_000)) {
    fail("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
  }
  if (h.CpuQuota !== 0 && h.CpuQuota < 1000) fail("CPU cfs quota can not be less than 1ms (i.e. 1000)");
  checkCpuset(h.CpusetCpus, host.cpusetCpus, "cpus");
  checkCpuset(h.CpusetMems, host.cpusetMems, "mems");
  if (h.ShmSize < 0) fail("SHM size can not be less than 0");
  if (h.OomScoreAdj < -1000 || h.OomScoreAdj > 1000) {
    fail(`Invalid value ${h.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
}

/** linux.resources from the checked HostConfig (without devices: build.ts adds them). */
export function resourcesFor(h: HostConfig, host: HostFacts): Resources {
  const r: Resources = {};
  const memory: NonNullable<Resources["memory"]> = {};
  if (h.Memory > 0) memory.limit = h.Memory;
  if (h.MemoryReservation > 0) memory.reservation = h.MemoryReservation;
  // dockerd gives twice the memory limit as memory+swap when none is asked; -1 is unlimited.
  if (host.swapLimit !== false) {
    if (h.MemorySwap > 0) memory.swap = h.MemorySwap;
    else if (h.MemorySwap === 0 && h.Memory > 0) memory.swap = h.Memory * 2;
  }
  if (h.MemorySwappiness !== undefined && h.MemorySwappiness >= 0 && host.cgroupVersion === 1) {
    memory.swappiness = h.MemorySwappiness;
  }
  if (h.OomKillDisable === true && host.cgroupVersion === 1) memory.disableOOMKiller = true;
  if (Object.keys(memory).length > 0) r.memory = memory;
  const cpu: NonNullable<Resources["cpu"]> = {};
  if (h.CpuShares > 0) cpu.shares = h.CpuShares;
  if (h.NanoCpus > 0) {
    cpu.quota = Math.floor((h.NanoCpus * NANO_CPU_PERIOD) / 1e9);
    cpu.period = NANO_CPU_PERIOD;
  }
  if (h.CpuQuota > 0) cpu.quota = h.CpuQuota;
  if (h.CpuPeriod > 0) cpu.period = h.CpuPeriod;
  if (h.CpusetCpus !== "") cpu.cpus = h.CpusetCpus;
  if (h.CpusetMems !== "") cpu.mems = h.CpusetMems;
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  // 0 and negative mean unlimited (dockerd drops them).
  if (h.PidsLimit !== undefined && h.PidsLimit > 0) r.pids = { limit: h.PidsLimit };
  return r;
}
