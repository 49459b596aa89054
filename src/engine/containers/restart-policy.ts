// Restart policies (HostConfig.RestartPolicy: no, always, on-failure[:N], unless-stopped) as
// dockerd's restart manager applies them, as pure functions: whether an exit is followed by a
// start, after how long (the back-off), and which stopped containers a starting daemon starts.
// The manager keeps the timer and the state; nothing here touches a container.
import type { RestartPolicy } from "./spec/types.ts";

/**
 * dockerd's back-off: the first restart waits 100 ms, each next one twice as long, at most a
 * minute; a run of 10 s or more starts the series again.
 */
export const BACKOFF = { firstMs: 100, factor: 2, maxMs: 60_000, resetAfterRunMs: 10_000 } as const;

/** "" and "no" never restart. */
export function isNone(p: RestartPolicy): boolean {
  return p.Name === "" || p.Name === "no";
}

/**
 * The wait before the next restart, from the previous one (0: none yet) and how long the run
 * that just ended lasted. dockerd computes it at every exit, restart or not.
 */
export function nextDelayMs(previousMs: number, ranMs: number): number {
  if (ranMs >= BACKOFF.resetAfterRunMs || previousMs <= 0) return BACKOFF.firstMs;
  return Math.min(previousMs * BACKOFF.factor, BACKOFF.maxMs);
}

export interface ExitFacts {
  exitCode: number;
  /** Stopped or killed by a user (docker stop/kill, HasBeenManuallyStopped). */
  manuallyStopped: boolean;
  /** Restarts made so far (the record's RestartCount). */
  restartCount: number;
}

/**
 * Whether the policy starts the container again after this exit: always does, unless-stopped
 * unless a user stopped it, on-failure after a non-zero exit while the count is below its
 * maximum (0: no maximum).
 */
export function policyRestarts(p: RestartPolicy, f: ExitFacts): boolean {
  switch (p.Name) {
    case "always":
      return true;
    case "unless-stopped":
      return !f.manuallyStopped;
    case "on-failure":
      return f.exitCode !== 0 && (p.MaximumRetryCount === 0 || f.restartCount < p.MaximumRetryCount);
    default:
      return false;
  }
}

export interface RestartDecision {
  restart: boolean;
  /** The back-off after this exit (kept for the next one, whether or not this one restarts). */
  delayMs: number;
}

/**
 * What follows an exit of a running container. A stop or kill by a user ends every policy for
 * this run (dockerd cancels its restart manager), so `cancelled` wins over the policy.
 */
export function afterExit(
  p: RestartPolicy,
  f: ExitFacts & { cancelled: boolean; ranMs: number; previousDelayMs: number },
): RestartDecision {
  const delayMs = nextDelayMs(f.previousDelayMs, f.ranMs);
  if (isNone(p) || f.cancelled) return { restart: false, delayMs };
  return { restart: policyRestarts(p, f), delayMs };
}

/**
 * Whether a starting daemon starts a container that is not running: the policy asked as at an
 * exit, with the last exit code (dockerd's restore). So always starts even one a user stopped,
 * unless-stopped only one no user stopped, on-failure one that failed with retries left.
 */
export function startsOnBoot(p: RestartPolicy, f: ExitFacts): boolean {
  return !isNone(p) && policyRestarts(p, f);
}

/**
 * Whether `docker kill` with `signal` ends the policy (dockerd's ExitOnNext): SIGKILL does, and
 * the container's stop signal; without a stop signal set, every signal does.
 */
export function killEndsPolicy(signal: number, stopSignal: number | undefined): boolean {
  return signal === 9 || stopSignal === undefined || signal === stopSignal;
}
