// Where a container's output goes when it starts. Most containers' stdout and stderr go straight
// to their logger (berth-logger, started by the shim: binary://), below berthd, so output is
// written and never blocked while berthd is down; berthd follows the log for attach. An
// interactive container (a TTY or an open stdin) keeps fifos that berthd reads: an attached
// client must get its bytes as they come (a prompt has no newline), which a log of whole lines
// cannot give; so does one with the "none" driver (no log to follow, attach still streams).
import { basename, dirname } from "node:path";
import type { TaskIO } from "../../client/fifos.ts";
import { type JsonFileLogConfig, jsonFileLogUri } from "../logs/log-uri.ts";
import { logDriverOf } from "./log-config.ts";
import type { ContainerRecord } from "./record.ts";

/** Whether berthd reads the container's output from fifos (else its logger writes the log). */
export function outputThroughFifos(r: ContainerRecord): boolean {
  return r.Config.Tty || r.Config.OpenStdin || logDriverOf(r.HostConfig.LogConfig).driver === "none";
}

/** Whether the container has a log berthd can read back (json-file). */
export function hasReadableLog(r: ContainerRecord): boolean {
  return logDriverOf(r.HostConfig.LogConfig).driver === "json-file";
}

/** The container's json-file log: its directory, file and rotation. */
export function logConfigOf(r: ContainerRecord): JsonFileLogConfig {
  const d = logDriverOf(r.HostConfig.LogConfig);
  if (d.driver !== "json-file") throw new Error(`no log file for the ${d.driver} driver`);
  return {
    dir: dirname(r.LogPath),
    name: basename(r.LogPath),
    ...(d.maxSize === undefined ? {} : { maxSize: d.maxSize }),
    ...(d.maxFile === undefined ? {} : { maxFile: d.maxFile }),
  };
}

/** The task's stdio for a container whose logger takes its output: both streams to berth-logger. */
export function loggerIo(r: ContainerRecord, logger?: string): TaskIO {
  const uri = jsonFileLogUri(logConfigOf(r), logger);
  return { stdin: "", stdout: uri, stderr: uri, terminal: false };
}
