// The log URI berthd hands containerd for a container's stdout and stderr: its json-file logger
// (native/berth-logger, built to dist/berth-logger) as a binary:// URI whose query is the
// logger's arguments. Both shims (berth-shim, containerd-shim-runc-v2) start it with the output
// on its fds 3 and 4; the logger reads its arguments in any order (containerd walks a Go map).
import { existsSync } from "node:fs";
import { isAbsolute, join, normalize } from "node:path";
import { binaryLogUri } from "../../client/log-uri.ts";
import { InvalidArgumentError, UnavailableError } from "../../common/errors.ts";

/** berth-logger's own bounds (native/berth-logger/README.md). */
const MAX_FILE_LIMIT = 1000;
const NAME_MAX = 250;

export interface JsonFileLogConfig {
  /** The container's log directory (berthd's own). */
  dir: string;
  /** The log file's name in it (dockerd's: `<id>-json.log`). */
  name: string;
  /** Bytes before a rotation; 0 or undefined: none. */
  maxSize?: number;
  /** Files kept, the current one included (1-1000); undefined: 1. */
  maxFile?: number;
}

/** dist/berth-logger: beside berthd's bundle, or in the repo's dist/ when run from source. */
export function locateLogger(): string {
  const candidates = [
    join(import.meta.dirname, "berth-logger"),
    join(import.meta.dirname, "../../../dist/berth-logger"),
  ];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new UnavailableError(`berth-logger not found (looked in ${candidates.join(", ")}); run the build`);
  return found;
}

/** The binary:// URI that logs a container's output as json-file with `cfg`'s rotation. */
export function jsonFileLogUri(cfg: JsonFileLogConfig, logger: string = locateLogger()): string {
  return binaryLogUri(logger, loggerArgs(cfg));
}

/** berth-logger's arguments for `cfg` as key/value pairs, checked against the logger's bounds. */
export function loggerArgs(cfg: JsonFileLogConfig): Record<string, string> {
  if (!isAbsolute(cfg.dir) || normalize(cfg.dir) !== cfg.dir || cfg.dir.includes("\0"))
    throw new InvalidArgumentError(`log directory ${JSON.stringify(cfg.dir)} is not a clean absolute path`);
  const nameBytes = Buffer.byteLength(cfg.name);
  if (nameBytes === 0 || nameBytes > NAME_MAX || /[/\0]/.test(cfg.name) || cfg.name === "." || cfg.name === "..")
    throw new InvalidArgumentError(`log file name ${JSON.stringify(cfg.name)} is not a file name`);
  const args: Record<string, string> = { dir: cfg.dir, name: cfg.name };
  if (cfg.maxSize !== undefined) {
    if (!Number.isSafeInteger(cfg.maxSize) || cfg.maxSize < 0)
      throw new InvalidArgumentError(`max-size ${cfg.maxSize}: not a number of bytes`);
    args["max-size"] = String(cfg.maxSize);
  }
  if (cfg.maxFile !== undefined) {
    if (!Number.isInteger(cfg.maxFile) || cfg.maxFile < 1 || cfg.maxFile > MAX_FILE_LIMIT)
      throw new InvalidArgumentError(`max-file ${cfg.maxFile}: must be 1-${MAX_FILE_LIMIT}`);
    args["max-file"] = String(cfg.maxFile);
  }
  return args;
}
