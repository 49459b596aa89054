// The runtime's log: errors and warnings to --log (text or json lines, the format containerd's
// shims parse for the error of a failed create) and to stderr; info lines to --log only (stderr
// is the container's when the runtime is driven by a shim, and a runc caller reads it). Lines
// carry `fields` (the trace of the call that ran the runtime: TRACEPARENT).
import { appendFileSync } from "node:fs";
import { formatLogLine, type LogFields, type LogFormat } from "../../common/log.ts";

export type { LogFormat };

export class Logger {
  private readonly file: string | undefined;
  private readonly format: LogFormat;
  private readonly debugEnabled: boolean;
  private readonly fields: LogFields;

  constructor(file: string | undefined, format: LogFormat, debug: boolean, fields: LogFields = {}) {
    this.file = file;
    this.format = format;
    this.debugEnabled = debug;
    this.fields = fields;
  }

  private write(
    level: "error" | "warning" | "info" | "debug",
    msg: string,
    toStderr: boolean,
    fields: LogFields = {},
  ): void {
    if (this.file) {
      const line = formatLogLine(this.format, level, msg, { ...this.fields, ...fields });
      try {
        appendFileSync(this.file, `${line}\n`);
      } catch {
        // The log is best effort; stderr still carries the message.
      }
    }
    if (toStderr) process.stderr.write(`${msg}\n`);
  }

  error(msg: string): void {
    this.write("error", msg, true);
  }

  warn(msg: string): void {
    this.write("warning", msg, !this.file);
  }

  /** An event worth a line in --log (never on stderr), e.g. which container a create made. */
  info(msg: string, fields?: LogFields): void {
    this.write("info", msg, false, fields);
  }

  debug(msg: string): void {
    if (this.debugEnabled) this.write("debug", msg, !this.file);
  }
}
