// Validates linux.seccomp and turns it into normalized rules: actions encoded as seccomp return
// values, argument values as 64-bit bigints, and runc's splitting of rules that test one argument
// more than once. Errors name the offending field.

import { InvalidSpecError } from "../../common/errors.ts";
import { SECCOMP_ACTIONS, SECCOMP_OPERATORS } from "../config/seccomp-vocabulary.ts";
import type { Seccomp, SeccompAction, SeccompArg, SeccompOperator } from "../config/types.ts";
import { type ArchName, isArchName } from "./arch.ts";
import {
  EPERM,
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
} from "./constants.ts";

// The names config.json may use are the spec layer's vocabulary (validation and `features` use
// the same lists); this compiler accepts every one of them.
export const KNOWN_ACTIONS: readonly SeccompAction[] = SECCOMP_ACTIONS;
export const KNOWN_OPERATORS: readonly SeccompOperator[] = SECCOMP_OPERATORS;

/** Flag name -> seccomp() flag bit. TSYNC is accepted but sets nothing, as in runc: the caller is
 * single-threaded, and the kernel refuses TSYNC together with NEW_LISTENER. */
export const KNOWN_FLAGS: ReadonlyMap<string, number> = new Map([
  ["SECCOMP_FILTER_FLAG_TSYNC", 0],
  ["SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW],
  ["SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG],
  ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV],
]);

export interface Condition {
  index: number;
  op: SeccompOperator;
  /** For MASKED_EQ: the mask. */
  value: bigint;
  /** For MASKED_EQ: the datum; ignored by the other operators. */
  valueTwo: bigint;
}

export interface NormalizedRule {
  /** Index in linux.seccomp.syscalls, for error messages. */
  source: number;
  names: string[];
  action: SeccompAction;
  ret: number;
  /** OR of alternatives, each an AND of conditions. Usually a single alternative. */
  alternatives: Condition[][];
}

export interface NormalizedProfile {
  defaultAction: SeccompAction;
  defaultRet: number;
  architectures: ArchName[];
  flags: number;
  rules: NormalizedRule[];
}

const FIELD = "linux.seccomp";
const U64_MAX = (1n << 64n) - 1n;

/** Encodes an action as the filter's return value; errnoRet is only meaningful for ERRNO/TRACE. */
export function actionValue(
  action: SeccompAction,
  errnoRet: number | undefined,
  field: { action: string; errnoRet: string },
): number {
  if (errnoRet !== undefined && action !== "SCMP_ACT_ERRNO" && action !== "SCMP_ACT_TRACE") {
    // runtime-spec: "When the action doesn't support an errno, the runtime MUST print and error and fail."
    throw new InvalidSpecError(field.errnoRet, `errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE`);
  }
  if (errnoRet !== undefined && !(Number.isInteger(errnoRet) && errnoRet >= 0 && errnoRet <= 0xffff)) {
    throw new InvalidSpecError(field.errnoRet, `must be an integer from 0 to 65535, got ${errnoRet}`);
  }
  switch (action) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SECCOMP_RET_KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SECCOMP_RET_KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SECCOMP_RET_TRAP;
    case "SCMP_ACT_ERRNO":
      return (SECCOMP_RET_ERRNO | (errnoRet ?? EPERM)) >>> 0;
    case "SCMP_ACT_TRACE":
      // runc passes EPERM as the tracer's message when errnoRet is absent.
      return (SECCOMP_RET_TRACE | (errnoRet ?? EPERM)) >>> 0;
    case "SCMP_ACT_ALLOW":
      return SECCOMP_RET_ALLOW;
    case "SCMP_ACT_LOG":
      return SECCOMP_RET_LOG;
    case "SCMP_ACT_NOTIFY":
      return SECCOMP_RET_USER_NOTIF;
    default:
      throw new InvalidSpecError(field.action, `unknown seccomp action ${JSON.stringify(action)}`);
  }
}

function u64(v: unknown, field: string): bigint {
  if (typeof v === "bigint") {
    if (v >= 0n && v <= U64_MAX) return v;
  } else if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) {
    return BigInt(v);
  }
  throw new InvalidSpecError(field, `must be an unsigned 64-bit integer, got ${String(v)}`);
}

function condition(arg: SeccompArg, field: string): Condition {
  if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index > 5) {
    throw new InvalidSpecError(`${field}.index`, `must be 0 to 5, got ${arg.index}`);
  }
  if (!KNOWN_OPERATORS.includes(arg.op)) {
    throw new InvalidSpecError(`${field}.op`, `unknown seccomp operator ${JSON.stringify(arg.op)}`);
  }
  const value = u64(arg.value ?? 0, `${field}.value`);
  const valueTwo = u64(arg.valueTwo ?? 0, `${field}.valueTwo`);
  return { index: arg.index, op: arg.op, value, valueTwo };
}

function flagBits(flags: string[] | undefined): number {
  // Like current runc: with no flags field at all, ask for SPEC_ALLOW (no speculative-store-bypass
  // mitigation forced on the container); an explicit empty list means no flags.
  if (flags === undefined) return SECCOMP_FILTER_FLAG_SPEC_ALLOW;
  let bits = 0;
  flags.forEach((f, i) => {
    const bit = KNOWN_FLAGS.get(f);
    if (bit === undefined)
      throw new InvalidSpecError(`${FIELD}.flags[${i}]`, `unknown seccomp flag ${JSON.stringify(f)}`);
    bits |= bit;
  });
  return bits;
}

export function normalizeProfile(profile: Seccomp): NormalizedProfile {
  const defaultAction = profile.defaultAction;
  if (!KNOWN_ACTIONS.includes(defaultAction)) {
    throw new InvalidSpecError(`${FIELD}.defaultAction`, `unknown seccomp action ${JSON.stringify(defaultAction)}`);
  }
  if (defaultAction === "SCMP_ACT_NOTIFY") {
    // runc: the process could not even report its listener fd if every syscall waited on it.
    throw new InvalidSpecError(`${FIELD}.defaultAction`, "SCMP_ACT_NOTIFY cannot be used as the default action");
  }
  const defaultRet = actionValue(defaultAction, profile.defaultErrnoRet, {
    action: `${FIELD}.defaultAction`,
    errnoRet: `${FIELD}.defaultErrnoRet`,
  });

  const architectures: ArchName[] = [];
  (profile.architectures ?? []).forEach((a, i) => {
    if (!isArchName(a))
      throw new InvalidSpecError(`${FIELD}.architectures[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
    if (!architectures.includes(a)) architectures.push(a);
  });

  const rules = (profile.syscalls ?? []).map((sc, i): NormalizedRule => {
    const field = `${FIELD}.syscalls[${i}]`;
    if (!KNOWN_ACTIONS.includes(sc.action)) {
      throw new InvalidSpecError(`${field}.action`, `unknown seccomp action ${JSON.stringify(sc.action)}`);
    }
    const ret = actionValue(sc.action, sc.errnoRet, { action: `${field}.action`, errnoRet: `${field}.errnoRet` });
    const names = sc.names ?? [];
    names.forEach((n, j) => {
      if (typeof n !== "string" || n === "") throw new InvalidSpecError(`${field}.names[${j}]`, "empty syscall name");
      if (sc.action === "SCMP_ACT_NOTIFY" && n === "write") {
        // runc: the init process reports the listener fd with write(2), which must not block.
        throw new InvalidSpecError(`${field}.names[${j}]`, "SCMP_ACT_NOTIFY cannot be used for the write syscall");
      }
    });
    const conds = (sc.args ?? []).map((a, k) => condition(a, `${field}.args[${k}]`));
    // runc: when one argument index is tested twice, each condition becomes a rule of its own (OR).
    const indexes = new Set(conds.map((c) => c.index));
    const alternatives = indexes.size < conds.length ? conds.map((c) => [c]) : [conds];
    return { source: i, names, action: sc.action, ret, alternatives };
  });

  return { defaultAction, defaultRet, architectures, flags: flagBits(profile.flags), rules };
}
