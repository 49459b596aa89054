// One json-file entry, as native/berth-logger (and dockerd) writes it and as `docker logs` gets
// it back: the line's parse, the since/until times the API takes, and the bytes sent per entry
// (timestamps, details, a stdcopy frame or raw for a TTY). Pure.
import { InvalidArgumentError } from "../../common/errors.ts";
import { encodeFrame, STDERR, STDOUT } from "../api/stdcopy.ts";

export type LogStream = "stdout" | "stderr";

export interface LogEntry {
  stream: LogStream;
  /** The bytes the container wrote, with their newline when the line ended. */
  line: Buffer;
  /** Nanoseconds since the epoch, UTC. */
  timeNs: bigint;
  /** dockerd's `attrs` (log-opt labels/env); what `details` prints. */
  attrs?: Record<string, string>;
}

const NS = 1_000_000_000n;
/** A since/until value longer than this is no time (an API parameter, bounded before parsing). */
const MAX_TIME_TEXT = 64;
const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d):(\d\d))$/;

/** Nanoseconds of an RFC 3339 time (Go's parser's range: years 0000-9999), or undefined. */
export function parseRfc3339(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: the latter reads years 0-99 as 1900-1999.
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCDate() !== d) return undefined; // 31 April, 29 February of a common year
  let secs = BigInt(date.getTime() / 1000) + BigInt(h * 3600 + mi * 60 + s);
  if (!m[8]) {
    const off = Number(m[10]) * 3600 + Number(m[11]) * 60;
    if (Number(m[10]) > 23 || Number(m[11]) > 59) return undefined;
    secs -= BigInt(m[9] === "-" ? -off : off);
  }
  return secs * NS + BigInt((m[7] ?? "").padEnd(9, "0") || "0");
}

/**
 * A `since`/`until` parameter in nanoseconds: Unix seconds with an optional fraction (what the
 * API takes, and what the docker CLI sends: "1733400000.123456789"; the fraction is read as
 * digits of a second, as dockerd's ParseTimestamps pads it), or an RFC 3339 time.
 */
export function parseLogTime(value: string, what: string): bigint {
  const bad = () => new InvalidArgumentError(`invalid value for "${what}": ${JSON.stringify(value.slice(0, 80))}`);
  if (value.length > MAX_TIME_TEXT) throw bad();
  const unix = /^(-?\d{1,12})(?:\.(\d{1,9})\d*)?$/.exec(value);
  if (unix) {
    const secs = BigInt(unix[1]!);
    const frac = BigInt((unix[2] ?? "").padEnd(9, "0"));
    return secs * NS + (unix[1]!.startsWith("-") ? -frac : frac);
  }
  const t = parseRfc3339(value);
  if (t === undefined) throw bad();
  return t;
}

/** One json-file line (without its newline) as an entry; undefined when it is not one. */
export function parseEntry(text: string): LogEntry | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const log = o.log ?? "";
  if (typeof log !== "string" || (o.stream !== "stdout" && o.stream !== "stderr") || typeof o.time !== "string")
    return undefined;
  const timeNs = parseRfc3339(o.time);
  if (timeNs === undefined) return undefined;
  const entry: LogEntry = { stream: o.stream, line: Buffer.from(log, "utf8"), timeNs };
  if (o.attrs !== undefined) {
    if (typeof o.attrs !== "object" || o.attrs === null || Array.isArray(o.attrs)) return undefined;
    const attrs: Record<string, string> = Object.create(null);
    for (const [k, val] of Object.entries(o.attrs)) {
      if (typeof val !== "string") return undefined;
      attrs[k] = val;
    }
    entry.attrs = attrs;
  }
  return entry;
}

/** dockerd's RFC3339NanoFixed in UTC: always nine digits of fraction ("...05.000000000Z"). */
export function formatTimestamp(ns: bigint): string {
  const secs = ns / NS - (ns % NS < 0n ? 1n : 0n);
  const frac = ns - secs * NS;
  const iso = new Date(Number(secs) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}.${frac.toString().padStart(9, "0")}Z`;
}

/** Go's url.QueryEscape: what dockerd writes `details` attributes with. */
function goQueryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, "+")
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface FormatOptions {
  /** Each line after its time (RFC3339NanoFixed) and a space. */
  timestamps: boolean;
  /** Each line after its attributes (`k=v,k2=v2`, sorted, query-escaped) and a space. */
  details: boolean;
  /** The container has a TTY: raw bytes, no stdcopy frames. */
  tty: boolean;
}

/** The bytes `docker logs` gets for one entry. */
export function formatEntry(e: LogEntry, o: FormatOptions): Buffer {
  const parts: Buffer[] = [];
  if (o.timestamps) parts.push(Buffer.from(`${formatTimestamp(e.timeNs)} `));
  if (o.details) {
    const attrs = Object.entries(e.attrs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    parts.push(Buffer.from(`${attrs.map(([k, v]) => `${goQueryEscape(k)}=${goQueryEscape(v)}`).join(",")} `));
  }
  parts.push(e.line);
  const payload = parts.length === 1 ? e.line : Buffer.concat(parts);
  return o.tty ? payload : encodeFrame(e.stream === "stdout" ? STDOUT : STDERR, payload);
}
