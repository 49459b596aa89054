// Structured logs for the daemons, one logfmt line per event on stderr (the format containerd
// writes, so the same tools read both): time, level, msg, then fields.

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";
const order: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export function isLogLevel(s: string): s is LogLevel {
  return s in order;
}

export type LogFields = Record<string, string | number | boolean | undefined>;

function quote(v: string): string {
  return /^[A-Za-z0-9_.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
}

export class DaemonLogger {
  readonly level: LogLevel;
  readonly #fields: LogFields;
  readonly #write: (line: string) => void;

  constructor(level: LogLevel, fields: LogFields = {}, write: (line: string) => void = (l) => process.stderr.write(l)) {
    this.level = level;
    this.#fields = fields;
    this.#write = write;
  }

  /** A logger that adds `fields` to every line (e.g. the service or the namespace). */
  with(fields: LogFields): DaemonLogger {
    return new DaemonLogger(this.level, { ...this.#fields, ...fields }, this.#write);
  }

  enabled(level: LogLevel): boolean {
    return order[level] >= order[this.level];
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    let line = `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}`;
    for (const [k, v] of Object.entries({ ...this.#fields, ...fields })) {
      if (v !== undefined) line += ` ${k}=${quote(String(v))}`;
    }
    this.#write(`${line}\n`);
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
