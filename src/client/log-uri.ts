// A task's stdout/stderr may be a log URI instead of a fifo, as containerd allows: `file://<abs
// path>` (the shim appends the process's output to the file) or `binary://<abs path>?k=v` (the shim
// runs that logger with the output on its fds 3 and 4). Both daemons' shims read these.
import { isAbsolute, normalize } from "node:path";
import { InvalidArgumentError } from "../common/errors.ts";

function absolute(path: string, what: string): string {
  if (!isAbsolute(path) || path.includes("\0") || normalize(path) !== path)
    throw new InvalidArgumentError(`${what}: ${JSON.stringify(path)} is not a clean absolute path`);
  return path;
}

/** `file://` URI of a log file: stdout and stderr may both name it. */
export function fileLogUri(path: string): string {
  return `file://${encodeURI(absolute(path, "log file"))}`;
}

/** `binary://` URI of a logger program, with its arguments as query parameters. */
export function binaryLogUri(path: string, args: Record<string, string> = {}): string {
  const query = new URLSearchParams(args).toString();
  return `binary://${encodeURI(absolute(path, "logger"))}${query ? `?${query}` : ""}`;
}
