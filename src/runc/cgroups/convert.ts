// Pure conversions between runtime-spec values (cgroup v1 semantics) and cgroup file values.
// The formulas are the ones runc 1.1 uses, so a container gets the same limits under either runtime.

import { InvalidArgumentError } from "../../common/errors.ts";

/** cpu.shares (2..262144) -> cpu.weight (1..10000), linear. 0 means "unset". */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares < 2) return 1;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) -> io.weight (1..10000), linear. 0 means "unset". */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  if (weight < 10) return 1;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** v2 number formatting: 0/undefined = leave alone, -1 = "max". */
export function numToStr(v: number | undefined): string | undefined {
  if (v === undefined || v === 0) return undefined;
  if (v === -1) return "max";
  return String(v);
}

/**
 * The spec's memory.swap is memory+swap (v1's memsw); memory.swap.max wants swap alone.
 * Returns the value for memory.swap.max, or undefined to leave it alone.
 */
export function swapToV2(swap: number | undefined, memory: number | undefined): string | undefined {
  const s = swap ?? 0;
  const m = memory ?? 0;
  // "memory unlimited" with no explicit swap means both unlimited, as on v1.
  if (m === -1 && s === 0) return "max";
  if (s === 0) return undefined;
  if (s === -1) return "max";
  if (m === 0 || m === -1) throw new InvalidArgumentError("memory.swap: unable to set swap limit without memory limit");
  if (m < 0) throw new InvalidArgumentError(`memory.limit: invalid value ${m}`);
  if (s < m) throw new InvalidArgumentError("memory.swap: memory+swap limit should be >= memory limit");
  return String(s - m);
}

/** cpu.max "quota period"; undefined when neither is set. */
export function cpuMax(quota: number | undefined, period: number | undefined): string | undefined {
  const q = quota ?? 0;
  const p = period ?? 0;
  if (q === 0 && p === 0) return undefined;
  const head = q > 0 ? String(q) : "max";
  return p !== 0 ? `${head} ${p}` : head;
}

/** pids.max: a positive limit, otherwise unlimited. */
export function pidsMax(limit: number): string {
  return limit > 0 ? String(limit) : "max";
}

/** Expands a cpuset list ("0-3,8") into numbers, for stats. */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    if (part === "") continue;
    const [lo, hi] = part.split("-");
    const a = Number(lo);
    const b = hi === undefined ? a : Number(hi);
    if (!Number.isInteger(a) || !Number.isInteger(b)) continue;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

const UNITS = ["B", "KB", "MB", "GB", "TB", "PB"];

/** A huge page size in bytes -> the name cgroupfs uses ("2MB", "1GB", "64KB"). */
export function hugePageSizeName(bytes: number): string {
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v}${UNITS[i]}`;
}

/** "hugepages-2048kB" (a /sys/kernel/mm/hugepages entry) -> bytes. */
export function parseHugePageDir(name: string): number | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(name);
  return m ? Number(m[1]) * 1024 : undefined;
}
