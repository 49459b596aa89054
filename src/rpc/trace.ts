// W3C Trace Context (level 1): the `traceparent` a call carries across every seam of the stack —
// gRPC and ttrpc metadata, the TRACEPARENT environment variable of runtime and hook processes —
// so one trace id names a task's work in the daemon's, the shim's and the runtime's logs.
//
//   traceparent = "00-" trace-id (32 hex) "-" parent-id (16 hex) "-" flags (2 hex)
//
// A header that does not parse is never an error: the receiver starts a trace of its own. Each
// hop makes a span of its own (a fresh span id) whose parent is the caller's, and sends that span
// as the parent-id of the next hop.
//
// Ids come from /dev/urandom, not node:crypto: loading node:crypto initialises OpenSSL, which cost
// every shim 0.8-1.2 MiB of private memory (measured with bench/ctr-run.ts), and the shim and the
// runtime load this module too.
import { closeSync, openSync, readSync } from "node:fs";

/** The metadata key (gRPC, ttrpc) the header travels under. */
export const TRACEPARENT_KEY = "traceparent";
/** The environment variable a runtime and its hooks receive it in. */
export const TRACEPARENT_ENV = "TRACEPARENT";
/**
 * Longer headers are not looked at. Version 00 is exactly 55 characters; a later version may append
 * fields, which a level-1 reader ignores; 512 leaves them room and bounds what a peer makes us scan.
 */
export const MAX_TRACEPARENT_LENGTH = 512;

/** The trace one hop works in. */
export interface TraceContext {
  /** 32 lowercase hex digits, not all zero: the same on every hop. */
  readonly traceId: string;
  /** 16 lowercase hex digits, not all zero: this hop's own span. */
  readonly spanId: string;
  /** The caller's span (the header's parent-id); undefined when this hop started the trace. */
  readonly parentId?: string;
  /** 2 hex digits: the trace flags (01: sampled). */
  readonly flags: string;
}

/** What a valid header says. */
export interface Traceparent {
  traceId: string;
  parentId: string;
  flags: string;
}

const HEX = /^[0-9a-f]+$/;
const isId = (s: string, length: number) => s.length === length && HEX.test(s) && !/^0+$/.test(s);

/**
 * The fields of a `traceparent` header, or undefined when it is not a valid one: wrong length,
 * uppercase or non-hex digits, an all-zero trace or parent id, version ff, or a version-00 header
 * with anything after its flags. A later version is read by its first four fields, as level 1 says.
 */
export function parseTraceparent(header: string | undefined): Traceparent | undefined {
  if (header === undefined || header.length < 55 || header.length > MAX_TRACEPARENT_LENGTH) return undefined;
  const version = header.slice(0, 2);
  if (!isHex(version, 2) || version === "ff") return undefined;
  if (version === "00" ? header.length !== 55 : header.length > 55 && header[55] !== "-") return undefined;
  if (header[2] !== "-" || header[35] !== "-" || header[52] !== "-") return undefined;
  const traceId = header.slice(3, 35);
  const parentId = header.slice(36, 52);
  const flags = header.slice(53, 55);
  if (!isId(traceId, 32) || !isId(parentId, 16) || !isHex(flags, 2)) return undefined;
  return { traceId, parentId, flags };
}

function isHex(s: string, length: number): boolean {
  return s.length === length && HEX.test(s);
}

/** A random id of `bytes` bytes as lowercase hex, never all zeros. */
function randomId(bytes: number): string {
  for (;;) {
    const id = urandom(bytes).toString("hex");
    if (!/^0+$/.test(id)) return id;
  }
}

/** `n` bytes from the kernel's random pool (a short read of /dev/urandom is retried). */
function urandom(n: number): Buffer {
  const buf = Buffer.alloc(n);
  const fd = openSync("/dev/urandom", "r");
  try {
    for (let got = 0; got < n; ) got += readSync(fd, buf, got, n - got, null);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** A new trace, started here (sampled, as containerd's tracing would record it). */
export function newTrace(): TraceContext {
  return { traceId: randomId(16), spanId: randomId(8), flags: "01" };
}

/**
 * The trace a hop works in, given the header its caller sent (if any): the caller's trace with a
 * span of our own, or a new trace when the header is absent or invalid.
 */
export function continueTrace(header: string | undefined): TraceContext {
  const p = parseTraceparent(header);
  if (!p) return newTrace();
  // Level 1 defines only the sampled bit; the others are not passed on.
  const flags = (Number.parseInt(p.flags, 16) & 0x01).toString(16).padStart(2, "0");
  return { traceId: p.traceId, spanId: randomId(8), parentId: p.parentId, flags };
}

/** The header the next hop receives: our trace, our span as its parent. */
export function traceparentOf(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

/**
 * The header to send for what a caller gave: a TraceContext (forwarding the trace of the call
 * being served) becomes its child header; a string is sent as given (the caller's own header).
 */
export function outgoingTraceparent(trace: TraceContext | string | undefined): string | undefined {
  if (trace === undefined) return undefined;
  return typeof trace === "string" ? trace : traceparentOf(trace);
}

/** The trace named by the TRACEPARENT variable of `env`, or undefined when it holds no valid one. */
export function traceFromEnv(env: NodeJS.ProcessEnv = process.env): TraceContext | undefined {
  const header = env[TRACEPARENT_ENV];
  return parseTraceparent(header) ? continueTrace(header) : undefined;
}
