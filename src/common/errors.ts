// Typed errors shared by every layer. Each kind carries the exit code a runc-style CLI uses and
// the status a daemon API maps it to, so the edge (CLI, HTTP, gRPC) never guesses.

export type ErrorKind =
  | "invalid-argument"
  | "not-found"
  | "already-exists"
  | "failed-precondition"
  | "unavailable"
  | "permission-denied"
  | "not-implemented"
  | "internal";

export class BerthError extends Error {
  readonly kind: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("invalid-argument", message, options);
  }
}

/** A config.json (or other document) field failed validation; the message names the field. */
export class InvalidSpecError extends BerthError {
  readonly field: string;
  constructor(field: string, problem: string) {
    super("invalid-argument", `config.json: ${field}: ${problem}`);
    this.field = field;
  }
}

export class NotFoundError extends BerthError {
  constructor(message: string) {
    super("not-found", message);
  }
}

export class AlreadyExistsError extends BerthError {
  constructor(message: string) {
    super("already-exists", message);
  }
}

export class FailedPreconditionError extends BerthError {
  constructor(message: string) {
    super("failed-precondition", message);
  }
}

export class NotImplementedError extends BerthError {
  constructor(message: string) {
    super("not-implemented", message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The errno name ("ENOENT") of a system call's error; undefined for anything else. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}

/** A resource is busy (an ingest locked by another writer, a mount in use); try again later. */
export class UnavailableError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("unavailable", message, options);
  }
}
