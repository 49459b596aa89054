// rdma.max lines, the same on v1 and v2: "<device> hca_handle=N hca_object=M".

import type { Resources } from "../config/types.ts";
import { writeCgroupFile } from "./fsutil.ts";

export function rdmaLines(r: Resources): string[] {
  const out: string[] = [];
  for (const [device, limit] of Object.entries(r.rdma ?? {})) {
    const parts = [device];
    if (limit.hcaHandles !== undefined) parts.push(`hca_handle=${limit.hcaHandles}`);
    if (limit.hcaObjects !== undefined) parts.push(`hca_object=${limit.hcaObjects}`);
    if (parts.length > 1) out.push(parts.join(" "));
  }
  return out;
}

export function setRdma(dir: string, r: Resources): void {
  for (const line of rdmaLines(r)) writeCgroupFile(dir, "rdma.max", line);
}
