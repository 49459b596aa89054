// The runtime's log: errors and warnings to --log (text or json lines, the format containerd's
// shims parse for the error of a failed create) and to stderr.
import { appendFileSync } from "node:fs";

export type LogFormat = "text" | "json";

export class Logger {
  private readonly file: string | undefined;
  private readonly format: LogFormat;
  private readonly debugEnabled: boolean;

  constructor(file: string | undefined, format: LogFormat, debug: boolean) {
    this.file = file;
    this.format = format;
    this.debugEnabled = debug;
  }

  private write(level: "error" | "warning" | "debug", msg: string, toStderr: boolean): void {
    const time = new Date().toISOString();
    if (this.file) {
      const line =
        this.format === "json"
          ? JSON.stringify({ level, msg, time })
          : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
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

  debug(msg: string): void {
    if (this.debugEnabled) this.write("debug", msg, !this.file);
  }
}
