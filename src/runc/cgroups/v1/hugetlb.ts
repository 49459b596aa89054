// v1 hugetlb: a limit file per page size (hugetlb.2MB.limit_in_bytes).
import type { Resources } from "../../spec/types.ts";
import { readOptional, readUintOptional, writeCgroupFile } from "../fsutil.ts";
import type { CgroupStats } from "../stats.ts";
import type { V1Controller } from "./controller.ts";

export const hugetlb: V1Controller = {
  name: "hugetlb",
  wants(r: Resources): boolean {
    return (r.hugepageLimits?.length ?? 0) > 0;
  },
  set(dir: string, r: Resources): void {
    for (const h of r.hugepageLimits ?? [])
      writeCgroupFile(dir, `hugetlb.${h.pageSize}.limit_in_bytes`, String(h.limit));
  },
  stats(dir: string, s: CgroupStats): void {
    for (const size of ["2MB", "1GB"]) {
      if (readOptional(dir, `hugetlb.${size}.usage_in_bytes`) === undefined) continue;
      s.hugetlb[size] = {
        usage: readUintOptional(dir, `hugetlb.${size}.usage_in_bytes`) ?? 0,
        max: readUintOptional(dir, `hugetlb.${size}.max_usage_in_bytes`) ?? 0,
        failcnt: readUintOptional(dir, `hugetlb.${size}.failcnt`) ?? 0,
      };
    }
  },
};
