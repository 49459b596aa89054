// Linux capability names and numbers (include/uapi/linux/capability.h). The list is fixed at
// build time; what the running kernel supports is read separately, because a container may ask
// for a capability the host kernel is too old to know.
import { readFileSync } from "node:fs";

export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

/** All known names, in capability-number order. */
export const CAPABILITY_NAMES: readonly string[] = Object.freeze(
  Object.keys(CAPABILITIES).sort((a, b) => CAPABILITIES[a]! - CAPABILITIES[b]!),
);

/** The highest capability number this build knows. */
export const CAP_LAST_KNOWN = 40;

export function capabilityNumber(name: string): number | undefined {
  return Object.hasOwn(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
}

export function isKnownCapability(name: string): boolean {
  return Object.hasOwn(CAPABILITIES, name);
}

/** Parses the text of /proc/sys/kernel/cap_last_cap; undefined when it is not a capability number. */
export function parseCapLastCap(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,2}$/.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return n < 64 ? n : undefined;
}

let cachedLastCap: number | undefined;

/**
 * The highest capability number the running kernel supports. Falls back to the highest one we
 * know when /proc is unreadable (better than refusing to start); cached, as it cannot change.
 */
export function kernelLastCap(): number {
  if (cachedLastCap !== undefined) return cachedLastCap;
  let text = "";
  try {
    text = readFileSync("/proc/sys/kernel/cap_last_cap", "utf8");
  } catch {
    // fall through to the compiled-in value
  }
  cachedLastCap = parseCapLastCap(text) ?? CAP_LAST_KNOWN;
  return cachedLastCap;
}
