// Health checks as dockerd keeps them (State.Health): the probe a HealthConfig asks for, the
// timings with dockerd's defaults, how a probe's result moves the status (starting, healthy,
// unhealthy) and the failing streak, the last five results with their output bounded to 4 KiB,
// and the status text `docker ps` shows. Pure; health-monitor.ts runs the probes.
import type { HealthConfig } from "./spec/types.ts";

export type HealthStatus = "starting" | "healthy" | "unhealthy";

export interface HealthResult {
  /** RFC 3339 with fractions. */
  Start: string;
  End: string;
  /** 0 healthy; anything else a failure; -1 when the probe could not run or timed out. */
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthResult[];
}

/** dockerd's bounds and defaults. */
export const HEALTH = {
  maxOutputBytes: 4_096,
  maxLogEntries: 5,
  intervalMs: 30_000,
  timeoutMs: 30_000,
  startPeriodMs: 0,
  startIntervalMs: 5_000,
  retries: 3,
} as const;

export interface HealthTimings {
  intervalMs: number;
  timeoutMs: number;
  startPeriodMs: number;
  startIntervalMs: number;
  retries: number;
}

const ms = (ns: number | undefined, fallback: number) => (ns === undefined || ns <= 0 ? fallback : ns / 1e6);

export function healthTimings(h: HealthConfig): HealthTimings {
  return {
    intervalMs: ms(h.Interval, HEALTH.intervalMs),
    timeoutMs: ms(h.Timeout, HEALTH.timeoutMs),
    startPeriodMs: ms(h.StartPeriod, HEALTH.startPeriodMs),
    startIntervalMs: ms(h.StartInterval, HEALTH.startIntervalMs),
    retries: h.Retries === undefined || h.Retries <= 0 ? HEALTH.retries : h.Retries,
  };
}

/**
 * The probe's argv: CMD's arguments, or CMD-SHELL's command under the shell; undefined when
 * there is none to run (no test, NONE, an unknown kind, an empty command).
 */
export function probeArgs(
  h: HealthConfig | undefined,
  shell: readonly string[] = ["/bin/sh", "-c"],
): string[] | undefined {
  const test = h?.Test;
  if (test === undefined || test.length === 0) return undefined;
  const [kind, ...rest] = test;
  if (kind === "CMD" && rest.length > 0) return rest;
  if (kind === "CMD-SHELL" && rest.length > 0) return [...shell, rest.join(" ")];
  return undefined;
}

/** Whether the container has a health check at all (State.Health is kept). */
export function hasHealthcheck(h: HealthConfig | undefined): boolean {
  return probeArgs(h) !== undefined;
}

/** At each start: starting, no failures yet; earlier results are kept (dockerd keeps them). */
export function startingHealth(prev: HealthState | undefined): HealthState {
  return { Status: "starting", FailingStreak: 0, Log: prev ? [...prev.Log] : [] };
}

/** At the exit: the container is not healthy any more (dockerd 20.10 shows "unhealthy"). */
export function stoppedHealth(h: HealthState): HealthState {
  return { ...h, Status: "unhealthy" };
}

/** The output as dockerd keeps it: at most 4 KiB, "..." after when more came. */
export function boundedOutput(output: Buffer, truncated: boolean): string {
  const kept = output.subarray(0, HEALTH.maxOutputBytes);
  return kept.toString("utf8") + (truncated || output.length > kept.length ? "..." : "");
}

/**
 * A probe's result applied (dockerd's handleProbeResult): a success makes it healthy; a failure
 * adds to the streak (not while starting within the start period), and `retries` failures in a
 * row make it unhealthy.
 */
export function applyResult(h: HealthState, result: HealthResult, t: HealthTimings, startedAtMs: number): HealthState {
  const log = [...h.Log, result].slice(-HEALTH.maxLogEntries);
  if (result.ExitCode === 0) return { Status: "healthy", FailingStreak: 0, Log: log };
  const withinStart = h.Status === "starting" && Date.parse(result.Start) - startedAtMs < t.startPeriodMs;
  if (withinStart) return { ...h, Log: log };
  const streak = h.FailingStreak + 1;
  return { Status: streak >= t.retries ? "unhealthy" : h.Status, FailingStreak: streak, Log: log };
}

/** The wait before the next probe: StartInterval while starting within the start period. */
export function nextProbeMs(h: HealthState, t: HealthTimings, sinceStartMs: number): number {
  if (sinceStartMs < t.startPeriodMs && h.Status === "starting") return t.startIntervalMs;
  return t.intervalMs;
}

/** Go's time.Duration.String for a whole number of nanoseconds ("1s", "1.5s", "2m0s", "500ms"). */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const sign = ns < 0 ? "-" : "";
  let n = Math.abs(Math.trunc(ns));
  const frac = (v: number, digits: number) => {
    const s = String(v).padStart(digits, "0").replace(/0+$/, "");
    return s === "" ? "" : `.${s}`;
  };
  if (n < 1_000) return `${sign}${n}ns`;
  if (n < 1_000_000) return `${sign}${Math.floor(n / 1_000)}${frac(n % 1_000, 3)}µs`;
  if (n < 1e9) return `${sign}${Math.floor(n / 1e6)}${frac(n % 1e6, 6)}ms`;
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const m = Math.floor(n / 6e10);
  n -= m * 6e10;
  const s = `${Math.floor(n / 1e9)}${frac(n % 1e9, 9)}s`;
  if (h > 0) return `${sign}${h}h${m}m${s}`;
  if (m > 0) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}

/** What `docker ps` adds after "Up ...": "health: starting", "healthy", "unhealthy". */
export function healthText(h: HealthState): string {
  return h.Status === "starting" ? "health: starting" : h.Status;
}

const STATUSES: readonly HealthStatus[] = ["starting", "healthy", "unhealthy"];

/** State.Health from a stored record, checked; anything malformed is dropped (undefined). */
export function parseHealthState(v: unknown): HealthState | undefined {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (!STATUSES.includes(o.Status as HealthStatus) || !Number.isSafeInteger(o.FailingStreak)) return undefined;
  if (!Array.isArray(o.Log) || o.Log.length > HEALTH.maxLogEntries) return undefined;
  const log: HealthResult[] = [];
  for (const e of o.Log as unknown[]) {
    const r = e as Record<string, unknown>;
    if (r === null || typeof r !== "object") return undefined;
    if (typeof r.Start !== "string" || typeof r.End !== "string" || typeof r.Output !== "string") return undefined;
    if (!Number.isSafeInteger(r.ExitCode) || r.Output.length > HEALTH.maxOutputBytes + 3) return undefined;
    log.push({ Start: r.Start, End: r.End, ExitCode: r.ExitCode as number, Output: r.Output });
  }
  return { Status: o.Status as HealthStatus, FailingStreak: o.FailingStreak as number, Log: log };
}
