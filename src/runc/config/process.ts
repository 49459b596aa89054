// The process object (config.json's `process`, and the process.json that `exec --process` reads).
import { isKnownCapability } from "./capabilities.ts";
import {
  array,
  boolean,
  type DecodeContext,
  exactInteger,
  fail,
  INT32,
  integer,
  isAbsent,
  type JsonObject,
  object,
  oneOf,
  optionalBoolean,
  optionalInteger,
  optionalString,
  optionalStringArray,
  put,
  string,
  stringArray,
  UINT32,
  UINT64,
  userOrGroupId,
} from "./decode.ts";
import { isRlimInfinity, rlimitNumber } from "./rlimits.ts";
import type { Capabilities, Process, Rlimit, User } from "./types.ts";

export const MAX_ADDITIONAL_GIDS = 65535;

const CAPABILITY_SETS = ["bounding", "effective", "inheritable", "permitted", "ambient"] as const;
const IOPRIO_CLASSES = ["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"] as const;
const SCHED_POLICIES = [
  "SCHED_OTHER",
  "SCHED_FIFO",
  "SCHED_RR",
  "SCHED_BATCH",
  "SCHED_ISO",
  "SCHED_IDLE",
  "SCHED_DEADLINE",
] as const;
const SCHED_FLAGS = [
  "SCHED_FLAG_RESET_ON_FORK",
  "SCHED_FLAG_RECLAIM",
  "SCHED_FLAG_DL_OVERRUN",
  "SCHED_FLAG_KEEP_POLICY",
  "SCHED_FLAG_KEEP_PARAMS",
  "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX",
] as const;

function decodeUser(value: unknown, field: string): User {
  const o = object(value, field);
  const user: User = {
    uid: userOrGroupId(o.uid, `${field}.uid`),
    gid: userOrGroupId(o.gid, `${field}.gid`),
  };
  if (!isAbsent(o.umask)) {
    // Only the permission bits mean anything to umask(2); a larger value is a mistake.
    user.umask = integer(o.umask, `${field}.umask`, [0n, 0o777n]);
  }
  if (!isAbsent(o.additionalGids)) {
    const gids = array(o.additionalGids, `${field}.additionalGids`, userOrGroupId);
    // Each gid is one argument of the plan's SETGROUPS op, whose count is 16 bits wide (the
    // kernel's own limit, NGROUPS_MAX, is 65536).
    if (gids.length > MAX_ADDITIONAL_GIDS) {
      fail(`${field}.additionalGids`, `too many groups: ${gids.length} (at most ${MAX_ADDITIONAL_GIDS})`);
    }
    user.additionalGids = gids;
  }
  put(user, "username", optionalString(o.username, `${field}.username`));
  return user;
}

/**
 * Capability names must have the CAP_ form. A well-formed name this build does not know (a newer
 * kernel's) is dropped with a warning: the runtime-spec says not to fail on capabilities that
 * cannot be granted, and runc 1.1 ignores unknown ones likewise.
 */
function decodeCapabilities(value: unknown, field: string, ctx: DecodeContext): Capabilities {
  const o = object(value, field);
  const caps: Capabilities = {};
  for (const set of CAPABILITY_SETS) {
    if (isAbsent(o[set])) continue;
    const names = stringArray(o[set], `${field}.${set}`);
    const kept: string[] = [];
    names.forEach((name, i) => {
      const f = `${field}.${set}[${i}]`;
      if (!/^CAP_[A-Z0-9_]+$/.test(name)) fail(f, `${JSON.stringify(name)} is not a capability name (CAP_*)`);
      if (isKnownCapability(name)) kept.push(name);
      else ctx.warn(f, `unknown capability ${JSON.stringify(name)} ignored`);
    });
    caps[set] = kept;
  }
  return caps;
}

function decodeRlimits(value: unknown, field: string): Rlimit[] {
  const seen = new Map<string, string>();
  return array(value, field, (raw, f) => {
    const o = object(raw, f);
    const type = string(o.type, `${f}.type`);
    if (rlimitNumber(type) === undefined) fail(`${f}.type`, `unknown rlimit type ${JSON.stringify(type)}`);
    const first = seen.get(type);
    if (first !== undefined) fail(`${f}.type`, `duplicate rlimit ${JSON.stringify(type)} (also at ${first})`);
    seen.set(type, f);
    // Compared exactly: 2^64-1 (unlimited) and 2^64-2 are the same double.
    const soft = BigInt(exactInteger(o.soft, `${f}.soft`, UINT64));
    const hard = BigInt(exactInteger(o.hard, `${f}.hard`, UINT64));
    if (soft > hard) fail(`${f}.soft`, `soft limit ${soft} is greater than hard limit ${hard}`);
    const rl: Rlimit = { type, soft: Number(soft), hard: Number(hard) };
    // Keep "unlimited" unambiguous: only 2^64-1 may become a double >= 2^64.
    if (isRlimInfinity(rl.soft) && soft !== UINT64[1]) rl.soft = 2 ** 64 - 2 ** 11;
    if (isRlimInfinity(rl.hard) && hard !== UINT64[1]) rl.hard = 2 ** 64 - 2 ** 11;
    return rl;
  });
}

function decodeScheduler(value: unknown, field: string): Record<string, unknown> {
  const o = object(value, field);
  const policy = oneOf(o.policy, `${field}.policy`, SCHED_POLICIES);
  const out: Record<string, unknown> = { policy };
  const nice = optionalInteger(o.nice, `${field}.nice`, INT32);
  if (nice !== undefined) {
    if (nice < -20 || nice > 19) fail(`${field}.nice`, `must be within [-20, 19], got ${nice}`);
    out.nice = nice;
  }
  const priority = optionalInteger(o.priority, `${field}.priority`, INT32);
  if (priority !== undefined) {
    if (priority !== 0 && policy !== "SCHED_FIFO" && policy !== "SCHED_RR") {
      fail(`${field}.priority`, "can only be set for the SCHED_FIFO and SCHED_RR policies");
    }
    out.priority = priority;
  }
  if (!isAbsent(o.flags)) out.flags = array(o.flags, `${field}.flags`, (v, f) => oneOf(v, f, SCHED_FLAGS));
  for (const key of ["runtime", "deadline", "period"] as const) {
    const v = optionalInteger(o[key], `${field}.${key}`, UINT64);
    if (v === undefined) continue;
    if (v !== 0 && policy !== "SCHED_DEADLINE")
      fail(`${field}.${key}`, "can only be set for the SCHED_DEADLINE policy");
    out[key] = v;
  }
  return out;
}

export function decodeProcess(value: unknown, field: string, ctx: DecodeContext): Process {
  const o: JsonObject = object(value, field);
  if (isAbsent(o.user)) fail(`${field}.user`, "is required");
  if (isAbsent(o.cwd) || o.cwd === "") fail(`${field}.cwd`, "is required");
  const cwd = string(o.cwd, `${field}.cwd`);
  if (!cwd.startsWith("/")) fail(`${field}.cwd`, `must be an absolute path, got ${JSON.stringify(cwd)}`);
  const p: Process = { user: decodeUser(o.user, `${field}.user`), cwd };

  const terminal = optionalBoolean(o.terminal, `${field}.terminal`);
  put(p, "terminal", terminal);
  if (!isAbsent(o.consoleSize)) {
    const cs = object(o.consoleSize, `${field}.consoleSize`);
    const size = {
      height: integer(cs.height, `${field}.consoleSize.height`, UINT32),
      width: integer(cs.width, `${field}.consoleSize.width`, UINT32),
    };
    // The runtime-spec says to ignore consoleSize without a terminal, so it is dropped, not refused.
    if (terminal === true) p.consoleSize = size;
    else ctx.warn(`${field}.consoleSize`, "ignored: process.terminal is not true");
  }

  const args = optionalStringArray(o.args, `${field}.args`);
  if (args !== undefined) {
    if (args.length === 0) fail(`${field}.args`, "must not be empty");
    p.args = args;
  }
  put(p, "commandLine", optionalString(o.commandLine, `${field}.commandLine`));
  put(p, "env", optionalStringArray(o.env, `${field}.env`));
  checkExecStrings(p.args, p.env, field);
  if (!isAbsent(o.capabilities)) p.capabilities = decodeCapabilities(o.capabilities, `${field}.capabilities`, ctx);
  if (!isAbsent(o.rlimits)) p.rlimits = decodeRlimits(o.rlimits, `${field}.rlimits`);
  if (!isAbsent(o.noNewPrivileges)) p.noNewPrivileges = boolean(o.noNewPrivileges, `${field}.noNewPrivileges`);
  put(p, "apparmorProfile", optionalLabel(o.apparmorProfile, `${field}.apparmorProfile`));
  const oom = optionalInteger(o.oomScoreAdj, `${field}.oomScoreAdj`, INT32);
  if (oom !== undefined) {
    if (oom < -1000 || oom > 1000) fail(`${field}.oomScoreAdj`, `must be within [-1000, 1000], got ${oom}`);
    p.oomScoreAdj = oom;
  }
  put(p, "selinuxLabel", optionalLabel(o.selinuxLabel, `${field}.selinuxLabel`));
  if (!isAbsent(o.ioPriority)) {
    const io = object(o.ioPriority, `${field}.ioPriority`);
    const priority = integer(io.priority, `${field}.ioPriority.priority`, INT32);
    if (priority < 0 || priority > 7) fail(`${field}.ioPriority.priority`, `must be within [0, 7], got ${priority}`);
    p.ioPriority = { class: oneOf(io.class, `${field}.ioPriority.class`, IOPRIO_CLASSES), priority };
  }
  if (!isAbsent(o.scheduler)) p.scheduler = decodeScheduler(o.scheduler, `${field}.scheduler`);
  if (!isAbsent(o.execCPUAffinity)) {
    const a = object(o.execCPUAffinity, `${field}.execCPUAffinity`);
    const affinity: { initial?: string; final?: string } = {};
    put(affinity, "initial", optionalCpuList(a.initial, `${field}.execCPUAffinity.initial`));
    put(affinity, "final", optionalCpuList(a.final, `${field}.execCPUAffinity.final`));
    p.execCPUAffinity = affinity;
  }
  return p;
}

/** An LSM profile or label: it travels as a NUL-terminated string, which a NUL would cut short. */
export function optionalLabel(value: unknown, field: string): string | undefined {
  const s = optionalString(value, field);
  if (s?.includes("\0")) fail(field, "must not contain a NUL byte");
  return s;
}

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** A cpuset list such as "0-3,6"; the empty string means "unset". */
export function optionalCpuList(value: unknown, field: string): string | undefined {
  const s = optionalString(value, field);
  if (s !== undefined && s !== "" && !CPU_LIST.test(s))
    fail(field, `${JSON.stringify(s)} is not a CPU list like "0-3,6"`);
  return s;
}

/**
 * How many args and env entries a process (or hook) may have together: each is one argument of the
 * native stage's exec op, whose argument count is 16 bits (65,535, of which the op itself takes up
 * to four, and the runtime may add HOME). runc has no such limit; past it we refuse rather than hang.
 */
export const MAX_ARGS_AND_ENV = 65_000;

/**
 * args and env as execve will get them: an entry with a NUL would be cut there (C strings), so it is
 * refused, and there must not be more of them than the plan can carry. `field` is "process" or a
 * hook's path ("hooks.prestart[0]").
 */
export function checkExecStrings(
  args: readonly string[] | undefined,
  env: readonly string[] | undefined,
  field: string,
): void {
  for (const [name, list] of [
    ["args", args],
    ["env", env],
  ] as const) {
    const i = list?.findIndex((s) => s.includes("\0")) ?? -1;
    if (i >= 0) fail(`${field}.${name}[${i}]`, "must not contain a NUL byte");
  }
  const nArgs = args?.length ?? 0;
  const nEnv = env?.length ?? 0;
  if (nArgs + nEnv > MAX_ARGS_AND_ENV) {
    const [name, n, otherName, other] = nEnv >= nArgs ? ["env", nEnv, "args", nArgs] : ["args", nArgs, "env", nEnv];
    fail(
      `${field}.${name}`,
      `${n} entries (and ${other} in ${field}.${otherName}): at most ${MAX_ARGS_AND_ENV} args and env entries together are supported`,
    );
  }
}

/** Process rules that hold only when the process is about to run. */
export function requireRunnable(p: Process, field: string): void {
  if (p.args === undefined) fail(`${field}.args`, "is required");
}
