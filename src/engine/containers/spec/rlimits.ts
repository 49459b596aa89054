// process.rlimits from HostConfig.Ulimits. RLIM_INFINITY (a Ulimit of -1) does not fit a double:
// it is a bigint here, and build.ts's specJson writes it exactly.
import { InvalidArgumentError } from "../../../common/errors.ts";
import { RLIMIT_NAMES } from "../../../common/linux-names.ts";
import type { Rlimit } from "../../../runc/config/types.ts";
import type { HostConfig } from "./types.ts";

/** RLIM_INFINITY as a uint64: a Ulimit of -1. It does not fit a double; specJson writes it exactly. */
const RLIM_INFINITY = 18_446_744_073_709_551_615n;

/** process.rlimits from HostConfig.Ulimits, checked (known names, each once, soft <= hard, -1 unlimited). */
export function rlimitsFor(h: Pick<HostConfig, "Ulimits">): Rlimit[] {
  const seen = new Set<string>();
  return h.Ulimits.map((u) => {
    if (!RLIMIT_NAMES.has(u.Name)) throw new InvalidArgumentError(`wrong rlimit value: RLIMIT_${u.Name.toUpperCase()}`);
    if (seen.has(u.Name)) throw new InvalidArgumentError(`duplicate ulimit: ${u.Name}`);
    seen.add(u.Name);
    const value = (n: number) => {
      if (n === -1) return RLIM_INFINITY as unknown as number;
      if (n < 0) throw new InvalidArgumentError(`invalid ulimit ${u.Name}: ${n} (only -1, unlimited, may be negative)`);
      return n;
    };
    // -1 is unlimited: above every other value.
    const rank = (n: number) => (n === -1 ? Number.POSITIVE_INFINITY : n);
    if (rank(u.Soft) > rank(u.Hard)) {
      throw new InvalidArgumentError(
        `ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`,
      );
    }
    return { type: `RLIMIT_${u.Name.toUpperCase()}`, hard: value(u.Hard), soft: value(u.Soft) };
  });
}
