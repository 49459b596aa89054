// The CLI's errors and exit codes, the way the docker CLI reports them. main.ts catches each kind,
// prints its message to stderr and exits with its code; nothing else in the CLI calls process.exit.

/** Docker's exit codes: 125 for the CLI's own and the daemon's errors in run/create, 126 when
 * the container's command cannot be invoked, 127 when it is not found; 1 for a failed command. */
export const EXIT = { failure: 1, usage: 125, daemon: 125, cannotInvoke: 126, notFound: 127 } as const;

/** A failure the CLI reports in one line with its exit code (a bad answer, a file it cannot
 * write); the kinds below are its special cases. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** The daemon answered with an error ({"message": ...}). Shown as docker shows it:
 * "Error response from daemon: <message>"; exit 1, or 125 where docker uses it (run, create). */
export class DaemonError extends CliError {
  readonly status: number;
  readonly daemonMessage: string;
  constructor(status: number, daemonMessage: string, exitCode: number = EXIT.failure) {
    super(`Error response from daemon: ${daemonMessage}`, exitCode);
    this.name = "DaemonError";
    this.status = status;
    this.daemonMessage = daemonMessage;
  }
}

/** No daemon answers at the address (refused, missing socket): one line, exit 1. */
export class ConnectError extends CliError {
  constructor(host: string) {
    super(
      `Cannot connect to the Docker daemon at ${host}. Is berthd running? Start it with 'bash scripts/berthd-service.sh start' (or 'systemctl start berthd').`,
    );
    this.name = "ConnectError";
  }
}

/** Bad flags or arguments: nothing was sent to the daemon. The message is docker's words
 * (with the "See 'berth x --help'." hint the thrower adds); exit 125. */
export class UsageError extends CliError {
  constructor(message: string, exitCode: number = EXIT.usage) {
    super(message, exitCode);
    this.name = "UsageError";
  }
}

/** Ends the command with `code` and nothing more to print (a container's own exit code, a
 * command that already wrote its errors, as `docker rm a b` does for each failed name). */
export class CliExit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.name = "CliExit";
    this.code = code;
  }
}

/** What main.ts prints (undefined: nothing) and the exit code, for any thrown value. */
export function reportOf(err: unknown): { message: string | undefined; code: number } {
  if (err instanceof CliExit) return { message: undefined, code: err.code };
  // CliError and its kinds, and the format helper's TemplateError, carry their exit codes.
  const exitCode: unknown = err instanceof Error ? (err as Error & { exitCode?: unknown }).exitCode : undefined;
  if (err instanceof Error && typeof exitCode === "number") return { message: err.message, code: exitCode };
  return { message: err instanceof Error ? err.message : String(err), code: EXIT.failure };
}
