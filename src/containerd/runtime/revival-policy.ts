// When a berth-shim that died is started again for its tasks (manager.ts #revive). A shim that
// dies once (killed, OOM) is started again at once; one that keeps dying right after it starts
// (a bad binary, a bug its adoption hits every time) must not be restarted in a tight loop that
// burns the host's CPU and floods the log. So, within a window: each further restart waits twice
// as long as the last, and past a limit the shim is not started again and its tasks are cleaned
// up as a dead shim's (as systemd's StartLimitBurst stops a unit that keeps failing).

/** Restarts of one shim socket counted together. */
export const REVIVAL_WINDOW_MS = 60_000;
/** Restarts allowed within the window; the next one gives up. */
export const REVIVAL_LIMIT = 5;
/** The wait before the second restart within the window; doubled for each one after. */
export const REVIVAL_FIRST_DELAY_MS = 250;
export const REVIVAL_MAX_DELAY_MS = 8_000;

export type RevivalPlan = { giveUp: true; restarts: number } | { giveUp: false; delayMs: number };

/**
 * What to do about a shim that died again at `now`, given when it was restarted before (ms,
 * any order, older ones ignored).
 */
export function planRevival(previous: readonly number[], now: number): RevivalPlan {
  const recent = previous.filter((t) => now - t < REVIVAL_WINDOW_MS).length;
  if (recent >= REVIVAL_LIMIT) return { giveUp: true, restarts: recent };
  if (recent === 0) return { giveUp: false, delayMs: 0 };
  return { giveUp: false, delayMs: Math.min(REVIVAL_FIRST_DELAY_MS * 2 ** (recent - 1), REVIVAL_MAX_DELAY_MS) };
}
