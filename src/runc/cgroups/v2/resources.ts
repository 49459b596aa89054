// Writing linux.resources into a cgroup2 directory. Spec values carry v1 semantics, so several
// are converted (shares -> weight, memory+swap -> swap, blkio weight -> io weight).

import { InvalidArgumentError } from "../../../common/errors.ts";
import type { Resources, ThrottleDevice } from "../../config/types.ts";
import { blkioWeightToIoWeight, cpuMax, numToStr, pidsMax, sharesToWeight, swapToV2 } from "../convert.ts";
import { CgroupControllerMissingError, CgroupWriteError } from "../errors.ts";
import { fileExists, readOptional, writeCgroupFile } from "../fsutil.ts";
import { checkHugepageLimits, hugePageSizes } from "../hugepages.ts";
import { rdmaLines, setRdma } from "../rdma.ts";

/** Which v2 controllers the resources ask something of. Devices are not a v2 controller. */
export function wantedControllers(r: Resources): string[] {
  const out: string[] = [];
  const m = r.memory;
  if (m && (m.limit || m.reservation || m.swap)) out.push("memory");
  const c = r.cpu;
  if (c && (c.shares || c.quota || c.period || c.burst || c.idle)) out.push("cpu");
  if (c && (c.cpus || c.mems)) out.push("cpuset");
  if (r.pids !== undefined) out.push("pids");
  const b = r.blockIO;
  if (
    b &&
    (b.weight ||
      b.weightDevice?.length ||
      b.throttleReadBpsDevice?.length ||
      b.throttleWriteBpsDevice?.length ||
      b.throttleReadIOPSDevice?.length ||
      b.throttleWriteIOPSDevice?.length)
  ) {
    out.push("io");
  }
  if (r.hugepageLimits?.length) out.push("hugetlb");
  if (rdmaLines(r).length > 0) out.push("rdma");
  return out;
}

/** Rejects what v2 cannot express at all, before anything is written. */
export function checkV2Resources(r: Resources, available: Set<string>): void {
  if (r.cpu?.realtimePeriod || r.cpu?.realtimeRuntime) {
    throw new InvalidArgumentError("linux.resources.cpu: realtime scheduling settings are not supported on cgroup v2");
  }
  if (r.blockIO?.leafWeight || r.blockIO?.weightDevice?.some((w) => w.leafWeight !== undefined)) {
    throw new InvalidArgumentError("linux.resources.blockIO: leafWeight is not supported on cgroup v2");
  }
  if (r.network?.classID || r.network?.priorities?.length) {
    throw new InvalidArgumentError("linux.resources.network: net_cls/net_prio are not supported on cgroup v2");
  }
  for (const c of wantedControllers(r)) {
    if (!available.has(c)) throw new CgroupControllerMissingError(c);
  }
  for (const key of Object.keys(r.unified ?? {})) {
    if (key.includes("/") || key === "" || key === "." || key === "..") {
      throw new InvalidArgumentError(`linux.resources.unified: invalid key ${JSON.stringify(key)}`);
    }
  }
  if (r.hugepageLimits?.length) checkHugepageLimits(r.hugepageLimits, hugePageSizes());
}

function setMemory(dir: string, r: Resources): void {
  const m = r.memory;
  if (m === undefined) return;
  // memory == memory+swap comes out as "0": no swap at all.
  const swap = swapToV2(m.swap, m.limit);
  if (swap !== undefined) {
    try {
      // Swap first: memory.max may only shrink if swap can take the rest, and vice versa is harmless.
      writeCgroupFile(dir, "memory.swap.max", swap);
    } catch (err) {
      // Without swap accounting there is nothing to disable or lift.
      const ignorable = err instanceof CgroupWriteError && err.code === "ENOENT" && (swap === "max" || swap === "0");
      if (!ignorable) throw err;
    }
  }
  const max = numToStr(m.limit);
  if (max !== undefined) writeCgroupFile(dir, "memory.max", max);
  const low = numToStr(m.reservation);
  if (low !== undefined) writeCgroupFile(dir, "memory.low", low);
}

function setCpu(dir: string, r: Resources): void {
  const c = r.cpu;
  if (c === undefined) return;
  if (c.idle !== undefined && (c.idle !== 0 || fileExists(dir, "cpu.idle")))
    writeCgroupFile(dir, "cpu.idle", String(c.idle));
  const weight = sharesToWeight(c.shares ?? 0);
  if (weight !== 0) writeCgroupFile(dir, "cpu.weight", String(weight));
  const max = cpuMax(c.quota, c.period);
  if (max !== undefined) writeCgroupFile(dir, "cpu.max", max);
  if (c.burst !== undefined && (c.burst !== 0 || fileExists(dir, "cpu.max.burst"))) {
    writeCgroupFile(dir, "cpu.max.burst", String(c.burst));
  }
}

function ioMax(dir: string, key: string, list: ThrottleDevice[] | undefined): void {
  for (const t of list ?? []) writeCgroupFile(dir, "io.max", `${t.major}:${t.minor} ${key}=${t.rate}`);
}

function setIo(dir: string, r: Resources): void {
  const b = r.blockIO;
  if (b === undefined) return;
  // BFQ takes blkio-style weights directly; the generic io.weight needs converting.
  const bfq = fileExists(dir, "io.bfq.weight");
  if (b.weight) {
    if (bfq) writeCgroupFile(dir, "io.bfq.weight", String(b.weight));
    else writeCgroupFile(dir, "io.weight", String(blkioWeightToIoWeight(b.weight)));
  }
  for (const wd of b.weightDevice ?? []) {
    if (wd.weight === undefined) continue;
    if (bfq) writeCgroupFile(dir, "io.bfq.weight", `${wd.major}:${wd.minor} ${wd.weight}`);
    else writeCgroupFile(dir, "io.weight", `${wd.major}:${wd.minor} ${blkioWeightToIoWeight(wd.weight)}`);
  }
  ioMax(dir, "rbps", b.throttleReadBpsDevice);
  ioMax(dir, "wbps", b.throttleWriteBpsDevice);
  ioMax(dir, "riops", b.throttleReadIOPSDevice);
  ioMax(dir, "wiops", b.throttleWriteIOPSDevice);
}

function setUnified(dir: string, r: Resources, available: Set<string>): void {
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    try {
      writeCgroupFile(dir, key, value);
    } catch (err) {
      const controller = key.split(".")[0] ?? key;
      if (
        err instanceof CgroupWriteError &&
        err.code === "ENOENT" &&
        controller !== "cgroup" &&
        !available.has(controller)
      ) {
        throw new CgroupControllerMissingError(
          controller,
          `linux.resources.unified: cannot set ${key}: controller ${controller} is not available`,
        );
      }
      throw err;
    }
  }
}

/** The controllers usable in `dir` (its cgroup.controllers). */
export function availableControllers(dir: string): Set<string> {
  return new Set(
    (readOptional(dir, "cgroup.controllers") ?? "")
      .trim()
      .split(/\s+/)
      .filter((c) => c !== ""),
  );
}

export function setV2(dir: string, r: Resources): void {
  const available = availableControllers(dir);
  checkV2Resources(r, available);
  if (r.pids !== undefined) writeCgroupFile(dir, "pids.max", pidsMax(r.pids.limit));
  setMemory(dir, r);
  setIo(dir, r);
  setCpu(dir, r);
  if (r.cpu?.cpus) writeCgroupFile(dir, "cpuset.cpus", r.cpu.cpus);
  if (r.cpu?.mems) writeCgroupFile(dir, "cpuset.mems", r.cpu.mems);
  for (const l of r.hugepageLimits ?? []) writeCgroupFile(dir, `hugetlb.${l.pageSize}.max`, String(l.limit));
  setRdma(dir, r);
  // Last, so raw unified values override the converted ones, as with runc.
  setUnified(dir, r, available);
}
