// Linux security modules the spec asks for: an AppArmor profile the process changes to at execve,
// SELinux labels for the process and the container's mounts. A label that cannot be applied is an
// error, as with runc: a container that asked to be confined must never run unconfined.
import { InvalidSpecError } from "../../common/errors.ts";
import type { Process } from "../config/types.ts";
import type { PlanOp } from "./ops.ts";

/** What the host offers; found by container/host-lsm.ts, an input here so the policy stays pure. */
export interface HostLsm {
  /**
   * Where AppArmor takes "exec <profile>" (/proc/self/attr/apparmor/exec, or /proc/self/attr/exec
   * on kernels before 5.8); absent when AppArmor is not enabled.
   */
  apparmorExecAttr?: string;
  /** SELinux is enabled (berth-runc cannot apply its labels yet, so any label is refused). */
  selinux: boolean;
}

export const NO_LSM: HostLsm = Object.freeze({ selinux: false });

/**
 * Refuses what the host cannot apply and returns the ops that apply the rest. The ops run as root
 * inside the container, after its /proc is mounted and before the identity changes (the profile
 * takes effect at execve). An empty string means "unset", as runc reads it.
 */
export function lsmOps(proc: Process, mountLabel: string | undefined, host: HostLsm): PlanOp[] {
  if (mountLabel) {
    throw new InvalidSpecError("linux.mountLabel", selinuxProblem("selinux mount label", host));
  }
  if (proc.selinuxLabel) {
    throw new InvalidSpecError("process.selinuxLabel", selinuxProblem("selinux label", host));
  }
  const ops: PlanOp[] = [];
  if (proc.apparmorProfile) {
    if (host.apparmorExecAttr === undefined) {
      throw new InvalidSpecError("process.apparmorProfile", "apparmor: config provided but apparmor not supported");
    }
    ops.push({ op: "WRITE_PROC", args: [host.apparmorExecAttr, `exec ${proc.apparmorProfile}`] });
  }
  return ops;
}

function selinuxProblem(what: string, host: HostLsm): string {
  return host.selinux
    ? `${what} is specified in config, but berth-runc cannot apply SELinux labels`
    : `${what} is specified in config, but selinux is disabled or not supported`;
}
