// A failed call's error as the typed error of its kind (src/common/errors.ts), its message naming
// what the call was about ("container c1: ..."), so the engine maps it to an HTTP status and a
// user reads which container or task it concerns. The transport's error stays the cause, so
// statusCode() still reads the gRPC code.
import {
  AlreadyExistsError,
  BerthError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  NotImplementedError,
  UnavailableError,
} from "../common/errors.ts";

/** `err` (from a client call about `what`) as the typed error of its kind, named. */
export function namedError(what: string, err: unknown): Error {
  if (!(err instanceof Error)) return new BerthError("internal", `${what}: ${String(err)}`);
  if (err.name === "AbortError" || err.name === "TimeoutError") return err;
  // The daemon's message may name the subject already ("snapshot k does not exist").
  const message = err.message.includes(what) ? err.message : `${what}: ${err.message}`;
  const kind = err instanceof BerthError ? err.kind : "internal";
  let out: BerthError;
  switch (kind) {
    case "not-found":
      out = new NotFoundError(message);
      break;
    case "already-exists":
      out = new AlreadyExistsError(message);
      break;
    case "failed-precondition":
      out = new FailedPreconditionError(message);
      break;
    case "invalid-argument":
      return new InvalidArgumentError(message, { cause: err });
    case "unavailable":
      return new UnavailableError(message, { cause: err });
    case "not-implemented":
      out = new NotImplementedError(message);
      break;
    default:
      return new BerthError(kind, message, { cause: err });
  }
  // These constructors take no options; the cause is what keeps the status code.
  Object.defineProperty(out, "cause", { value: err, enumerable: false, writable: true, configurable: true });
  return out;
}

/** Awaits `call`, turning its failure into namedError(what, ...). */
export async function naming<T>(what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw namedError(what, err);
  }
}
