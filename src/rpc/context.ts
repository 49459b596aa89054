// The request context: what every handler learns about its call, on either transport (gRPC or
// ttrpc) — its method, the containerd namespace and lease, all metadata, a signal that aborts when
// the call is cancelled or its deadline passes, and the W3C trace it belongs to. The client side's
// options are here too, so a client of either transport sends the same metadata the same way,
// and a handler forwards its trace to the next hop with `{ trace: ctx.trace }`.
import { continueTrace, outgoingTraceparent, TRACEPARENT_KEY, type TraceContext } from "./trace.ts";

/** The metadata key containerd clients name the request's namespace with. */
export const NAMESPACE_KEY = "containerd-namespace";
/** The metadata key containerd clients name the lease to hold new resources with. */
export const LEASE_KEY = "containerd-lease";

/** Request metadata: each key (lowercase) with its values in the order sent. */
export type Metadata = ReadonlyMap<string, readonly string[]>;

/** What a handler gets with each call. */
export interface RequestContext {
  /** "pkg.Service.Method", for logs. */
  readonly method: string;
  /** The "containerd-namespace" metadata; "" when absent. */
  readonly namespace: string;
  /** The "containerd-lease" metadata; "" when absent. */
  readonly lease: string;
  /** All request metadata. */
  readonly metadata: Metadata;
  /** Aborted when the client cancels the call or goes, the server closes, or the deadline passes. */
  readonly signal: AbortSignal;
  /** When the client gives up (ms since the epoch); undefined when it set no deadline. */
  readonly deadline: number | undefined;
  /** The caller's trace with a span of this call's own, or a new trace (see trace.ts). */
  readonly trace: TraceContext;
}

/** A call being served: its context, and `end()` once it is answered (stops its deadline timer). */
export interface CallScope {
  readonly ctx: RequestContext;
  end(): void;
}

/**
 * Longest timer Node keeps (2^31-1 ms, 24.8 days): a later deadline waits that long, and a deadline
 * already past still waits 1 ms, so the abort always comes from the timer, after the call started.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Opens the context of a call as a server receives it: `cancelled` is the transport's own end of
 * the call (the client cancelled, the connection dropped, the server closes); `deadline` is when
 * the client gives up. The deadline's timer is cleared by `end()`, not left pending until it
 * passes (a ttrpc client may send a timeout of days: each call's timer would be kept that long).
 */
export function openCall(
  method: string,
  metadata: Metadata,
  opts: { cancelled: AbortSignal; deadline?: number | undefined },
): CallScope {
  const call = new AbortController();
  const { cancelled } = opts;
  const onCancel = () => call.abort(cancelled.reason);
  if (cancelled.aborted) onCancel();
  else cancelled.addEventListener("abort", onCancel, { once: true });
  const deadline = opts.deadline !== undefined && Number.isFinite(opts.deadline) ? opts.deadline : undefined;
  let timer: NodeJS.Timeout | undefined;
  if (deadline !== undefined) {
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(deadline - Date.now())));
    timer = setTimeout(() => call.abort(new DOMException(`${method}: the call's deadline passed`, "TimeoutError")), ms);
    timer.unref(); // a call's deadline alone does not keep the process up
  }
  const first = (key: string) => metadata.get(key)?.[0] ?? "";
  const traceparent = metadata.get(TRACEPARENT_KEY);
  const ctx: RequestContext = {
    method,
    namespace: first(NAMESPACE_KEY),
    lease: first(LEASE_KEY),
    metadata,
    signal: call.signal,
    deadline,
    // Several traceparent values make the header invalid (W3C): a new trace then.
    trace: continueTrace(traceparent?.length === 1 ? traceparent[0] : undefined),
  };
  return {
    ctx,
    end: () => {
      clearTimeout(timer);
      cancelled.removeEventListener("abort", onCancel);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Client side

/** Options of one client call, on either transport. */
export interface CallOptions {
  /** Overrides the client's namespace for this call ("" sends none). */
  namespace?: string;
  /** Sent as "containerd-lease". */
  lease?: string;
  /** Further metadata; an array sends the key once per value. */
  metadata?: Record<string, string | readonly string[]>;
  /**
   * The trace to send as `traceparent`, overriding the client's: a TraceContext (a handler's
   * `ctx.trace`, forwarded to the next hop as its child) or a traceparent header, sent as given.
   */
  trace?: TraceContext | string | undefined;
  /** Cancels the call; it then rejects (or its iteration throws) with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Gives up (DEADLINE_EXCEEDED) at this time (a Date, or ms since the epoch)... */
  deadline?: Date | number | undefined;
  /** ... or after this long; the earlier of the two wins. The server is told the same. */
  timeoutMs?: number | undefined;
}

/** Options of a client: what each call sends unless the call says otherwise. */
export interface ClientOptions {
  /** Sent as "containerd-namespace" on every call that does not override it. */
  namespace?: string | undefined;
  /** Sent as `traceparent` on every call that does not override it (see CallOptions.trace). */
  trace?: TraceContext | string | undefined;
  /** The timeout of calls that set no deadline; unset means no deadline. */
  timeoutMs?: number | undefined;
}

/** The metadata a call sends: its extra pairs, then the namespace, lease and traceparent. */
export function outgoingMetadata(client: ClientOptions, call: CallOptions = {}): Map<string, string[]> {
  const md = new Map<string, string[]>();
  for (const [key, v] of Object.entries(call.metadata ?? {})) md.set(key, typeof v === "string" ? [v] : [...v]);
  const ns = call.namespace ?? client.namespace;
  if (ns) md.set(NAMESPACE_KEY, [ns]);
  if (call.lease) md.set(LEASE_KEY, [call.lease]);
  const traceparent = outgoingTraceparent(call.trace ?? client.trace);
  if (traceparent !== undefined) md.set(TRACEPARENT_KEY, [traceparent]);
  return md;
}

/** When a call gives up (ms since the epoch): the earlier of its deadline and its timeout, if any. */
export function deadlineOf(client: ClientOptions, call: CallOptions = {}, now = Date.now()): number | undefined {
  const timeout = call.timeoutMs ?? client.timeoutMs;
  const byTimeout = timeout ? now + timeout : undefined;
  const byDate = call.deadline === undefined ? undefined : +call.deadline;
  if (byDate === undefined) return byTimeout;
  return byTimeout === undefined ? byDate : Math.min(byDate, byTimeout);
}
