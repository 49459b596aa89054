// v1 hugetlb controller.

import type { Resources } from "../../config/types.ts";
import { readUintOptional, writeCgroupFile } from "../fsutil.ts";
import { checkHugepageLimits, hugePageSizes } from "../hugepages.ts";
import type { CgroupStats } from "../stats.ts";
import type { V1Controller } from "./controller.ts";

export const hugetlb: V1Controller = {
  name: "hugetlb",
  wants(r: Resources): boolean {
    return (r.hugepageLimits?.length ?? 0) > 0;
  },
  set(dir: string, r: Resources): void {
    const limits = r.hugepageLimits ?? [];
    if (limits.length === 0) return;
    checkHugepageLimits(limits, hugePageSizes());
    for (const l of limits) writeCgroupFile(dir, `hugetlb.${l.pageSize}.limit_in_bytes`, String(l.limit));
  },
  stats(dir: string, s: CgroupStats): void {
    for (const size of hugePageSizes()) {
      const usage = readUintOptional(dir, `hugetlb.${size}.usage_in_bytes`);
      if (usage === undefined) continue;
      s.hugetlb[size] = {
        usage,
        max: readUintOptional(dir, `hugetlb.${size}.max_usage_in_bytes`) ?? 0,
        failcnt: readUintOptional(dir, `hugetlb.${size}.failcnt`) ?? 0,
      };
    }
  },
};
