// Structured logs, one line per event: logfmt text (the format containerd writes, so the same tools
// read both: time, level, msg, then fields) or JSON lines (what runc writes for --log-format json
// and containerd's shims parse). Every process of the stack formats its lines here: the daemons'
// stderr, a shim's log, the runtime's --log. A line that belongs to a traced call carries its
// trace id: `trace=<32 hex>` in text, "trace_id" in JSON (src/rpc/trace.ts makes the ids).

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";
const order: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export function isLogLevel(s: string): s is LogLevel {
  return s in order;
}

export type LogFormat = "text" | "json";

export type LogFields = Record<string, string | number | boolean | undefined>;

/** The field a line's trace id is given in (text: `trace=`); JSON names it TRACE_JSON_KEY. */
export const TRACE_FIELD = "trace";
/** The JSON key of the trace id, as OpenTelemetry's log records name it. */
export const TRACE_JSON_KEY = "trace_id";

/** The fields naming a trace (none when there is no trace). */
export function traceFields(trace: { traceId: string } | undefined): LogFields {
  return trace ? { [TRACE_FIELD]: trace.traceId } : {};
}

function quote(v: string): string {
  return /^[A-Za-z0-9_.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
}

/**
 * One log line (without its newline). `level` is written as given ("warning" for runc's json);
 * fields whose value is undefined are left out.
 */
export function formatLogLine(
  format: LogFormat,
  level: string,
  msg: string,
  fields: LogFields = {},
  time: Date = new Date(),
): string {
  if (format === "json") {
    const rec: Record<string, string | number | boolean> = { level, msg, time: time.toISOString() };
    for (const [k, v] of Object.entries(fields)) {
      if (v !== undefined) rec[k === TRACE_FIELD ? TRACE_JSON_KEY : k] = v;
    }
    return JSON.stringify(rec);
  }
  let line = `time="${time.toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) line += ` ${k}=${quote(String(v))}`;
  }
  return line;
}

export class DaemonLogger {
  readonly level: LogLevel;
  readonly format: LogFormat;
  readonly #fields: LogFields;
  readonly #write: (line: string) => void;

  constructor(
    level: LogLevel,
    fields: LogFields = {},
    write: (line: string) => void = (l) => process.stderr.write(l),
    format: LogFormat = "text",
  ) {
    this.level = level;
    this.format = format;
    this.#fields = fields;
    this.#write = write;
  }

  /** A logger that adds `fields` to every line (e.g. the service or the namespace). */
  with(fields: LogFields): DaemonLogger {
    return new DaemonLogger(this.level, { ...this.#fields, ...fields }, this.#write, this.format);
  }

  /** A logger whose lines carry `trace`'s id (a call's RequestContext.trace). */
  withTrace(trace: { traceId: string } | undefined): DaemonLogger {
    return this.with(traceFields(trace));
  }

  enabled(level: LogLevel): boolean {
    return order[level] >= order[this.level];
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    this.#write(`${formatLogLine(this.format, level, msg, { ...this.#fields, ...fields })}\n`);
  }

  debug(msg: string, fields?: LogFields): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log("error", msg, fields);
  }
}
