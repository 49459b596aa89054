// What `docker run` makes of a failed create or start and a finished container: the error's exit
// code (127 not found, 126 cannot be invoked, 125 otherwise) and the wait answer's status code.
import type { Readable } from "node:stream";
import { readBounded } from "../api/client.ts";
import { CliError, DaemonError, EXIT } from "../errors.ts";
import { CidFileError } from "./cidfile.ts";
import { ApiVersionError } from "./create-flow.ts";

/**
 * What docker run's toStatusError makes of a failed create or start: "berth: <message>" and the
 * help line, exit 127 when the words say a file was not found, 126 when it cannot be invoked,
 * else 125. Daemon errors and --cidfile's are converted; any other error passes through.
 */
export function runFailure(e: unknown, command: string): unknown {
  let m: string;
  if (e instanceof DaemonError) m = `Error response from daemon: ${e.daemonMessage}`;
  else if (e instanceof CidFileError || e instanceof ApiVersionError) m = e.message;
  else return e;
  return new CliError(`berth: ${m}\n\nRun 'berth ${command} --help' for more information`, failureCode(m));
}

const NOT_FOUND = ["executable file not found", "no such file or directory", "system cannot find the file specified"];
/** EACCES's and EISDIR's texts. */
const CANNOT_INVOKE = ["permission denied", "is a directory"];

/** docker's rule: plain substrings, case as written; not-found is looked for first. */
export function failureCode(message: string): number {
  if (NOT_FOUND.some((s) => message.includes(s))) return EXIT.notFound;
  if (CANNOT_INVOKE.some((s) => message.includes(s))) return EXIT.cannotInvoke;
  return EXIT.daemon;
}

/** The wait answer's StatusCode (an error in it is the command's error, exit 125). */
export async function waitStatus(res: Readable): Promise<number> {
  const body = await readBounded(res, 64 * 1024, "POST /containers/wait");
  let parsed: { StatusCode?: unknown; Error?: { Message?: unknown } | null };
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new CliError("the daemon's answer to POST /containers/wait is not JSON", EXIT.daemon);
  }
  if (parsed.Error && typeof parsed.Error.Message === "string" && parsed.Error.Message !== "") {
    throw new CliError(`berth: ${parsed.Error.Message}`, EXIT.daemon);
  }
  return typeof parsed.StatusCode === "number" ? parsed.StatusCode : 0;
}
