// v1 blkio controller: weights (CFQ "blkio.*" or BFQ "blkio.bfq.*" files), throttling, stats.

import type { Resources, ThrottleDevice } from "../../config/types.ts";
import { fileExists, readOptional, writeCgroupFile } from "../fsutil.ts";
import type { BlkioEntry, BlkioStats, CgroupStats } from "../stats.ts";
import type { V1Controller } from "./controller.ts";

// With the BFQ scheduler the weight files carry a "bfq." infix; pick whichever this kernel has.
function weightFile(dir: string, name: string): string {
  if (!fileExists(dir, `blkio.${name}`) && fileExists(dir, `blkio.bfq.${name}`)) return `blkio.bfq.${name}`;
  return `blkio.${name}`;
}

function throttle(dir: string, file: string, list: ThrottleDevice[] | undefined): void {
  for (const t of list ?? []) writeCgroupFile(dir, file, `${t.major}:${t.minor} ${t.rate}`);
}

/** Parses "8:0 Read 123" / "8:0 123" lines; "Total N" summary lines are skipped. */
export function parseBlkioStat(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/[\s:]+/);
    if (f.length < 3) continue;
    const [major, minor] = [Number(f[0]), Number(f[1])];
    if (!Number.isInteger(major) || !Number.isInteger(minor)) continue;
    const op = f.length >= 4 ? f[2]! : "";
    out.push({ major, minor, op, value: Number(f[f.length - 1]) });
  }
  return out;
}

// Sources in order of preference; the first whose first file is present and non-empty wins.
const SOURCES: [string, keyof BlkioStats][][] = [
  [
    ["blkio.bfq.io_serviced_recursive", "ioServicedRecursive"],
    ["blkio.bfq.io_service_bytes_recursive", "ioServiceBytesRecursive"],
  ],
  [
    ["blkio.io_serviced_recursive", "ioServicedRecursive"],
    ["blkio.io_service_bytes_recursive", "ioServiceBytesRecursive"],
    ["blkio.sectors_recursive", "sectorsRecursive"],
    ["blkio.io_service_time_recursive", "ioServiceTimeRecursive"],
    ["blkio.io_wait_time_recursive", "ioWaitTimeRecursive"],
    ["blkio.io_merged_recursive", "ioMergedRecursive"],
    ["blkio.io_queued_recursive", "ioQueueRecursive"],
    ["blkio.time_recursive", "ioTimeRecursive"],
  ],
  [
    ["blkio.throttle.io_serviced_recursive", "ioServicedRecursive"],
    ["blkio.throttle.io_service_bytes_recursive", "ioServiceBytesRecursive"],
  ],
  [
    ["blkio.throttle.io_serviced", "ioServicedRecursive"],
    ["blkio.throttle.io_service_bytes", "ioServiceBytesRecursive"],
  ],
];

export const blkio: V1Controller = {
  name: "blkio",
  wants(r: Resources): boolean {
    const b = r.blockIO;
    if (b === undefined) return false;
    return Boolean(
      b.weight ||
        b.leafWeight ||
        b.weightDevice?.length ||
        b.throttleReadBpsDevice?.length ||
        b.throttleWriteBpsDevice?.length ||
        b.throttleReadIOPSDevice?.length ||
        b.throttleWriteIOPSDevice?.length,
    );
  },
  set(dir: string, r: Resources): void {
    const b = r.blockIO;
    if (b === undefined) return;
    if (b.weight) writeCgroupFile(dir, weightFile(dir, "weight"), String(b.weight));
    if (b.leafWeight) writeCgroupFile(dir, weightFile(dir, "leaf_weight"), String(b.leafWeight));
    for (const wd of b.weightDevice ?? []) {
      if (wd.weight !== undefined)
        writeCgroupFile(dir, weightFile(dir, "weight_device"), `${wd.major}:${wd.minor} ${wd.weight}`);
      if (wd.leafWeight !== undefined) {
        writeCgroupFile(dir, weightFile(dir, "leaf_weight_device"), `${wd.major}:${wd.minor} ${wd.leafWeight}`);
      }
    }
    throttle(dir, "blkio.throttle.read_bps_device", b.throttleReadBpsDevice);
    throttle(dir, "blkio.throttle.write_bps_device", b.throttleWriteBpsDevice);
    throttle(dir, "blkio.throttle.read_iops_device", b.throttleReadIOPSDevice);
    throttle(dir, "blkio.throttle.write_iops_device", b.throttleWriteIOPSDevice);
  },
  stats(dir: string, s: CgroupStats): void {
    for (const group of SOURCES) {
      const first = readOptional(dir, group[0]![0]);
      if (first === undefined || parseBlkioStat(first).length === 0) continue;
      for (const [file, field] of group) {
        const text = readOptional(dir, file);
        if (text !== undefined) s.blkio[field] = parseBlkioStat(text);
      }
      return;
    }
  },
};
