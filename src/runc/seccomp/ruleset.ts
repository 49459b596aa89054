// Resolves normalized rules into per-arch syscall entries, merging several rules for one syscall
// the way libseccomp's rule database does, since runc's behaviour depends on it:
//  - a rule whose action equals the default action is dropped (runc skips it);
//  - a syscall unknown to the native arch is skipped everywhere (runc resolves names natively
//    first), and a syscall unknown to another arch is skipped for that arch;
//  - an unconditional rule beats every conditional rule for the same syscall, whatever the order,
//    and the first unconditional rule wins over later ones;
//  - conditional rules are OR-ed; identical conditions with different actions are an error
//    (libseccomp reports EEXIST and runc fails).

import { InvalidSpecError } from "../../common/errors.ts";
import type { ArchDef } from "./arch.ts";
import type { Condition, NormalizedProfile } from "./profile.ts";

export interface ConditionalRule {
  ret: number;
  conds: Condition[];
}

export interface SyscallEntry {
  nr: number;
  /** Set when an unconditional rule applies; then `rules` is empty. */
  unconditional?: number;
  rules: ConditionalRule[];
}

/** Narrows a condition to what the arch compares (32-bit arches see only the low word) and
 * drops tautologies (MASKED_EQ with an empty mask), as libseccomp does. */
function fitCondition(c: Condition, bits: 32 | 64): Condition | undefined {
  const mask = bits === 64 ? (1n << 64n) - 1n : 0xffffffffn;
  const fitted = { ...c, value: c.value & mask, valueTwo: c.valueTwo & mask };
  if (fitted.op === "SCMP_CMP_MASKED_EQ" && fitted.value === 0n) return undefined;
  return fitted;
}

const condKey = (conds: Condition[]): string =>
  JSON.stringify(
    conds
      .map((c) => [c.index, c.op, c.value.toString(), c.op === "SCMP_CMP_MASKED_EQ" ? c.valueTwo.toString() : ""])
      .sort(),
  );

export function resolveArch(profile: NormalizedProfile, arch: ArchDef, native: ArchDef): Map<number, SyscallEntry> {
  const entries = new Map<number, SyscallEntry>();
  const table = arch.syscalls;
  if (table === undefined) return entries;
  for (const rule of profile.rules) {
    if (rule.ret === profile.defaultRet) continue;
    for (const name of rule.names) {
      if (native.syscalls !== undefined && !native.syscalls.has(name)) continue;
      const nr = table.get(name);
      if (nr === undefined) continue;
      for (const alt of rule.alternatives) {
        const conds = alt.map((c) => fitCondition(c, arch.bits)).filter((c) => c !== undefined);
        addRule(entries, nr, rule.ret, conds, name, rule.source);
      }
    }
  }
  return entries;
}

function addRule(
  entries: Map<number, SyscallEntry>,
  nr: number,
  ret: number,
  conds: Condition[],
  name: string,
  source: number,
): void {
  let entry = entries.get(nr);
  if (entry === undefined) {
    entry = { nr, rules: [] };
    entries.set(nr, entry);
  }
  if (entry.unconditional !== undefined) return;
  if (conds.length === 0) {
    entry.unconditional = ret;
    entry.rules = [];
    return;
  }
  const key = condKey(conds);
  const same = entry.rules.find((r) => condKey(r.conds) === key);
  if (same === undefined) {
    entry.rules.push({ ret, conds });
  } else if (same.ret !== ret) {
    throw new InvalidSpecError(
      `linux.seccomp.syscalls[${source}]`,
      `syscall ${name} already has a rule with the same arguments and a different action`,
    );
  }
}

/** The largest syscall number the profile names for this arch (runc's -ENOSYS stub threshold). */
export function largestNamed(profile: NormalizedProfile, arch: ArchDef): number {
  let max = 0;
  for (const rule of profile.rules) {
    for (const name of rule.names) {
      const nr = arch.syscalls?.get(name);
      if (nr !== undefined && nr > max) max = nr;
    }
  }
  return max;
}
