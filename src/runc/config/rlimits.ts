// RLIMIT_* names and resource numbers (Linux asm-generic values, used by x86_64, arm64, riscv...).
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

export function rlimitNumber(name: string): number | undefined {
  return Object.hasOwn(RLIMITS, name) ? RLIMITS[name] : undefined;
}

/**
 * RLIM_INFINITY is 2^64-1; a JSON number that large comes through as the double 2^64, so the
 * validated spec carries unlimited as any value >= 2^64 - 1 (as a double, exactly 2^64).
 */
export const RLIM_INFINITY_AS_NUMBER = 2 ** 64;

export function isRlimInfinity(value: number): boolean {
  return value >= RLIM_INFINITY_AS_NUMBER;
}
