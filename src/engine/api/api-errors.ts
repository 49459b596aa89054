// Typed errors to HTTP statuses, as dockerd maps its error kinds (errdefs), and the error body
// every route answers with: `{"message": "..."}` and a newline, Content-Type application/json.
import { BerthError, type ErrorKind, errorMessage } from "../../common/errors.ts";

/**
 * The status of each kind. failed-precondition is 409: the engine's preconditions are states
 * (a container running, not running, paused), which dockerd answers Conflict; a route that
 * passes on containerd's FailedPrecondition, which dockerd answers 400, throws ApiError instead.
 */
const STATUS_OF_KIND: Record<ErrorKind, number> = {
  "invalid-argument": 400,
  "not-found": 404,
  "already-exists": 409,
  "failed-precondition": 409,
  "permission-denied": 403,
  unavailable: 503,
  "not-implemented": 501,
  internal: 500,
};

/** An error with an exact status for the few answers no kind names (304, 413, 401). */
export class ApiError extends BerthError {
  readonly status: number;
  constructor(status: number, message: string, kind: ErrorKind = status >= 500 ? "internal" : "invalid-argument") {
    super(kind, message);
    this.status = status;
  }
}

/** The body is larger than the route takes. */
export class PayloadTooLargeError extends ApiError {
  constructor(limit: number) {
    super(413, `request body too large: the limit is ${limit} bytes`);
  }
}

/** dockerd's answer to a path (or a method on a path) it does not serve. */
export class PageNotFoundError extends ApiError {
  constructor() {
    super(404, "page not found", "not-found");
  }
}

/** The status an error is answered with: ApiError's own, a kind's, else 500. */
export function statusOf(err: unknown): number {
  if (err instanceof ApiError) return err.status;
  if (err instanceof BerthError) return STATUS_OF_KIND[err.kind];
  return 500;
}

/** The error body dockerd writes (its JSON encoder ends it with a newline). */
export function errorBody(err: unknown): string {
  return `${JSON.stringify({ message: errorMessage(err) })}\n`;
}
