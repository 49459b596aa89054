// Which Linux security modules this host has enabled (plan/lsm.ts decides what to do with them).
import { existsSync, readFileSync } from "node:fs";
import type { HostLsm } from "../plan/lsm.ts";

function appArmorEnabled(): boolean {
  try {
    return readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").startsWith("Y");
  } catch {
    return false;
  }
}

let cached: HostLsm | undefined;

/** Probed once per process: a module cannot be enabled or disabled without a reboot. */
export function hostLsm(): HostLsm {
  if (cached) return cached;
  const lsm: HostLsm = { selinux: existsSync("/sys/fs/selinux/enforce") };
  if (appArmorEnabled()) {
    // The per-module directory exists since Linux 5.8; older kernels have only the shared file.
    lsm.apparmorExecAttr = existsSync("/proc/self/attr/apparmor/exec")
      ? "/proc/self/attr/apparmor/exec"
      : "/proc/self/attr/exec";
  }
  cached = Object.freeze(lsm);
  return cached;
}
