// A ttrpc server (unary calls): accepts connections on a unix socket and answers each Request
// frame with one Response frame on the same stream id. Handlers are async functions typed from
// the generated service, like grpc.ts's Impl; thrown BerthErrors go out as the status codes
// src/rpc/status.ts picks, so containerd maps them back to its errdefs kinds.
//
//   const server = createTtrpcServer();
//   addTtrpcService(server, Task, { state: async (req, ctx) => ({ ... }) });
//   await server.listen("/run/berth/s/abc.sock");
import { rmSync } from "node:fs";
import * as net from "node:net";
import {
  create,
  type DescMessage,
  type DescMethod,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { BerthError } from "../../common/errors.ts";
import { listenUnix } from "../../common/secure-fs.ts";
import { type Request, RequestSchema, ResponseSchema } from "../../proto/gen/ttrpc/ttrpc_pb.js";
import { NAMESPACE_KEY, statusOf } from "../status.ts";
import {
  CODE_INTERNAL,
  CODE_INVALID_ARGUMENT,
  CODE_OK,
  CODE_RESOURCE_EXHAUSTED,
  CODE_UNIMPLEMENTED,
  encodeFrame,
  type Frame,
  FrameReader,
  MAX_MESSAGE_LENGTH,
  MESSAGE_REQUEST,
  MESSAGE_RESPONSE,
} from "./frame.ts";

/** Per-call context handed to every handler. */
export interface TtrpcCallContext {
  /** The "containerd-namespace" metadata; "" when absent. */
  namespace: string;
  /** All request metadata (a key may carry several values, in the order sent). */
  metadata: ReadonlyMap<string, readonly string[]>;
  /** Aborted when the request's timeout passes, the connection drops or the server closes. */
  signal: AbortSignal;
  /** "pkg.Service.Method", for logs. */
  method: string;
}

type In<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
type OutInit<M> = M extends { output: infer O extends DescMessage } ? MessageInitShape<O> : never;

/** The handler of one unary RPC; the response may be a full message or an init object. */
export type TtrpcHandler<M> = (req: In<M>, ctx: TtrpcCallContext) => Promise<OutInit<M>>;

/** Handlers keyed by localName (camelCase); ttrpc here serves unary RPCs only. */
export type TtrpcServiceImpl<S extends GenServiceMethods> = {
  [K in keyof S as S[K] extends { methodKind: "unary" } ? K : never]: TtrpcHandler<S[K]>;
};

/** The implementation type of a generated service constant: `TtrpcImpl<typeof Task>`. */
export type TtrpcImpl<T> = T extends GenService<infer S> ? TtrpcServiceImpl<S> : never;

/** Sees every failed call, e.g. to log it. */
export type TtrpcErrorObserver = (method: string, err: unknown) => void;

/** What a dispatched call answers: a status, and on success the encoded response. */
interface Outcome {
  code: number;
  message: string;
  payload?: Uint8Array;
}

type MethodRunner = (req: Request, signal: AbortSignal) => Promise<Outcome>;

export class TtrpcServer {
  #methods = new Map<string, Map<string, MethodRunner>>();
  #net: net.Server | undefined;
  #path: string | undefined;
  #conns = new Set<net.Socket>();
  #closing = new AbortController();
  readonly #onListenerError: (err: Error) => void;

  constructor(opts: { onListenerError?: (err: Error) => void } = {}) {
    this.#onListenerError = opts.onListenerError ?? (() => {});
  }

  /** Registers one method's runner; addTtrpcService is the typed way in. */
  register(service: string, method: string, run: MethodRunner): void {
    let methods = this.#methods.get(service);
    if (!methods) {
      methods = new Map();
      this.#methods.set(service, methods);
    }
    methods.set(method, run);
  }

  /**
   * Listens on a unix socket path with exactly `mode` whatever the umask (0600, as containerd's
   * shims make theirs; the daemon's event socket is 0660); a stale socket file there is replaced.
   */
  async listen(path: string, mode = 0o600): Promise<void> {
    const srv = net.createServer((sock) => this.serve(sock));
    this.#net = srv;
    try {
      await listenUnix(path, mode, (at) => {
        return new Promise<void>((resolve, reject) => {
          srv.once("error", reject);
          srv.listen(at, () => {
            srv.off("error", reject);
            // An accept that fails (EMFILE, ENFILE, ENOMEM) costs that one connection; unheard,
            // Node would throw it and take the process down.
            srv.on("error", (err) => this.#onListenerError(err));
            resolve();
          });
        });
      });
    } catch (err) {
      srv.close();
      throw err;
    }
    this.#path = path;
  }

  /** Serves calls on one already-open connection (a listener's, or a socket handed over). */
  serve(sock: net.Socket): void {
    this.#conns.add(sock);
    const gone = new AbortController();
    const reader = new FrameReader();
    let lastStreamId = 0;
    const send = (streamId: number, o: Outcome) => {
      if (sock.destroyed) return;
      const res = create(ResponseSchema, {
        status: { code: o.code, message: o.message },
        payload: o.payload ?? new Uint8Array(0),
      });
      const body = toBinary(ResponseSchema, res);
      // The envelope adds a few bytes to a payload just under the limit: refuse rather than send.
      if (body.length > MAX_MESSAGE_LENGTH) {
        const message = `ttrpc: response of ${body.length} bytes is over the ${MAX_MESSAGE_LENGTH}-byte limit`;
        return send(streamId, { code: CODE_RESOURCE_EXHAUSTED, message });
      }
      sock.write(encodeFrame(streamId, MESSAGE_RESPONSE, 0, body));
    };
    const onFrame = (f: Frame) => {
      const refuse = (code: number, message: string) => send(f.streamId, { code, message });
      if (f.oversized !== undefined) {
        return refuse(
          CODE_RESOURCE_EXHAUSTED,
          `ttrpc: message of ${f.oversized} bytes is over the ${MAX_MESSAGE_LENGTH}-byte limit`,
        );
      }
      if (f.streamId % 2 !== 1)
        return refuse(CODE_INVALID_ARGUMENT, `ttrpc: stream id ${f.streamId} is even; clients use odd ids`);
      if (f.type !== MESSAGE_REQUEST) return refuse(CODE_INVALID_ARGUMENT, "ttrpc: only unary requests are served");
      if (f.streamId <= lastStreamId)
        return refuse(
          CODE_INVALID_ARGUMENT,
          `ttrpc: stream id ${f.streamId} is not above the last one (${lastStreamId})`,
        );
      lastStreamId = f.streamId;
      let req: Request;
      try {
        req = fromBinary(RequestSchema, f.payload);
      } catch (err) {
        return refuse(CODE_INVALID_ARGUMENT, `ttrpc: cannot decode the request: ${(err as Error).message}`);
      }
      this.#dispatch(req, gone.signal)
        .then((o) => send(f.streamId, o))
        .catch(() => sock.destroy()); // cannot answer (a bug): the client sees the connection drop
    };
    sock.on("data", (chunk: Buffer) => {
      for (const f of reader.push(chunk)) onFrame(f);
    });
    sock.on("error", () => sock.destroy());
    sock.on("close", () => {
      this.#conns.delete(sock);
      gone.abort(new BerthError("unavailable", "ttrpc: connection closed"));
    });
    this.#closing.signal.addEventListener("abort", () => sock.destroy(), { once: true, signal: gone.signal });
  }

  /** Stops listening, drops every connection (aborting calls in flight) and removes the socket. */
  async close(): Promise<void> {
    this.#closing.abort();
    for (const s of this.#conns) s.destroy();
    const srv = this.#net;
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
    if (this.#path) rmSync(this.#path, { force: true });
  }

  /** The socket's path once listening. */
  get path(): string | undefined {
    return this.#path;
  }

  async #dispatch(req: Request, connGone: AbortSignal): Promise<Outcome> {
    const methods = this.#methods.get(req.service);
    if (!methods) return { code: CODE_UNIMPLEMENTED, message: `ttrpc: no service ${req.service}` };
    const run = methods.get(req.method);
    if (!run) return { code: CODE_UNIMPLEMENTED, message: `ttrpc: service ${req.service} has no method ${req.method}` };
    // The call's own signal, and a deadline timer cleared when the call ends: AbortSignal.timeout
    // would stay pending (with its signals) until the timeout passed, up to 24.8 days a call.
    const call = new AbortController();
    const onGone = () => call.abort(connGone.reason);
    if (connGone.aborted) onGone();
    else connGone.addEventListener("abort", onGone, { once: true });
    const ms = deadlineMs(req.timeoutNano);
    const timer =
      ms === undefined
        ? undefined
        : setTimeout(
            () => call.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")),
            ms,
          );
    timer?.unref(); // as AbortSignal.timeout's: a call's deadline alone does not keep the process up
    try {
      return await run(req, call.signal);
    } finally {
      clearTimeout(timer);
      connGone.removeEventListener("abort", onGone);
    }
  }
}

/**
 * A request's timeout_nano as a timer delay in ms, none when 0 or less (no deadline). It is relative
 * to when the client sent the request, so the deadline starts now; past Node's longest timer (2^31-1
 * ms, 24.8 days) it is that.
 */
function deadlineMs(timeoutNano: bigint): number | undefined {
  if (timeoutNano <= 0n) return undefined;
  return Math.min(2 ** 31 - 1, Math.max(1, Number(timeoutNano / 1_000_000n)));
}

/** `onListenerError` hears a failed accept (the listener goes on); without it, it is dropped. */
export function createTtrpcServer(opts: { onListenerError?: (err: Error) => void } = {}): TtrpcServer {
  return new TtrpcServer(opts);
}

/** The request's metadata as a multimap. */
function metadataOf(req: Request): Map<string, string[]> {
  const md = new Map<string, string[]>();
  for (const kv of req.metadata) {
    const vs = md.get(kv.key);
    if (vs) vs.push(kv.value);
    else md.set(kv.key, [kv.value]);
  }
  return md;
}

/** Runs one handler: decode the payload, call, encode the answer; errors become statuses. */
function runnerOf(
  m: DescMethod,
  fn: ((req: unknown, ctx: TtrpcCallContext) => Promise<unknown>) | undefined,
  self: unknown,
  onError: TtrpcErrorObserver,
): MethodRunner {
  const name = `${m.parent.typeName}.${m.name}`;
  return async (req, signal) => {
    if (typeof fn !== "function") return { code: CODE_UNIMPLEMENTED, message: `ttrpc: ${name} is not implemented` };
    let input: unknown;
    try {
      input = fromBinary(m.input, req.payload);
    } catch (err) {
      return {
        code: CODE_INTERNAL,
        message: `ttrpc: cannot decode the ${m.input.typeName} payload: ${(err as Error).message}`,
      };
    }
    const md = metadataOf(req);
    const ctx: TtrpcCallContext = { namespace: md.get(NAMESPACE_KEY)?.[0] ?? "", metadata: md, signal, method: name };
    try {
      const res = await fn.call(self, input, ctx);
      const payload = toBinary(m.output, create(m.output, res as MessageInitShape<DescMessage>));
      if (payload.length > MAX_MESSAGE_LENGTH) {
        const message = `ttrpc: response of ${payload.length} bytes is over the ${MAX_MESSAGE_LENGTH}-byte limit`;
        onError(name, new Error(message));
        return { code: CODE_RESOURCE_EXHAUSTED, message };
      }
      return { code: CODE_OK, message: "", payload };
    } catch (err) {
      onError(name, err);
      const st = statusOf(err);
      return { code: st.code, message: st.details };
    }
  };
}

/**
 * Registers `impl` for `service` on `server` under the service's full name ("containerd.task.v2.Task"),
 * as ttrpc clients address it. A unary method the object lacks answers UNIMPLEMENTED, as do
 * streaming methods. `onError` sees every failed call.
 */
export function addTtrpcService<S extends GenServiceMethods>(
  server: TtrpcServer,
  service: GenService<S>,
  impl: Partial<TtrpcServiceImpl<S>>,
  onError: TtrpcErrorObserver = () => {},
): void {
  const generic = service as unknown as GenService<GenServiceMethods>;
  for (const m of generic.methods) {
    if (m.methodKind !== "unary") continue;
    const fn = (impl as Record<string, unknown>)[m.localName] as
      | ((req: unknown, ctx: TtrpcCallContext) => Promise<unknown>)
      | undefined;
    server.register(service.typeName, m.name, runnerOf(m, fn, impl, onError));
  }
}
