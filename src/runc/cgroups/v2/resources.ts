// cgroup v2: the spec's resources written to the unified hierarchy's files, converted where v2
// counts differently (weights instead of shares, swap alone instead of memory+swap).
import { InvalidArgumentError } from "../../../common/errors.ts";
import type { Resources } from "../../spec/types.ts";
import { blkioWeightToIoWeight, cpuMax, pidsMax, sharesToWeight, swapToV2 } from "../convert.ts";
import { fileExists, writeCgroupFile } from "../fsutil.ts";

const limit = (v: number) => (v === -1 ? "max" : String(v));

/** The controllers a resources object needs enabled in the parent's cgroup.subtree_control. */
export function controllersFor(r: Resources): string[] {
  const out = new Set<string>();
  if (r.memory) out.add("memory");
  if (r.cpu?.shares || r.cpu?.quota || r.cpu?.period || r.cpu?.burst !== undefined || r.cpu?.idle !== undefined)
    out.add("cpu");
  if (r.cpu?.cpus || r.cpu?.mems) out.add("cpuset");
  if (r.pids) out.add("pids");
  if (r.blockIO) out.add("io");
  if (r.hugepageLimits?.length) out.add("hugetlb");
  return [...out];
}

export function setV2(dir: string, r: Resources): void {
  const m = r.memory;
  if (m) {
    if (m.limit !== undefined && m.limit !== 0) writeCgroupFile(dir, "memory.max", limit(m.limit));
    const swap = swapToV2(m.swap, m.limit);
    if (swap !== undefined && fileExists(dir, "memory.swap.max")) writeCgroupFile(dir, "memory.swap.max", swap);
    if (m.reservation !== undefined && m.reservation !== 0) writeCgroupFile(dir, "memory.low", limit(m.reservation));
  }
  const c = r.cpu;
  if (c) {
    if (c.shares) writeCgroupFile(dir, "cpu.weight", String(sharesToWeight(c.shares)));
    const max = cpuMax(c.quota, c.period);
    if (max !== undefined) writeCgroupFile(dir, "cpu.max", max);
    if (c.burst !== undefined) writeCgroupFile(dir, "cpu.max.burst", String(c.burst));
    if (c.idle !== undefined) writeCgroupFile(dir, "cpu.idle", String(c.idle));
    if (c.cpus) writeCgroupFile(dir, "cpuset.cpus", c.cpus);
    if (c.mems) writeCgroupFile(dir, "cpuset.mems", c.mems);
  }
  if (r.pids) writeCgroupFile(dir, "pids.max", pidsMax(r.pids.limit));
  const io = r.blockIO;
  if (io) {
    if (io.weight) writeCgroupFile(dir, "io.weight", `default ${blkioWeightToIoWeight(io.weight)}`);
    for (const d of io.weightDevice ?? []) {
      if (d.weight) writeCgroupFile(dir, "io.weight", `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight)}`);
    }
    const throttles: [keyof typeof io, string][] = [
      ["throttleReadBpsDevice", "rbps"],
      ["throttleWriteBpsDevice", "wbps"],
      ["throttleReadIOPSDevice", "riops"],
      ["throttleWriteIOPSDevice", "wiops"],
    ];
    for (const [key, name] of throttles) {
      const list = io[key] as { major: number; minor: number; rate: number }[] | undefined;
      for (const d of list ?? [])
        writeCgroupFile(dir, "io.max", `${d.major}:${d.minor} ${name}=${d.rate === 0 ? "max" : d.rate}`);
    }
  }
  for (const h of r.hugepageLimits ?? []) writeCgroupFile(dir, `hugetlb.${h.pageSize}.max`, limit(h.limit));
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    if (key.includes("/") || key.startsWith("."))
      throw new InvalidArgumentError(`linux.resources.unified: invalid file name ${JSON.stringify(key)}`);
    writeCgroupFile(dir, key, value);
  }
}
