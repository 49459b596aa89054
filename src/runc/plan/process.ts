// The process side of a plan: rlimits, identity, capabilities, no_new_privs, seccomp, execve.
// The order is the point: the bounding set is dropped while CAP_SETPCAP is still held, ids are
// changed with KEEPCAPS so the permitted set survives, and seccomp comes last when it can.
import { InvalidSpecError } from "../../common/errors.ts";
import { readFileInRoot } from "../../common/in-root.ts";
import { capabilityNumber } from "../config/capabilities.ts";
import { idRangeProblem } from "../config/decode.ts";
import { MAX_ADDITIONAL_GIDS } from "../config/process.ts";
import { rlimitNumber } from "../config/rlimits.ts";
import type { Capabilities, Process, User } from "../config/types.ts";
import type { PlanOp } from "./ops.ts";

export interface CompiledFilter {
  program: Buffer;
  flags: number;
  /** Set when seccomp() returns a notify fd for an agent there (some rule is SCMP_ACT_NOTIFY). */
  listenerPath?: string;
}

const RLIM_INFINITY = 0xffffffffffffffffn;

function capMask(names: readonly string[] | undefined, field: string, lastCap: number): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const n = capabilityNumber(name);
    if (n === undefined) throw new InvalidSpecError(`${field}[${i}]`, `unknown capability ${JSON.stringify(name)}`);
    // A capability the running kernel does not know is skipped, as runc does.
    if (n <= lastCap) mask |= 1n << BigInt(n);
  });
  return mask;
}

export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export function capabilityMasks(caps: Capabilities | undefined, lastCap: number): CapabilityMasks {
  const f = "process.capabilities";
  return {
    bounding: capMask(caps?.bounding, `${f}.bounding`, lastCap),
    effective: capMask(caps?.effective, `${f}.effective`, lastCap),
    permitted: capMask(caps?.permitted, `${f}.permitted`, lastCap),
    inheritable: capMask(caps?.inheritable, `${f}.inheritable`, lastCap),
    ambient: capMask(caps?.ambient, `${f}.ambient`, lastCap),
  };
}

export function rlimitOps(proc: Process): PlanOp[] {
  return (proc.rlimits ?? []).map((r, i) => {
    const n = rlimitNumber(r.type);
    if (n === undefined)
      throw new InvalidSpecError(`process.rlimits[${i}].type`, `unknown rlimit ${JSON.stringify(r.type)}`);
    const v = (x: number) => (x >= 2 ** 64 - 1 ? RLIM_INFINITY : BigInt(x));
    return { op: "RLIMIT", args: [n, v(r.soft), v(r.hard)] };
  });
}

/** A passwd(5) bigger than this is not read (HOME stays "/"): it comes from the image. */
export const MAX_PASSWD_BYTES = 1024 * 1024;

/** The home directory field of the first passwd(5) entry for `uid`, if any. */
export function homeFromPasswd(passwd: string, uid: number): string | undefined {
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f.length >= 7 && f[2] !== "" && Number(f[2]) === uid && f[5]) return f[5];
  }
  return undefined;
}

/**
 * HOME from the container's /etc/passwd when the spec's env lacks it, as runc does; "/" when
 * there is no entry, or no regular file of sane size at that path as the container sees it.
 */
export function processEnv(proc: Process, rootfs: string | undefined): string[] {
  const env = [...(proc.env ?? [])];
  if (!env.some((e) => e.startsWith("HOME="))) {
    const passwd = rootfs ? readFileInRoot(rootfs, "/etc/passwd", { maxBytes: MAX_PASSWD_BYTES }) : undefined;
    const home = passwd ? homeFromPasswd(passwd.toString("utf8"), proc.user.uid) : undefined;
    env.push(`HOME=${home ?? "/"}`);
  }
  return env;
}

function pathOf(env: readonly string[]): string {
  const p = env.find((e) => e.startsWith("PATH="));
  return p ? p.slice(5) : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

export interface FinalizeOptions {
  proc: Process;
  env: string[];
  lastCap: number;
  seccomp?: CompiledFilter;
  /** Ops to run after the identity is set but before seccomp/exec (e.g. the exec fifo wait). */
  beforeExec: PlanOp[];
  /** Number of fds, from 3 on, handed to the process (--preserve-fds, LISTEN_FDS). */
  preserveFds: number;
}

/**
 * The ids are checked again where they become syscalls: exec's --user and -g flags, and any
 * in-process caller, reach the plan without going through the spec decoder.
 */
function checkIdentity(user: User): void {
  const check = (id: number, field: string): void => {
    const problem = idRangeProblem(id);
    if (problem !== undefined) throw new InvalidSpecError(field, problem);
  };
  check(user.uid, "process.user.uid");
  check(user.gid, "process.user.gid");
  const gids = user.additionalGids ?? [];
  for (const [i, g] of gids.entries()) check(g, `process.user.additionalGids[${i}]`);
  if (gids.length > MAX_ADDITIONAL_GIDS) {
    throw new InvalidSpecError(
      "process.user.additionalGids",
      `too many groups: ${gids.length} (at most ${MAX_ADDITIONAL_GIDS})`,
    );
  }
}

export function finalizeOps(o: FinalizeOptions): PlanOp[] {
  const { proc } = o;
  checkIdentity(proc.user);
  const caps = capabilityMasks(proc.capabilities, o.lastCap);
  const seccompOp: PlanOp | undefined = o.seccomp && {
    op: "SECCOMP",
    // The notify fd goes back to nsexec's parent half, which holds the agent's connection.
    args: [o.seccomp.flags, o.seccomp.program, o.seccomp.listenerPath ? 1 : 0],
  };
  const args = proc.args ?? [];
  const path = pathOf(o.env);
  const ops: PlanOp[] = [];
  ops.push({ op: "CLOSE_FDS", args: [3 + o.preserveFds] });
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the process is about to lose.
  if (seccompOp && !proc.noNewPrivileges) ops.push(seccompOp);
  // cwd first while still root (it may be unreadable to the final user's groups otherwise).
  ops.push({ op: "CHDIR", args: [proc.cwd] });
  ops.push({ op: "DROP_BOUNDING", args: [caps.bounding] });
  ops.push({ op: "KEEPCAPS", args: [1] });
  ops.push({ op: "SETGROUPS", args: [...(proc.user.additionalGids ?? [])] });
  ops.push({ op: "SETRESGID", args: [proc.user.gid] });
  ops.push({ op: "SETRESUID", args: [proc.user.uid] });
  ops.push({ op: "KEEPCAPS", args: [0] });
  ops.push({ op: "CAPSET", args: [caps.effective, caps.permitted, caps.inheritable] });
  if (caps.ambient !== 0n) ops.push({ op: "AMBIENT", args: [caps.ambient] });
  if (proc.noNewPrivileges) ops.push({ op: "NO_NEW_PRIVS", args: [] });
  // A missing executable is an error of `create`, not of `start`.
  ops.push({ op: "LOOKUP", args: [path, args[0] ?? ""] });
  // With no_new_privs the filter goes as close to execve as possible: fewer syscalls to allow.
  if (seccompOp && proc.noNewPrivileges) ops.push(seccompOp);
  ops.push(...o.beforeExec);
  ops.push({ op: "EXEC", args: [path, args.length, ...args, ...o.env] });
  return ops;
}
