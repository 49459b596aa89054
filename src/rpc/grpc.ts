// gRPC plumbing between @grpc/grpc-js and the protobuf-es (v2) services generated from our .proto
// files (src/proto/gen). A service implementation (service.ts) gets each call's RequestContext
// (context.ts: namespace, lease, metadata, signal, deadline, trace); thrown BerthErrors become
// gRPC status codes (status.ts), and a client turns those codes back into the same BerthError
// kinds, the way containerd's errdefs map error kinds, so either end of a connection can be
// containerd's.
//
// Server:  addService(server, Content, impl)   with impl: Impl<typeof Content>
// Client:  const c = createClient(Content, "unix:///run/x.sock", { namespace: "default" })
import { once } from "node:events";
import { create, type DescMessage, type DescMethod, type MessageInitShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { BerthError } from "../common/errors.ts";
import {
  type CallOptions,
  type CallScope,
  type ClientOptions as CommonClientOptions,
  deadlineOf,
  type Metadata,
  openCall,
  outgoingMetadata,
  type RequestContext,
} from "./context.ts";
import {
  type ClientIn,
  decode,
  type ErrorObserver,
  encode,
  handlerOf,
  methodName,
  methodsOf,
  type Out,
  type ServiceImpl,
} from "./service.ts";
import { errorOfStatus, statusCode, statusOf, statusOfCall } from "./status.ts";

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
  return errorOfStatus(e.code, message, err);
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
      requestSerialize: (msg: unknown) => asBuffer(encode(m.input, msg)),
      requestDeserialize: (buf: Buffer) => decode(m.input, buf),
      responseSerialize: (msg: unknown) => asBuffer(encode(m.output, msg)),
      responseDeserialize: (buf: Buffer) => decode(m.output, buf),
      originalName: m.name,
    };
  }
  return def as grpc.ServiceDefinition;
}

/**
 * An encoded message as a Buffer over the same memory: the encoder's array is fresh and no one else's,
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

type AnyServerCall =
  | grpc.ServerUnaryCall<unknown, unknown>
  | grpc.ServerReadableStream<unknown, unknown>
  | grpc.ServerWritableStream<unknown, unknown>
  | grpc.ServerDuplexStream<unknown, unknown>;

/** A call's metadata as a multimap; binary ("-bin") values in base64, their wire form. */
function metadataOf(md: grpc.Metadata): Metadata {
  const out = new Map<string, string[]>();
  for (const [key, values] of Object.entries(md.toJSON())) {
    out.set(
      key,
      values.map((v) => (typeof v === "string" ? v : v.toString("base64"))),
    );
  }
  return out;
}

/** Opens the call's RequestContext: its signal aborts when grpc-js says the call is cancelled or its deadline passes. */
function openGrpcCall(call: AnyServerCall, method: string): CallScope {
  const cancelled = new AbortController();
  const abort = () => cancelled.abort(Object.assign(new Error(`${method}: call cancelled`), { name: "AbortError" }));
  if (call.cancelled) abort();
  else (call as { once(event: "cancelled", fn: () => void): unknown }).once("cancelled", abort);
  const d = call.getDeadline();
  const deadline = d instanceof Date ? d.getTime() : d;
  return openCall(method, metadataOf(call.metadata), { cancelled: cancelled.signal, deadline });
}

/**
 * Requests of a streaming call as an async iterable. Leaving the loop early (a handler that
 * returns or throws) must not destroy the call: its status still has to go out on it. A call the
 * client cancels ends the loop with an AbortError, not as a clean end of requests: grpc-js ends the
 * request stream just before it reports the cancellation, so an end is confirmed a turn later.
 */
function requestsOf(
  call: grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  ctx: RequestContext,
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
  for (const m of methodsOf(service)) {
    const name = methodName(m);
    const handler = handlerOf(impl, m);
    const toMsg = (x: unknown) => create(m.output, x as MessageInitShape<DescMessage>);
    // Runs the handler; a synchronous throw (a missing handler's too) becomes a rejection.
    const run = async (arg: unknown, ctx: RequestContext): Promise<unknown> => handler(arg, ctx);
    const status = (call: AnyServerCall, err: unknown, ctx: RequestContext) => {
      if (!call.cancelled) onError(name, err, ctx);
      const { code, details } = statusOfCall(err, ctx.signal);
      return { code, details, metadata: new grpc.Metadata() };
    };
    const stream = (
      call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
      arg: (ctx: RequestContext) => unknown,
    ) => {
      const { ctx, end } = openGrpcCall(call, name);
      Promise.resolve()
        .then(() => writeAll(call, handler(arg(ctx), ctx) as AsyncIterable<unknown>, toMsg, ctx.signal))
        .then(
          () => {
            if (!call.cancelled) call.end();
          },
          (err) => {
            if (!call.cancelled) call.emit("error", status(call, err, ctx));
          },
        )
        .finally(end);
    };
    const answer = (call: AnyServerCall, scope: CallScope, cb: grpc.sendUnaryData<unknown>, arg: unknown) => {
      run(arg, scope.ctx)
        .then(
          (res) => cb(null, toMsg(res)),
          (err) => cb(status(call, err, scope.ctx)),
        )
        .finally(scope.end);
    };
    switch (m.methodKind) {
      case "unary":
        handlers[m.localName] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) =>
          answer(call, openGrpcCall(call, name), cb, call.request);
        break;
      case "client_streaming":
        handlers[m.localName] = (
          call: grpc.ServerReadableStream<unknown, unknown>,
          cb: grpc.sendUnaryData<unknown>,
        ) => {
          const scope = openGrpcCall(call, name);
          answer(call, scope, cb, requestsOf(call, scope.ctx));
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
  server.addService(serviceDefinition(service as unknown as GenService<GenServiceMethods>), handlers);
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

/** A client's options (namespace, trace, timeout: context.ts), and the connection it may share. */
export interface ClientOptions extends CommonClientOptions {
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
    for (const [key, values] of outgoingMetadata(opts, o)) for (const v of values) md.add(key, v);
    return md;
  };
  const callOpts = (o: CallOptions | undefined): grpc.CallOptions => {
    const deadline = deadlineOf(opts, o);
    return deadline === undefined ? {} : { deadline };
  };
  for (const m of methodsOf(service)) {
    const path = methodPath(m);
    const ser = (x: unknown) => asBuffer(encode(m.input, x));
    const de = (b: Buffer) => decode(m.output, b);
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
