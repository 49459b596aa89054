// The process an exec runs, as dockerd builds it: the container's own process (from the spec
// containerd keeps: capabilities, rlimits, no-new-privileges, AppArmor, user) with the exec's
// argv, environment, working directory and terminal laid over it; the exec's user when it names
// one (resolved by the caller against the container's /etc/passwd and /etc/group, with the
// container's GroupAdd); every capability of the kernel with Privileged. Pure.
import type { Capabilities, Process } from "../../runc/config/types.ts";
import { processEnv, replaceOrAppendEnv } from "../containers/spec/process.ts";
import type { ResolvedUser } from "../containers/spec/user.ts";
import type { ExecConfig } from "./decode.ts";

export interface ExecProcessInput {
  /** The container spec's `process` (the JSON containerd keeps); anything else counts as none. */
  base: unknown;
  exec: ExecConfig;
  /** The container's Config.Env and hostname: the environment starts as the container's did. */
  containerEnv: readonly string[];
  hostname: string;
  /** The exec's user, resolved; undefined: the container's. */
  user: ResolvedUser | undefined;
  /** Every capability of the running kernel (for Privileged). */
  allCapabilities: readonly string[];
  /** [height, width] from the start request, else the create's. */
  consoleSize: [number, number] | undefined;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === "string") ? [...v] : undefined;
}

/**
 * The capabilities a privileged exec gets: every one of the kernel's (`all`, in number order) that
 * the daemon's bounding set (/proc/self/status CapBnd, hex) holds; a runtime cannot give more (in a
 * container host, CAP_SYS_RESOURCE may be gone). An unreadable mask leaves the list as it is.
 */
export function heldCapabilities(all: readonly string[], capBndHex: string | undefined): string[] {
  if (capBndHex === undefined || !/^[0-9a-f]{1,16}$/i.test(capBndHex)) return [...all];
  const mask = BigInt(`0x${capBndHex}`);
  return all.filter((_c, n) => ((mask >> BigInt(n)) & 1n) === 1n);
}

/** The environment of an exec: the container's start environment (with the exec's TTY), then Env. */
export function execEnv(containerEnv: readonly string[], hostname: string, tty: boolean, env: readonly string[]) {
  return replaceOrAppendEnv(processEnv(containerEnv, hostname, tty), env);
}

export function execProcess(input: ExecProcessInput): Process {
  const base = record(input.base);
  const e = input.exec;
  const baseUser = record(base.user);
  const baseGids = Array.isArray(baseUser.additionalGids)
    ? baseUser.additionalGids.filter((g): g is number => typeof g === "number")
    : undefined;
  const user =
    input.user === undefined
      ? {
          uid: typeof baseUser.uid === "number" ? baseUser.uid : 0,
          gid: typeof baseUser.gid === "number" ? baseUser.gid : 0,
          ...(baseGids === undefined ? {} : { additionalGids: baseGids }),
        }
      : { uid: input.user.uid, gid: input.user.gid, additionalGids: [...input.user.additionalGids] };
  const bounding = e.Privileged ? [...input.allCapabilities] : (strings(record(base.capabilities).bounding) ?? []);
  // As the container's own process: one that is not root keeps the bounding set only.
  const capabilities: Capabilities =
    user.uid === 0 ? { bounding, effective: [...bounding], permitted: [...bounding] } : { bounding: [...bounding] };
  const cwd = e.WorkingDir !== "" ? e.WorkingDir : typeof base.cwd === "string" && base.cwd !== "" ? base.cwd : "/";
  const p: Process = {
    user,
    args: [...e.Cmd],
    env: execEnv(input.containerEnv, input.hostname, e.Tty, e.Env),
    cwd,
    capabilities,
  };
  if (e.Tty) {
    p.terminal = true;
    const size = input.consoleSize;
    if (size !== undefined && size[0] > 0 && size[1] > 0) p.consoleSize = { height: size[0], width: size[1] };
  }
  if (Array.isArray(base.rlimits)) p.rlimits = base.rlimits as Process["rlimits"];
  if (base.noNewPrivileges === true) p.noNewPrivileges = true;
  if (typeof base.apparmorProfile === "string") p.apparmorProfile = base.apparmorProfile;
  if (typeof base.selinuxLabel === "string") p.selinuxLabel = base.selinuxLabel;
  if (typeof base.oomScoreAdj === "number") p.oomScoreAdj = base.oomScoreAdj;
  return p;
}
