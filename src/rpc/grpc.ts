// gRPC plumbing between @grpc/grpc-js and the protobuf-es (v2) services generated from our .proto
// files (src/proto/gen). A service implementation is a plain object of async functions, one per
// RPC; thrown BerthErrors become gRPC status codes, and a client turns those codes back into the
// same BerthError kinds, the way containerd's errdefs map error kinds, so either end of a
// connection can be containerd's.
//
// Server:  addService(server, Content, impl)   with impl: Impl<typeof Content>
// Client:  const c = createClient(Content, "unix:///run/x.sock", { namespace: "default" })
import { once } from "node:events";
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
import * as grpc from "@grpc/grpc-js";
import { BerthError } from "../common/errors.ts";
import { kindOf, LEASE_KEY, NAMESPACE_KEY, statusCode, statusOf } from "./status.ts";

export { LEASE_KEY, NAMESPACE_KEY };

// ---------------------------------------------------------------------------------------------
// Status codes (the mapping itself is status.ts's, shared with ttrpc)

/** The gRPC status a thrown value is sent as (see statusOf). */
export function toStatus(err: unknown): grpc.StatusObject {
  const { code, details } = statusOf(err);
  return { code, details, metadata: new grpc.Metadata() };
}

/**
 * A gRPC error received by a client, as the BerthError kind its code stands for, with the server's
 * message (CANCELLED, DEADLINE_EXCEEDED and other codes become kind "internal"). The original
 * grpc-js error is the cause; `grpcCode()` reads its code back.
 */
export function fromStatus(err: unknown): Error {
  if (err instanceof BerthError) return err;
  const e = err as Partial<grpc.ServiceError> | undefined;
  if (typeof e?.code !== "number") return err instanceof Error ? err : new Error(String(err));
  const message = e.details || e.message || `gRPC status ${grpc.status[e.code] ?? e.code}`;
  return new BerthError(kindOf(e.code), message, { cause: err });
}

/** The gRPC status code behind an error a client call threw, or undefined. */
export function grpcCode(err: unknown): grpc.status | undefined {
  return statusCode(err) as grpc.status | undefined;
}

// ---------------------------------------------------------------------------------------------
// Service definitions

/** The grpc-js definition of a generated service: paths "/pkg.Service/Method", binary codec. */
export function serviceDefinition(service: GenService<GenServiceMethods>): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: methodPath(m),
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: (msg: unknown) => asBuffer(toBinary(m.input, msg as MessageShape<DescMessage>)),
      requestDeserialize: (buf: Buffer) => fromBinary(m.input, buf),
      responseSerialize: (msg: unknown) => asBuffer(toBinary(m.output, msg as MessageShape<DescMessage>)),
      responseDeserialize: (buf: Buffer) => fromBinary(m.output, buf),
      originalName: m.name,
    };
  }
  return def as grpc.ServiceDefinition;
}

/**
 * An encoded message as a Buffer over the same memory: toBinary's array is fresh and no one else's,
 * and grpc-js copies it into its frame anyway; Buffer.from(array) would copy every message once
 * more (a 32 KiB Content.Read chunk, or up to 16 MiB).
 */
function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

/** "/containerd.services.content.v1.Content/Read" */
export function methodPath(m: DescMethod): string {
  return `/${m.parent.typeName}/${m.name}`;
}

// ---------------------------------------------------------------------------------------------
// Server side

/** Per-call context handed to every handler. */
export interface CallContext {
  /** The "containerd-namespace" metadata; "" when absent. */
  namespace: string;
  /** The "containerd-lease" metadata; "" when absent. */
  lease: string;
  /** All request metadata. */
  metadata: grpc.Metadata;
  /** Aborted when the client cancels the call, disconnects or its deadline passes. */
  signal: AbortSignal;
  /** "pkg.Service.Method", for logs. */
  method: string;
}

type In<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
type OutSchema<M> = M extends { output: infer O extends DescMessage } ? O : never;
type Out<M> = MessageShape<OutSchema<M>>;
type OutInit<M> = MessageInitShape<OutSchema<M>>;

/**
 * The handler of one RPC. Responses may be full messages or init objects (`create()` style).
 * - unary:            (req, ctx) => Promise<Res>
 * - server streaming: (req, ctx) => AsyncIterable<Res>      (an async generator)
 * - client streaming: (reqs, ctx) => Promise<Res>
 * - bidi streaming:   (reqs, ctx) => AsyncIterable<Res>
 */
export type Handler<M> = M extends { methodKind: "unary" }
  ? (req: In<M>, ctx: CallContext) => Promise<OutInit<M>>
  : M extends { methodKind: "server_streaming" }
    ? (req: In<M>, ctx: CallContext) => AsyncIterable<OutInit<M>>
    : M extends { methodKind: "client_streaming" }
      ? (reqs: AsyncIterable<In<M>>, ctx: CallContext) => Promise<OutInit<M>>
      : (reqs: AsyncIterable<In<M>>, ctx: CallContext) => AsyncIterable<OutInit<M>>;

/** An implementation of a service: one handler per RPC, keyed by the method's localName (camelCase). */
export type ServiceImpl<S extends GenServiceMethods> = { [K in keyof S]: Handler<S[K]> };

/** The implementation type of a generated service constant: `Impl<typeof Content>`. */
export type Impl<T> = T extends GenService<infer S> ? ServiceImpl<S> : never;

/** Sees every call that failed (not those the client cancelled), e.g. to log it. */
export type ErrorObserver = (method: string, err: unknown) => void;

type AnyServerCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

function contextOf(call: AnyServerCall, method: string): CallContext {
  const first = (key: string) => {
    const v = call.metadata.get(key)[0];
    return typeof v === "string" ? v : (v?.toString() ?? "");
  };
  const ac = new AbortController();
  const abort = () => ac.abort(Object.assign(new Error(`${method}: call cancelled`), { name: "AbortError" }));
  if (call.cancelled) abort();
  else (call as { once(event: "cancelled", fn: () => void): unknown }).once("cancelled", abort);
  return {
    namespace: first(NAMESPACE_KEY),
    lease: first(LEASE_KEY),
    metadata: call.metadata,
    signal: ac.signal,
    method,
  };
}

/**
 * Requests of a streaming call as an async iterable. Leaving the loop early (a handler that
 * returns or throws) must not destroy the call: its status still has to go out on it. A call the
 * client cancels ends the loop with an AbortError, not as a clean end of requests: grpc-js ends the
 * request stream just before it reports the cancellation, so an end is confirmed a turn later.
 */
function requestsOf(
  call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  ctx: CallContext,
): AsyncIterable<unknown> {
  return {
    async *[Symbol.asyncIterator]() {
      const it = call.iterator({ destroyOnReturn: false }) as AsyncIterator<unknown>;
      try {
        for (;;) {
          const r = await it.next();
          if (!r.done) {
            yield r.value;
            continue;
          }
          await new Promise((resolve) => setImmediate(resolve));
          ctx.signal.throwIfAborted();
          return;
        }
      } catch (err) {
        ctx.signal.throwIfAborted();
        throw err;
      } finally {
        await it.return?.();
      }
    },
  };
}

/** Writes a handler's responses to a server stream, honouring back-pressure and cancellation. */
async function writeAll(
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  items: AsyncIterable<unknown>,
  toMsg: (x: unknown) => unknown,
  signal: AbortSignal,
): Promise<void> {
  for await (const item of items) {
    // Returning closes the handler's generator (its finally blocks run).
    if (call.cancelled) return;
    if (!call.write(toMsg(item))) await once(call, "drain", { signal });
  }
}

/**
 * Registers `impl` for `service` on `server`. Handlers are looked up by localName; a method the
 * object lacks answers UNIMPLEMENTED. `onError` sees every failed call (for logging).
 */
export function addService<S extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<S>,
  impl: ServiceImpl<S>,
  onError: ErrorObserver = () => {},
): void {
  const handlers: grpc.UntypedServiceImplementation = {};
  const generic = service as unknown as GenService<GenServiceMethods>;
  for (const m of generic.methods) {
    const fn = (impl as Record<string, unknown>)[m.localName] as ((...a: unknown[]) => unknown) | undefined;
    const name = `${service.typeName}.${m.name}`;
    const toMsg = (x: unknown) => create(m.output, x as MessageInitShape<DescMessage>);
    // Runs the handler; a synchronous throw becomes a rejection, a missing handler UNIMPLEMENTED.
    const run = async (arg: unknown, ctx: CallContext): Promise<unknown> => {
      if (typeof fn !== "function") throw new BerthError("not-implemented", `${name} is not implemented`);
      return fn.call(impl, arg, ctx);
    };
    const runStream = (arg: unknown, ctx: CallContext): AsyncIterable<unknown> => {
      if (typeof fn !== "function") throw new BerthError("not-implemented", `${name} is not implemented`);
      return fn.call(impl, arg, ctx) as AsyncIterable<unknown>;
    };
    const status = (call: AnyServerCall, err: unknown) => {
      if (!call.cancelled) onError(name, err);
      return toStatus(err);
    };
    const stream = (
      call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
      arg: (ctx: CallContext) => unknown,
    ) => {
      const ctx = contextOf(call, name);
      Promise.resolve()
        .then(() => writeAll(call, runStream(arg(ctx), ctx), toMsg, ctx.signal))
        .then(
          () => {
            if (!call.cancelled) call.end();
          },
          (err) => {
            if (!call.cancelled) call.emit("error", status(call, err));
          },
        );
    };
    switch (m.methodKind) {
      case "unary":
        handlers[m.localName] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          run(call.request, contextOf(call, name)).then(
            (res) => cb(null, toMsg(res)),
            (err) => cb(status(call, err)),
          );
        };
        break;
      case "client_streaming":
        handlers[m.localName] = (
          call: grpc.ServerReadableStream<unknown, unknown>,
          cb: grpc.sendUnaryData<unknown>,
        ) => {
          const ctx = contextOf(call, name);
          run(requestsOf(call, ctx), ctx).then(
            (res) => cb(null, toMsg(res)),
            (err) => cb(status(call, err)),
          );
        };
        break;
      case "server_streaming":
        handlers[m.localName] = (call: grpc.ServerWritableStream<unknown, unknown>) => stream(call, () => call.request);
        break;
      case "bidi_streaming":
        handlers[m.localName] = (call: grpc.ServerDuplexStream<unknown, unknown>) =>
          stream(call, (ctx) => requestsOf(call, ctx));
        break;
    }
  }
  server.addService(serviceDefinition(generic), handlers);
}

/**
 * Stream resets (RST_STREAM frames) a client may send on one connection: a token bucket of
 * `burst` resets, refilled at `perSecond`; past it the session is torn down (GOAWAY). nghttp2's
 * default (1000, then 33 a second), its guard against the rapid-reset flood, also ends containerd's
 * own clients: ctr reads every blob through a ReaderAt that opens one Read stream per 32 KiB chunk
 * and cancels it once the chunk is in, so `ctr images export` of a 200 MB image sends ~6,400 resets
 * as fast as the daemon answers (about 500 a second here) and lost its connection after ~40 MB.
 * These numbers serve that pattern with room to spare (the daemon answers well under 10,000
 * streams a second, and the burst alone covers 625 MiB of 32 KiB reads) and still cut a flood
 * that outruns the daemon; a slower flood is paced by the daemon's one thread, and the socket
 * (0660, root's) is the real gate (src/proto/README.md).
 */
export const STREAM_RESET_LIMIT = { burst: 20_000, perSecond: 10_000 } as const;

/**
 * A grpc-js server whose HTTP/2 sessions allow `resets` (STREAM_RESET_LIMIT). grpc-js passes no option of
 * its own through to node:http2, so the settings go into the options it builds its HTTP/2 servers
 * from (read at bind time); if a grpc-js version stops keeping them there, this throws rather than
 * serve with the old limit.
 */
export function createServer(
  options: grpc.ServerOptions = {},
  resets: { burst: number; perSecond: number } = STREAM_RESET_LIMIT,
): grpc.Server {
  const server = new grpc.Server(options);
  const common = (server as unknown as { commonServerOptions?: Record<string, unknown> }).commonServerOptions;
  if (typeof common !== "object" || common === null) {
    throw new Error("@grpc/grpc-js keeps no commonServerOptions: cannot set the HTTP/2 stream reset limit");
  }
  common.streamResetBurst = resets.burst;
  common.streamResetRate = resets.perSecond;
  return server;
}

/**
 * Stops `server`: no new connections at once, calls in progress get `graceMs` to finish, then every
 * connection is closed and the calls still open (event subscriptions, a Wait on a task that runs
 * for days) are cancelled, so their handlers see their signal abort. grpc-js's tryShutdown alone
 * waits for every call however long it lasts. Resolves with whether calls had to be cut.
 */
export function shutdownServer(server: grpc.Server, graceMs: number): Promise<{ forced: boolean }> {
  return new Promise((resolve) => {
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      server.forceShutdown();
      // forceShutdown destroys the sessions and tryShutdown's callback follows once they closed;
      // should one never report, the stop goes on all the same.
      setTimeout(() => resolve({ forced }), 1000).unref();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve({ forced });
    });
  });
}

/** Binds `server` to a unix socket path (or a full grpc-js address such as "unix:///p"). */
export function bindUnix(server: grpc.Server, address: string): Promise<void> {
  const target = address.includes("://") || address.startsWith("unix:") ? address : `unix://${address}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
}

// ---------------------------------------------------------------------------------------------
// Client side

type ClientIn<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;

/** Per-call options of a client call. */
export interface CallOptions {
  /** Overrides the client's namespace for this call ("" sends none). */
  namespace?: string;
  /** Sent as "containerd-lease". */
  lease?: string;
  /** Further metadata to send. */
  metadata?: Record<string, string>;
  /** Cancels the call; the call then rejects (or its iteration throws) with the signal's reason. */
  signal?: AbortSignal;
  /** Gives up (DEADLINE_EXCEEDED) after this time (a Date, or ms since the epoch). */
  deadline?: Date | number;
}

/** A client-streaming call in progress: send requests, end, then await the single response. */
export interface ClientStreamCall<Req, Res> {
  /** Resolves once the message is handed to the transport (back-pressure); rejects if the call failed. */
  send(msg: Req): Promise<void>;
  /** Half-closes: no more requests. */
  end(): void;
  /** The server's answer (or its error). */
  response: Promise<Res>;
  cancel(): void;
}

/** A bidirectional-streaming call in progress: send requests, read responses. */
export interface BidiStreamCall<Req, Res> {
  send(msg: Req): Promise<void>;
  end(): void;
  /** The server's responses; ends at the server's OK status, throws its error otherwise. */
  responses: AsyncIterable<Res>;
  cancel(): void;
}

type ClientMethod<M> = M extends { methodKind: "unary" }
  ? (req: ClientIn<M>, opts?: CallOptions) => Promise<Out<M>>
  : M extends { methodKind: "server_streaming" }
    ? (req: ClientIn<M>, opts?: CallOptions) => AsyncIterable<Out<M>>
    : M extends { methodKind: "client_streaming" }
      ? (opts?: CallOptions) => ClientStreamCall<ClientIn<M>, Out<M>>
      : (opts?: CallOptions) => BidiStreamCall<ClientIn<M>, Out<M>>;

/** One method per RPC, keyed by localName, plus close(). */
export type ServiceClient<S extends GenServiceMethods> = { [K in keyof S]: ClientMethod<S[K]> } & {
  /** Closes the connection; a shared channel closes when the last client using it closes. */
  close(): void;
};

/** The client type of a generated service constant: `Client<typeof Content>`. */
export type Client<T> = T extends GenService<infer S> ? ServiceClient<S> : never;

export interface ClientOptions {
  /** Sent as "containerd-namespace" on every call that does not override it. */
  namespace?: string;
  /**
   * Share one connection between the clients of several services (see openChannel). It closes
   * when every client created with it has been closed.
   */
  channel?: grpc.Channel;
}

/**
 * Largest gRPC message either way, containerd's default for its server and clients (16 MiB). A
 * server that took more would store what no containerd client can read back: an image with 20 MiB
 * of labels breaks every `ctr images ls` of its namespace. Bulk data streams in smaller messages.
 */
export const MAX_MESSAGE_SIZE = 16 << 20;

/** The server's and the clients' message limits. */
export const messageLimits = {
  "grpc.max_receive_message_length": MAX_MESSAGE_SIZE,
  "grpc.max_send_message_length": MAX_MESSAGE_SIZE,
} as const satisfies grpc.ChannelOptions;

const channelOptions: grpc.ChannelOptions = { ...messageLimits };

function targetOf(address: string): string {
  return address.includes("://") || address.startsWith("unix:") ? address : `unix://${address}`;
}

/** A connection to a daemon: "unix:///path", a bare socket path, or any grpc-js target. */
export function openChannel(address: string): grpc.Channel {
  return new grpc.Channel(targetOf(address), grpc.credentials.createInsecure(), channelOptions);
}

// Clients sharing a channel: the channel closes with the last of them.
const channelUsers = new WeakMap<grpc.Channel, number>();

/** A typed client of `service` at `address` ("unix:///path" or a bare socket path). */
export function createClient<S extends GenServiceMethods>(
  service: GenService<S>,
  address: string,
  opts: ClientOptions = {},
): ServiceClient<S> {
  const generic = service as unknown as GenService<GenServiceMethods>;
  const channel = opts.channel ?? openChannel(address);
  const client = new grpc.Client(targetOf(address), grpc.credentials.createInsecure(), { channelOverride: channel });
  channelUsers.set(channel, (channelUsers.get(channel) ?? 0) + 1);
  let closed = false;
  const out: Record<string, unknown> = {
    close: () => {
      if (closed) return;
      closed = true;
      const left = (channelUsers.get(channel) ?? 1) - 1;
      channelUsers.set(channel, left);
      if (left <= 0) client.close();
    },
  };
  const meta = (o: CallOptions | undefined) => {
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(o?.metadata ?? {})) md.set(k, v);
    const ns = o?.namespace ?? opts.namespace;
    if (ns) md.set(NAMESPACE_KEY, ns);
    if (o?.lease) md.set(LEASE_KEY, o.lease);
    return md;
  };
  const callOpts = (o: CallOptions | undefined): grpc.CallOptions =>
    o?.deadline === undefined ? {} : { deadline: o.deadline };
  for (const m of generic.methods) {
    const path = methodPath(m);
    const ser = (x: unknown) => asBuffer(toBinary(m.input, create(m.input, x as MessageInitShape<DescMessage>)));
    const de = (b: Buffer) => fromBinary(m.output, b);
    switch (m.methodKind) {
      case "unary":
        out[m.localName] = (req: unknown, o?: CallOptions) =>
          new Promise((resolve, reject) => {
            if (o?.signal?.aborted) return reject(o.signal.reason);
            const call = client.makeUnaryRequest(path, ser, de, req, meta(o), callOpts(o), (err, res) =>
              err ? reject(clientError(err, o)) : resolve(res),
            );
            onAbort(o, () => call.cancel());
          });
        break;
      case "server_streaming":
        out[m.localName] = (req: unknown, o?: CallOptions) => {
          const call = client.makeServerStreamRequest(path, ser, de, req, meta(o), callOpts(o));
          return responsesOf(call, o);
        };
        break;
      case "client_streaming":
        out[m.localName] = (o?: CallOptions): ClientStreamCall<unknown, unknown> => {
          let settle: { resolve(v: unknown): void; reject(e: unknown): void } | undefined;
          const response = new Promise((resolve, reject) => {
            settle = { resolve, reject };
          });
          // Callers that only send (and fail on send) need not also await the response.
          response.catch(() => {});
          const call = client.makeClientStreamRequest(path, ser, de, meta(o), callOpts(o), (err, res) =>
            err ? settle?.reject(clientError(err, o)) : settle?.resolve(res),
          );
          return { ...sender(call, o), response };
        };
        break;
      case "bidi_streaming":
        out[m.localName] = (o?: CallOptions): BidiStreamCall<unknown, unknown> => {
          const call = client.makeBidiStreamRequest(path, ser, de, meta(o), callOpts(o));
          return { ...sender(call, o), responses: responsesOf(call, o) };
        };
        break;
    }
  }
  return out as ServiceClient<S>;
}

function clientError(err: unknown, o: CallOptions | undefined): unknown {
  if (o?.signal?.aborted) return o.signal.reason;
  return fromStatus(err);
}

function onAbort(o: CallOptions | undefined, cancel: () => void): void {
  if (!o?.signal) return;
  if (o.signal.aborted) cancel();
  else o.signal.addEventListener("abort", cancel, { once: true });
}

/**
 * The responses of a streaming call. The call starts at once (responses are buffered by the
 * transport until read); leaving the loop early cancels it.
 */
function responsesOf(
  call: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
  o: CallOptions | undefined,
): AsyncIterable<unknown> {
  // Errors reach the reader through the iterator; without a listener an unread stream's error
  // event would be thrown.
  call.on("error", () => {});
  onAbort(o, () => call.cancel());
  let started = false;
  return {
    async *[Symbol.asyncIterator]() {
      if (started) throw new Error("the responses of a call can be read only once");
      started = true;
      let finished = false;
      try {
        for await (const msg of call) yield msg;
        finished = true;
      } catch (err) {
        finished = true;
        throw clientError(err, o);
      } finally {
        if (!finished) call.cancel();
      }
    },
  };
}

function sender(
  call: grpc.ClientWritableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
  o: CallOptions | undefined,
): { send(msg: unknown): Promise<void>; end(): void; cancel(): void } {
  let failed: unknown;
  call.on("error", (err) => {
    failed ??= clientError(err, o);
  });
  onAbort(o, () => call.cancel());
  return {
    send: (msg) =>
      new Promise<void>((resolve, reject) => {
        if (failed !== undefined) return reject(failed);
        if (call.writableEnded || call.destroyed) return reject(new Error("send after the call ended"));
        // The callback runs once the transport took the message (or the call failed).
        call.write(msg, (err?: Error | null) => (err ? reject(failed ?? clientError(err, o)) : resolve()));
      }),
    end: () => {
      if (!call.writableEnded) call.end();
    },
    cancel: () => call.cancel(),
  };
}
