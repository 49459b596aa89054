// Status codes shared by gRPC (grpc.ts) and ttrpc (src/rpc/ttrpc): both carry google.rpc.Code
// numbers, and containerd's errdefs kinds map to them and back the same way on both transports.
// No transport is imported here, so the shim, which speaks only ttrpc, does not load grpc-js.
import { BerthError, type ErrorKind } from "../common/errors.ts";

/** google.rpc.Code values (gRPC's status codes; ttrpc's Response.status carries the same). */
export const Code = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const codeOfKind: Record<ErrorKind, number> = {
  "invalid-argument": Code.INVALID_ARGUMENT,
  "not-found": Code.NOT_FOUND,
  "already-exists": Code.ALREADY_EXISTS,
  "failed-precondition": Code.FAILED_PRECONDITION,
  unavailable: Code.UNAVAILABLE,
  "permission-denied": Code.PERMISSION_DENIED,
  "not-implemented": Code.UNIMPLEMENTED,
  // containerd returns errors of no known kind as they are, which gRPC sends as UNKNOWN.
  internal: Code.UNKNOWN,
};

const kindOfCode = new Map<number, ErrorKind>([
  [Code.INVALID_ARGUMENT, "invalid-argument"],
  [Code.OUT_OF_RANGE, "invalid-argument"],
  [Code.NOT_FOUND, "not-found"],
  [Code.ALREADY_EXISTS, "already-exists"],
  [Code.FAILED_PRECONDITION, "failed-precondition"],
  [Code.UNAVAILABLE, "unavailable"],
  [Code.PERMISSION_DENIED, "permission-denied"],
  [Code.UNAUTHENTICATED, "permission-denied"],
  [Code.UNIMPLEMENTED, "not-implemented"],
]);

/**
 * The status a thrown value is sent as: a BerthError by its kind, an AbortError as CANCELLED, a
 * TimeoutError (the call's deadline passed: its signal's reason) as DEADLINE_EXCEEDED, anything
 * else as UNKNOWN. The details are the error's message.
 */
export function statusOf(err: unknown): { code: number; details: string } {
  const details = err instanceof Error ? err.message : String(err);
  let code: number = Code.UNKNOWN;
  if (err instanceof BerthError) code = codeOfKind[err.kind];
  else if (err instanceof Error && err.name === "AbortError") code = Code.CANCELLED;
  else if (err instanceof Error && err.name === "TimeoutError") code = Code.DEADLINE_EXCEEDED;
  return { code, details };
}

/**
 * The status a failed call is answered with. Once the call's signal has aborted (its deadline
 * passed, or the client left) the handler's own error is a consequence of that, so the signal's
 * reason decides: a client whose deadline passes always sees DEADLINE_EXCEEDED, whichever side's
 * timer fires first.
 */
export function statusOfCall(err: unknown, signal: AbortSignal): { code: number; details: string } {
  return statusOf(signal.aborted ? signal.reason : err);
}

/**
 * A status as a transport received it (code and message): the cause of the BerthError a client
 * raises for it when the transport has no error object of its own (ttrpc), so statusCode() reads
 * the code back.
 */
export class StatusError extends Error {
  readonly code: number;
  readonly details: string;
  constructor(code: number, details: string) {
    super(details);
    this.name = "StatusError";
    this.code = code;
    this.details = details;
  }
}

/** A received non-OK status as the BerthError of its kind; `cause` (default a StatusError) keeps the code. */
export function errorOfStatus(
  code: number,
  message: string,
  cause: unknown = new StatusError(code, message),
): BerthError {
  return new BerthError(kindOf(code), message, { cause });
}

/** The error kind a received status code stands for ("internal" for codes of no kind). */
export function kindOf(code: number): ErrorKind {
  return kindOfCode.get(code) ?? "internal";
}

/** The status code behind an error a client call threw (following causes), or undefined. */
export function statusCode(err: unknown): number | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; i++) {
    if (typeof e.code === "number") return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}
