// Query parameters the way dockerd reads them: booleans (`all=1`, `all=true`), integers with
// bounds, and `filters`, a JSON object in either of docker's two forms: `{"label":{"a=b":true}}`
// or the legacy `{"label":["a=b"]}`. Every value is bounded; a bad one is a 400 naming it.
import { InvalidArgumentError } from "../../common/errors.ts";

/**
 * dockerd's boolean: absent → the default; "", "0", "no", "false" and "none" (any case, spaces
 * trimmed) → false; anything else → true (`all=maybe` lists all containers on dockerd too).
 */
export function queryBool(query: URLSearchParams, name: string, fallback = false): boolean {
  const raw = query.get(name);
  if (raw === null) return fallback;
  return !["", "0", "no", "false", "none"].includes(raw.trim().toLowerCase());
}

export interface IntBounds {
  min: number;
  max: number;
}

/** An integer parameter within `bounds`; absent (or empty) → `fallback`. */
export function queryInt(query: URLSearchParams, name: string, bounds: IntBounds, fallback: number): number;
export function queryInt(query: URLSearchParams, name: string, bounds: IntBounds): number | undefined;
export function queryInt(
  query: URLSearchParams,
  name: string,
  bounds: IntBounds,
  fallback?: number,
): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^[+-]?\d{1,16}$/.test(raw)) {
    throw new InvalidArgumentError(`invalid value for ${name}: ${JSON.stringify(raw.slice(0, 64))}: not an integer`);
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw new InvalidArgumentError(
      `invalid value for ${name}: ${raw}: must be between ${bounds.min} and ${bounds.max}`,
    );
  }
  return n;
}

/**
 * A logs `tail`: how many last lines, or undefined for all of them. dockerd refuses nothing here:
 * "all", a negative number or anything that is not an integer means every line (testcontainers
 * sends tail=-1), so this never throws.
 */
export function queryTail(query: URLSearchParams): number | undefined {
  const raw = query.get("tail") ?? "";
  if (!/^\+?\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * One `label` filter value against some labels, as dockerd's MatchKVList reads it: `key` holds
 * when the label is there, `key=value` when it has that value.
 */
export function labelHolds(labels: Readonly<Record<string, unknown>>, kv: string): boolean {
  const eq = kv.indexOf("=");
  if (eq < 0) return Object.hasOwn(labels, kv);
  return Object.hasOwn(labels, kv.slice(0, eq)) && labels[kv.slice(0, eq)] === kv.slice(eq + 1);
}

/** Parsed filters: each key's values, in the order given, without repeats. */
export type Filters = ReadonlyMap<string, readonly string[]>;

/** Bounds of a `filters` parameter: a docker client sends a handful of keys and values. */
export const FILTER_LIMITS = {
  /** The whole parameter (node's header limit already keeps a URL under 16 KiB). */
  bytes: 16 << 10,
  keys: 32,
  values: 256,
  /** A key or a value (a label filter holds key=value). */
  chars: 4096,
} as const;

/**
 * The `filters` parameter: absent or empty → no filters. Keys outside `allowed` are refused
 * with dockerd's message ("invalid filter 'x'"); so is JSON that is neither form.
 */
export function parseFilters(raw: string | null, allowed: readonly string[]): Filters {
  const out = new Map<string, string[]>();
  if (raw === null || raw === "") return out;
  if (raw.length > FILTER_LIMITS.bytes) {
    throw new InvalidArgumentError(`invalid filters: longer than ${FILTER_LIMITS.bytes} bytes`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (err) {
    throw new InvalidArgumentError(`invalid filters: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new InvalidArgumentError("invalid filters: must be a JSON object of filter names");
  }
  const entries = Object.entries(doc);
  if (entries.length > FILTER_LIMITS.keys) {
    throw new InvalidArgumentError(`invalid filters: more than ${FILTER_LIMITS.keys} filter names`);
  }
  let count = 0;
  for (const [key, value] of entries) {
    if (!allowed.includes(key)) {
      throw new InvalidArgumentError(`invalid filter '${key.slice(0, FILTER_LIMITS.chars)}'`);
    }
    let values: string[];
    if (Array.isArray(value)) {
      // The legacy form: a list of strings.
      if (!value.every((v): v is string => typeof v === "string")) {
        throw new InvalidArgumentError(`invalid filters: ${key}: values must be strings`);
      }
      values = value;
    } else if (typeof value === "object" && value !== null) {
      // The current form: {"value": true}; dockerd keeps a value whatever its boolean says.
      if (!Object.values(value).every((v) => typeof v === "boolean")) {
        throw new InvalidArgumentError(`invalid filters: ${key}: expected {"value": true}`);
      }
      values = Object.keys(value);
    } else {
      throw new InvalidArgumentError(`invalid filters: ${key}: expected {"value": true} or ["value"]`);
    }
    count += values.length;
    if (count > FILTER_LIMITS.values) {
      throw new InvalidArgumentError(`invalid filters: more than ${FILTER_LIMITS.values} values`);
    }
    for (const v of values) {
      if (v.length > FILTER_LIMITS.chars) {
        throw new InvalidArgumentError(`invalid filters: ${key}: a value longer than ${FILTER_LIMITS.chars}`);
      }
    }
    out.set(key, [...new Set(values)]);
  }
  return out;
}
