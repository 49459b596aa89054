// v1 pids controller.

import type { Resources } from "../../config/types.ts";
import { pidsMax } from "../convert.ts";
import { readUintOptional, UINT64_MAX, writeCgroupFile } from "../fsutil.ts";
import type { CgroupStats } from "../stats.ts";
import type { V1Controller } from "./controller.ts";

export const pids: V1Controller = {
  name: "pids",
  wants(r: Resources): boolean {
    return r.pids !== undefined;
  },
  set(dir: string, r: Resources): void {
    if (r.pids !== undefined) writeCgroupFile(dir, "pids.max", pidsMax(r.pids.limit));
  },
  stats(dir: string, s: CgroupStats): void {
    s.pids.current = readUintOptional(dir, "pids.current") ?? 0;
    const max = readUintOptional(dir, "pids.max") ?? 0;
    // runc reports "max" (no limit) as 0.
    s.pids.limit = max === UINT64_MAX ? 0 : max;
  },
};
