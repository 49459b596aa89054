// What stats need of the host: the system's CPU time (/proc/stat's cpu line, in ns, as dockerd
// reports system_cpu_usage), the online CPUs and the machine's memory (the limit shown for a
// container without one). Parsers pure; reads bounded.
import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";

const NS_PER_TICK = 10_000_000;

/** /proc/stat's first line: the sum of its jiffies in ns. Pure. */
export function systemCpuNs(procStat: string): number {
  const line = procStat.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) return 0;
  // user nice system idle iowait irq softirq steal (guest time is inside user already).
  return (
    line
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .reduce((sum, f) => sum + (/^\d+$/.test(f) ? Number(f) : 0), 0) * NS_PER_TICK
  );
}

/** MemTotal from /proc/meminfo, in bytes. Pure. */
export function memTotal(meminfo: string): number {
  const m = /^MemTotal:\s+(\d+) kB$/m.exec(meminfo);
  return m ? Number(m[1]) * 1024 : 0;
}

async function readSmall(path: string): Promise<string> {
  try {
    return (await readFile(path)).subarray(0, 1 << 20).toString("utf8");
  } catch {
    return "";
  }
}

export async function readSystemCpuNs(): Promise<number> {
  return systemCpuNs(await readSmall("/proc/stat"));
}

export async function readMachineMemory(): Promise<number> {
  return memTotal(await readSmall("/proc/meminfo"));
}

export function onlineCpus(): number {
  return availableParallelism();
}
