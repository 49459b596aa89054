// docker's jsonmessage display for pull/push/load: on a terminal, one line per layer id,
// rewritten in place (cursor up, erase line, the progress bar, cursor down); when the output is
// not a terminal, one line per message and no progress bars. An error in the stream ends it: its
// message is the command's error (exit 1), as docker prints it.
import type { Writable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { humanSize } from "./units.ts";

/** One message of the daemon's progress stream (Engine API: /images/create, /images/load, push). */
export interface JsonMessage {
  id?: string;
  status?: string;
  /** A progress bar the daemon drew ("[==>  ] 1MB/2MB"): shown when progressDetail is absent. */
  progress?: string;
  progressDetail?: {
    current?: number;
    total?: number;
    /** Unix seconds when the transfer started: the time left is shown from it. */
    start?: number;
    hidecounts?: boolean;
    units?: string;
  } | null;
  stream?: string;
  error?: string;
  errorDetail?: { code?: number; message?: string };
  aux?: unknown;
  from?: string;
  time?: number;
  timeNano?: number;
}

/** An error message in the stream (errorDetail): docker prints its message and exits 1. */
export class StreamError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = "StreamError";
  }
}

/** One message of a stream is at most this long (a daemon's line, not a file). */
export const MAX_MESSAGE_BYTES = 1 << 20;

const ESC = "\x1b[";
const clearLine = `${ESC}2K`;
const cursorUp = (n: number) => (n > 0 ? `${ESC}${n}A` : "");
const cursorDown = (n: number) => (n > 0 ? `${ESC}${n}B` : "");

/** Go's time.Duration String for whole seconds: "0s", "45s", "1m5s", "2h0m3s". */
export function goDuration(seconds: number): string {
  const s = Math.max(0, Math.trunc(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.trunc(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.trunc(m / 60)}h${m % 60}m${s % 60}s`;
}

/** jsonmessage's JSONProgress.String: "[==>   ] 1.2MB/3.4MB 5s" (the bar past 110 columns, the time past 50). */
export function progressText(p: NonNullable<JsonMessage["progressDetail"]>, width: number, nowMs: number): string {
  // The daemon's numbers, as they came: anything but a finite number counts as 0.
  const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  const current = num(p.current);
  const total = num(p.total);
  const start = num(p.start);
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current, 4).padStart(8);
  let percentage = Math.trunc(Math.trunc((current / total) * 100) / 2);
  if (percentage > 50) percentage = 50;
  if (percentage < 0) percentage = 0; // a negative current (docker's strings.Repeat would panic)
  let bar = "";
  if (width > 110) bar = `[${"=".repeat(percentage)}>${" ".repeat(Math.max(0, 50 - percentage))}] `;
  let numbers = "";
  if (!p.hidecounts) {
    if (!p.units) {
      const c = humanSize(current, 4);
      numbers = current > total ? c.padStart(8) : `${c.padStart(8)}/${humanSize(total, 4)}`;
    } else numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
  }
  let left = "";
  if (current > 0 && start > 0 && percentage < 50 && width > 50) {
    const fromStartMs = nowMs - start * 1000;
    left = ` ${goDuration(((total - current) * (fromStartMs / current)) / 1000)}`;
  }
  return bar + numbers + left;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** RFC3339NanoFixed in UTC: the time a message carries, before it. */
function stamp(m: JsonMessage): string {
  let ms: number;
  let nanos: number;
  if (m.timeNano) {
    ms = Math.floor(m.timeNano / 1e6);
    nanos = m.timeNano % 1e9;
  } else if (m.time) {
    ms = m.time * 1000;
    nanos = 0;
  } else return "";
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${date}T${time}.${pad(nanos, 9)}Z `;
}

/** jsonmessage's Display: the text of one message (throws StreamError for an error message). */
function display(m: JsonMessage, isTty: boolean, width: number, nowMs: number): string {
  if (m.error !== undefined || m.errorDetail !== undefined) {
    if (m.errorDetail?.code === 401) throw new StreamError("authentication is required");
    throw new StreamError(m.errorDetail?.message ?? m.error ?? "");
  }
  const detail = m.progressDetail ?? undefined;
  let out = "";
  let endl = "";
  if (isTty && !m.stream && detail) {
    out += `${clearLine}\r`;
    endl = "\r";
  } else if (detail && progressText(detail, width, nowMs) !== "") {
    return ""; // no progress bars when the output is not a terminal
  }
  out += stamp(m);
  if (m.id) out += `${m.id}: `;
  if (m.from) out += `(from ${m.from}) `;
  const status = m.status ?? "";
  if (detail && isTty) out += `${status} ${progressText(detail, width, nowMs)}${endl}`;
  else if (m.progress) out += `${status} ${m.progress}${endl}`;
  else if (m.stream) out += `${m.stream}${endl}`;
  else out += `${status}${endl}\n`;
  return out;
}

/**
 * Shows a progress stream as docker's DisplayJSONMessagesStream does. `width`: the terminal's
 * columns (the output's own when it has them, else 200, as docker falls back to). Rejects with
 * StreamError at an error message; aux messages are not shown.
 */
export async function showProgress(
  messages: AsyncIterable<JsonMessage>,
  out: NodeJS.WriteStream | Writable,
  isTty: boolean,
  opts: { width?: number; now?: () => number } = {},
): Promise<void> {
  const width = opts.width ?? (out as NodeJS.WriteStream).columns ?? 200;
  const now = opts.now ?? Date.now;
  // The line of each id shown with progress, counted from the first; reset by any other line.
  let ids = new Map<string, number>();
  for await (const m of messages) {
    if (m.aux !== undefined && m.aux !== null) continue;
    let text = "";
    let diff = 0;
    const detail = m.progressDetail ?? undefined;
    if (m.id && (detail || m.progress)) {
      let line = ids.get(m.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(m.id, line);
        if (isTty) text += "\n";
      }
      diff = ids.size - line;
      if (isTty) text += cursorUp(diff);
    } else ids = new Map();
    try {
      text += display(m, isTty, width, now());
    } finally {
      if (m.id && isTty) text += cursorDown(diff);
      if (text) out.write(text);
    }
  }
}

/**
 * The messages of a progress stream's body: JSON values a line (the daemon ends each with
 * "\r\n"), each at most MAX_MESSAGE_BYTES. A line that is not JSON is an error, as docker's
 * decoder makes it.
 */
export async function* jsonMessages(
  body: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): AsyncIterable<JsonMessage> {
  let pending = "";
  // A character's bytes may be split between two chunks.
  const decoder = new StringDecoder("utf8");
  const parse = (line: string): JsonMessage | undefined => {
    const t = line.trim();
    if (t === "") return undefined;
    try {
      const v: unknown = JSON.parse(t);
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("not an object");
      return v as JsonMessage;
    } catch {
      throw new StreamError(`invalid progress message from the daemon: ${JSON.stringify(t.slice(0, 80))}`);
    }
  };
  for await (const chunk of body) {
    pending += typeof chunk === "string" ? chunk : decoder.write(chunk);
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      const m = parse(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      if (m) yield m;
      nl = pending.indexOf("\n");
    }
    if (pending.length > MAX_MESSAGE_BYTES) {
      throw new StreamError(`a progress message from the daemon is longer than ${MAX_MESSAGE_BYTES} bytes`);
    }
  }
  const last = parse(pending + decoder.end());
  if (last) yield last;
}
