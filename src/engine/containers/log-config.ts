// A container's HostConfig.LogConfig as berthd applies it: json-file (the default: berth-logger
// with max-size/max-file) or none; every other driver refused at create with dockerd's words.
// Options are read as dockerd's json-file driver reads them (docker's units for max-size), but
// checked at create, so a bad value changes nothing (dockerd 20.10 takes it and fails the start).
// Pure.
import { InvalidArgumentError } from "../../common/errors.ts";
import type { LogConfig } from "./spec/types.ts";

export type LogDriver = { driver: "none" } | { driver: "json-file"; maxSize?: number; maxFile?: number };

/** dockerd's built-in drivers berthd does not have (an unknown name is looked up as a plugin). */
const OTHER_DRIVERS = [
  "local",
  "syslog",
  "journald",
  "gelf",
  "fluentd",
  "awslogs",
  "splunk",
  "etwlogs",
  "gcplogs",
  "logentries",
];

/** The options dockerd's json-file driver knows; berthd applies max-size and max-file. */
const JSON_FILE_OPTS = ["max-file", "max-size", "compress", "labels", "labels-regex", "env", "env-regex", "tag"];

/** berth-logger's largest max-file. */
const MAX_FILES = 1000;

/** docker's RAMInBytes: "10", "10k", "1.5m", "1g", "2KiB" (binary multiples); undefined if not one. */
export function parseByteSize(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (!m) return undefined;
  const value = Number.parseFloat(m[1]!);
  const unit = m[2] === undefined ? 0 : "kmgtp".indexOf(m[2].toLowerCase()) + 1;
  const bytes = Math.trunc(value * 1024 ** unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** The log driver a container's LogConfig asks for ("" is json-file), or 400 in dockerd's words. */
export function logDriverOf(cfg: LogConfig): LogDriver {
  const type = cfg.Type || "json-file";
  const opts = cfg.Config ?? {};
  if (type === "none") {
    if (Object.keys(opts).length > 0) throw new InvalidArgumentError("invalid logging opts for driver none");
    return { driver: "none" };
  }
  if (type !== "json-file") {
    if (OTHER_DRIVERS.includes(type))
      throw new InvalidArgumentError(`berthd does not support the ${type} log driver (json-file and none only)`);
    throw new InvalidArgumentError(`error looking up logging plugin ${type}: plugin "${type}" not found`);
  }
  for (const key of Object.keys(opts)) {
    if (!JSON_FILE_OPTS.includes(key))
      throw new InvalidArgumentError(`unknown log opt '${key}' for json-file log driver`);
  }
  const bad = (why: string) => new InvalidArgumentError(`failed to initialize logging driver: ${why}`);
  const out: LogDriver = { driver: "json-file" };
  const size = opts["max-size"];
  if (size !== undefined) {
    const bytes = parseByteSize(size);
    if (bytes === undefined) throw bad(`invalid size: '${size}'`);
    if (bytes <= 0) throw bad("max-size must be a positive number");
    out.maxSize = bytes;
  }
  const files = opts["max-file"];
  if (files !== undefined) {
    if (!/^[+-]?\d{1,10}$/.test(files)) throw bad(`strconv.Atoi: parsing ${JSON.stringify(files)}: invalid syntax`);
    const n = Number(files);
    if (n < 1) throw bad("max-file cannot be less than 1");
    if (n > MAX_FILES) throw bad(`max-file ${n}: berthd keeps at most ${MAX_FILES} files`);
    // Without max-size nothing rotates: max-file has no effect (as dockerd).
    if (out.maxSize !== undefined) out.maxFile = n;
  }
  const compress = opts.compress;
  if (compress !== undefined && /^(1|t|T|TRUE|true|True)$/.test(compress))
    throw bad("berthd does not compress rotated log files (compress=true)");
  return out;
}
