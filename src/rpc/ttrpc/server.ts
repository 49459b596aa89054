// A ttrpc server (unary calls): accepts connections on a unix socket and answers each Request
// frame with one Response frame on the same stream id. Services are implemented as for gRPC
// (src/rpc/service.ts's Impl, each handler given a RequestContext); thrown BerthErrors go out as
// the status codes src/rpc/status.ts picks, so containerd maps them back to its errdefs kinds.
//
//   const server = createTtrpcServer();
//   addTtrpcService(server, Task, { state: async (req, ctx) => ({ ... }) });
//   await server.listen("/run/berth/s/abc.sock");
import { rmSync } from "node:fs";
import * as net from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { BerthError } from "../../common/errors.ts";
import { listenUnix } from "../../common/secure-fs.ts";
import { type Request, RequestSchema, ResponseSchema } from "../../proto/gen/ttrpc/ttrpc_pb.js";
import { type Metadata, openCall } from "../context.ts";
import { decode, type ErrorObserver, encode, handlerOf, methodName, methodsOf, type ServiceImpl } from "../service.ts";
import { Code, statusOfCall } from "../status.ts";
import {
  encodeFrame,
  type Frame,
  FrameReader,
  MAX_MESSAGE_LENGTH,
  MESSAGE_REQUEST,
  MESSAGE_RESPONSE,
} from "./frame.ts";

/** What a dispatched call answers: a status, and on success the encoded response. */
interface Outcome {
  code: number;
  message: string;
  payload?: Uint8Array;
}

/** Runs one call of a method; `cancelled` aborts when its connection drops or the server closes. */
type MethodRunner = (req: Request, cancelled: AbortSignal) => Promise<Outcome>;

export class TtrpcServer {
  #methods = new Map<string, Map<string, MethodRunner>>();
  #net: net.Server | undefined;
  #path: string | undefined;
  #conns = new Set<net.Socket>();
  #closing = new AbortController();
  readonly #onListenerError: (err: Error) => void;
  readonly #onConnection: () => void;

  constructor(opts: TtrpcServerOptions = {}) {
    this.#onListenerError = opts.onListenerError ?? (() => {});
    this.#onConnection = opts.onConnection ?? (() => {});
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
    const srv = net.createServer((sock) => {
      this.#onConnection();
      this.serve(sock);
    });
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
      const body = encode(ResponseSchema, {
        status: { code: o.code, message: o.message },
        payload: o.payload ?? new Uint8Array(0),
      });
      // The envelope adds a few bytes to a payload just under the limit: refuse rather than send.
      if (body.length > MAX_MESSAGE_LENGTH) {
        const message = `ttrpc: response of ${body.length} bytes is over the ${MAX_MESSAGE_LENGTH}-byte limit`;
        return send(streamId, { code: Code.RESOURCE_EXHAUSTED, message });
      }
      sock.write(encodeFrame(streamId, MESSAGE_RESPONSE, 0, body));
    };
    const onFrame = (f: Frame) => {
      const refuse = (code: number, message: string) => send(f.streamId, { code, message });
      if (f.oversized !== undefined) {
        return refuse(
          Code.RESOURCE_EXHAUSTED,
          `ttrpc: message of ${f.oversized} bytes is over the ${MAX_MESSAGE_LENGTH}-byte limit`,
        );
      }
      if (f.streamId % 2 !== 1)
        return refuse(Code.INVALID_ARGUMENT, `ttrpc: stream id ${f.streamId} is even; clients use odd ids`);
      if (f.type !== MESSAGE_REQUEST) return refuse(Code.INVALID_ARGUMENT, "ttrpc: only unary requests are served");
      if (f.streamId <= lastStreamId)
        return refuse(
          Code.INVALID_ARGUMENT,
          `ttrpc: stream id ${f.streamId} is not above the last one (${lastStreamId})`,
        );
      lastStreamId = f.streamId;
      let req: Request;
      try {
        req = decode(RequestSchema, f.payload) as Request;
      } catch (err) {
        return refuse(Code.INVALID_ARGUMENT, `ttrpc: cannot decode the request: ${(err as Error).message}`);
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

  /**
   * Stops listening, drops every connection (aborting calls in flight) and removes the socket. In
   * that order: a client that sees its connection dropped must find no listener behind the path
   * (a daemon then starts a new shim there rather than joining one that is going away).
   */
  async close(): Promise<void> {
    const srv = this.#net;
    const stopped = srv ? new Promise<void>((resolve) => srv.close(() => resolve())) : Promise.resolve();
    this.#closing.abort();
    for (const s of this.#conns) s.destroy();
    await stopped;
    if (this.#path) rmSync(this.#path, { force: true });
  }

  /** The socket's path once listening. */
  get path(): string | undefined {
    return this.#path;
  }

  #dispatch(req: Request, connGone: AbortSignal): Promise<Outcome> {
    const methods = this.#methods.get(req.service);
    if (!methods) return Promise.resolve({ code: Code.UNIMPLEMENTED, message: `ttrpc: no service ${req.service}` });
    const run = methods.get(req.method);
    if (!run) {
      const message = `ttrpc: service ${req.service} has no method ${req.method}`;
      return Promise.resolve({ code: Code.UNIMPLEMENTED, message });
    }
    return run(req, connGone);
  }
}

/**
 * A request's timeout_nano as a deadline (ms since the epoch), none when 0 or less. It is relative
 * to when the client sent the request, so the deadline starts now.
 */
function deadlineOf(timeoutNano: bigint): number | undefined {
  if (timeoutNano <= 0n) return undefined;
  return Date.now() + Number(timeoutNano / 1_000_000n);
}

export interface TtrpcServerOptions {
  /** Hears a failed accept (the listener goes on); without it, it is dropped. */
  onListenerError?: (err: Error) => void;
  /** Hears each connection the listener accepts, before it is served. */
  onConnection?: () => void;
}

export function createTtrpcServer(opts: TtrpcServerOptions = {}): TtrpcServer {
  return new TtrpcServer(opts);
}

/** The request's metadata as a multimap, keys lowercased (as gRPC's are: keys are case-insensitive). */
function metadataOf(req: Request): Metadata {
  const md = new Map<string, string[]>();
  for (const kv of req.metadata) {
    const key = kv.key.toLowerCase();
    const vs = md.get(key);
    if (vs) vs.push(kv.value);
    else md.set(key, [kv.value]);
  }
  return md;
}

/** Runs one handler: decode the payload, call, encode the answer; errors become statuses. */
function runnerOf(m: DescMethod, impl: object, onError: ErrorObserver): MethodRunner {
  const name = methodName(m);
  const handler = handlerOf(impl, m);
  return async (req, cancelled) => {
    let input: unknown;
    try {
      input = decode(m.input, req.payload);
    } catch (err) {
      return {
        code: Code.INTERNAL,
        message: `ttrpc: cannot decode the ${m.input.typeName} payload: ${(err as Error).message}`,
      };
    }
    // The deadline's timer is cleared when the call ends (see openCall).
    const { ctx, end } = openCall(name, metadataOf(req), { cancelled, deadline: deadlineOf(req.timeoutNano) });
    try {
      const payload = encode(m.output, await handler(input, ctx));
      if (payload.length > MAX_MESSAGE_LENGTH) {
        const message = `ttrpc: response of ${payload.length} bytes is over the ${MAX_MESSAGE_LENGTH}-byte limit`;
        onError(name, new Error(message), ctx);
        return { code: Code.RESOURCE_EXHAUSTED, message };
      }
      return { code: Code.OK, message: "", payload };
    } catch (err) {
      onError(name, err, ctx);
      const st = statusOfCall(err, ctx.signal);
      return { code: st.code, message: st.details };
    } finally {
      end();
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
  impl: Partial<ServiceImpl<S>>,
  onError: ErrorObserver = () => {},
): void {
  for (const m of methodsOf(service)) {
    if (m.methodKind === "unary") server.register(service.typeName, m.name, runnerOf(m, impl, onError));
  }
}
