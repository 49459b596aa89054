// The huge page sizes this kernel supports, named as cgroupfs names them ("2MB", "1GB").

import { readdirSync } from "node:fs";
import { InvalidArgumentError } from "../../common/errors.ts";
import type { HugepageLimit } from "../config/types.ts";
import { hugePageSizeName, parseHugePageDir } from "./convert.ts";

export function hugePageSizes(sysDir = "/sys/kernel/mm/hugepages"): string[] {
  let names: string[];
  try {
    names = readdirSync(sysDir);
  } catch {
    return [];
  }
  return names
    .map(parseHugePageDir)
    .filter((b): b is number => b !== undefined)
    .sort((a, b) => a - b)
    .map(hugePageSizeName);
}

/** Rejects page sizes the kernel does not have, before anything is written. */
export function checkHugepageLimits(limits: HugepageLimit[], sizes: string[]): void {
  limits.forEach((l, i) => {
    if (!sizes.includes(l.pageSize)) {
      throw new InvalidArgumentError(
        `linux.resources.hugepageLimits[${i}].pageSize: ${JSON.stringify(l.pageSize)} is not supported (have: ${sizes.join(", ") || "none"})`,
      );
    }
  });
}
