// docker's --since/--until values as the API wants them: Unix seconds. A number passes as is; a
// Go duration ("10m", "1h30m") is that long before now, in whole seconds ("1700000000": docker's
// GetTimestamp drops the fraction there, so a window ends where docker's ends); anything else is
// a timestamp (RFC 3339, or a date alone; local time when it names no zone) with its nanoseconds.
import { UsageError } from "../errors.ts";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "\u00b5s": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration in ms, or undefined when `s` is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([+-]?)((?:\d+(?:\.\d*)?(?:ns|us|\u00b5s|ms|s|m|h))+)$/.exec(s);
  if (!m) return s === "0" ? 0 : undefined;
  let total = 0;
  for (const part of (m[2] as string).matchAll(/(\d+(?:\.\d*)?)(ns|us|\u00b5s|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNIT_MS[part[2] as string] as number);
  }
  return m[1] === "-" ? -total : total;
}

/**
 * `value` as Unix seconds. `flag` names the flag in the error as docker's logs does ('invalid value
 * for "until": ...'); docker's events says only what failed.
 */
export function timeArg(value: string, now = Date.now(), flag?: "since" | "until"): string {
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  const d = parseGoDuration(value);
  if (d !== undefined) return String(Math.floor((now - d) / 1000));
  // A date alone is midnight in the local zone (docker's GetTimestamp), as a time without a zone is.
  const t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00` : value);
  if (Number.isNaN(t)) {
    const what = `failed to parse value as time or duration: "${value}"`;
    throw new UsageError(flag ? `invalid value for "${flag}": ${what}` : what, 1);
  }
  return secondsOf(t);
}

function secondsOf(ms: number): string {
  const s = Math.floor(ms / 1000);
  const nanos = Math.round((ms - s * 1000) * 1e6);
  return `${s}.${String(nanos).padStart(9, "0")}`;
}
