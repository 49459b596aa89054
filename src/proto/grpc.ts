// gRPC plumbing between @grpc/grpc-js and the protobuf-es services generated from our .proto
// files. A service implementation is a plain object of async functions, one per RPC; thrown
// BerthErrors become gRPC status codes (and back again on the client), the way containerd's errdefs
// map error kinds, so either end can be containerd's.
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import * as grpc from "@grpc/grpc-js";
import { BerthError, type ErrorKind } from "../common/errors.ts";

/** Per-call context: the metadata containerd clients send, and cancellation. */
export interface CallContext {
  /** "containerd-namespace" metadata; "" when absent. */
  namespace: string;
  /** "containerd-lease" metadata; "" when absent. */
  lease: string;
  metadata: grpc.Metadata;
  signal: AbortSignal;
}

type In<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
type OutSchema<M> = M extends { output: infer O extends DescMessage } ? O : never;
type Out<M> = MessageShape<OutSchema<M>>;
type OutInit<M> = MessageInitShape<OutSchema<M>>;

type Handler<M> = M extends { methodKind: "unary" }
  ? (req: In<M>, ctx: CallContext) => Promise<OutInit<M>>
  : M extends { methodKind: "server_streaming" }
    ? (req: In<M>, ctx: CallContext) => AsyncIterable<OutInit<M>>
    : M extends { methodKind: "client_streaming" }
      ? (reqs: AsyncIterable<In<M>>, ctx: CallContext) => Promise<OutInit<M>>
      : (reqs: AsyncIterable<In<M>>, ctx: CallContext) => AsyncIterable<OutInit<M>>;

/** An implementation of a service: one handler per RPC, by the method's local (camelCase) name. */
export type ServiceImpl<S extends GenServiceMethods> = { [K in keyof S]: Handler<S[K]> };

/** The implementation type of a generated service constant: `Impl<typeof Content>`. */
export type Impl<T> = T extends GenService<infer S> ? ServiceImpl<S> : never;

const codeOf: Record<ErrorKind, grpc.status> = {
  "invalid-argument": grpc.status.INVALID_ARGUMENT,
  "not-found": grpc.status.NOT_FOUND,
  "already-exists": grpc.status.ALREADY_EXISTS,
  "failed-precondition": grpc.status.FAILED_PRECONDITION,
  unavailable: grpc.status.UNAVAILABLE,
  "permission-denied": grpc.status.PERMISSION_DENIED,
  "not-implemented": grpc.status.UNIMPLEMENTED,
  internal: grpc.status.UNKNOWN,
};

const kindOf = new Map<grpc.status, ErrorKind>([
  [grpc.status.INVALID_ARGUMENT, "invalid-argument"],
  [grpc.status.NOT_FOUND, "not-found"],
  [grpc.status.ALREADY_EXISTS, "already-exists"],
  [grpc.status.FAILED_PRECONDITION, "failed-precondition"],
  [grpc.status.UNAVAILABLE, "unavailable"],
  [grpc.status.PERMISSION_DENIED, "permission-denied"],
  [grpc.status.UNAUTHENTICATED, "permission-denied"],
  [grpc.status.UNIMPLEMENTED, "not-implemented"],
]);

/** The gRPC status a thrown value maps to. Non-Berth errors are internal: UNKNOWN, like containerd. */
export function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof BerthError) return { code: codeOf[err.kind], details: err.message };
  if (err instanceof Error && err.name === "AbortError") return { code: grpc.status.CANCELLED, details: err.message };
  return { code: grpc.status.UNKNOWN, details: err instanceof Error ? err.message : String(err) };
}

/** A gRPC error received by a client, as the BerthError kind it stands for. */
export function fromStatus(err: unknown): Error {
  const e = err as Partial<grpc.ServiceError>;
  if (typeof e?.code !== "number") return err instanceof Error ? err : new Error(String(err));
  const kind = kindOf.get(e.code) ?? "internal";
  return new BerthError(kind, e.details || e.message || `gRPC status ${e.code}`, { cause: err });
}

function contextOf(call: { metadata: grpc.Metadata; on(event: "cancelled", fn: () => void): unknown }): CallContext {
  const first = (key: string) => {
    const v = call.metadata.get(key)[0];
    return typeof v === "string" ? v : (v?.toString() ?? "");
  };
  const ac = new AbortController();
  call.on("cancelled", () => ac.abort());
  return {
    namespace: first("containerd-namespace"),
    lease: first("containerd-lease"),
    metadata: call.metadata,
    signal: ac.signal,
  };
}

/** The grpc-js definition of a generated service (paths "/pkg.Service/Method", binary codec). */
export function serviceDefinition(service: GenService<GenServiceMethods>): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: (msg: unknown) => Buffer.from(toBinary(m.input, msg as MessageShape<DescMessage>)),
      requestDeserialize: (buf: Buffer) => fromBinary(m.input, buf),
      responseSerialize: (msg: unknown) => Buffer.from(toBinary(m.output, msg as MessageShape<DescMessage>)),
      responseDeserialize: (buf: Buffer) => fromBinary(m.output, buf),
    };
  }
  return def as grpc.ServiceDefinition;
}

/**
 * Requests of a streaming call as an async iterable. Leaving the loop early (a handler that
 * throws) must not destroy the call: the error status still has to go out on it.
 */
function requestsOf<T>(call: grpc.ServerReadableStream<T, unknown> | grpc.ServerDuplexStream<T, unknown>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) as AsyncIterator<T> };
}

/** Writes to a server stream, waiting for the transport to drain (back-pressure). */
async function writeAll(
  call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>,
  items: AsyncIterable<unknown>,
  toMsg: (x: unknown) => unknown,
): Promise<void> {
  for await (const item of items) {
    if (call.cancelled) return;
    if (!call.write(toMsg(item))) await new Promise<void>((r) => call.once("drain", r));
  }
}

export type ErrorObserver = (method: string, err: unknown) => void;

/** Registers `impl` for `service` on `server`. `onError` sees every failed call (for logging). */
export function addService<S extends GenServiceMethods>(
  server: grpc.Server,
  service: GenService<S>,
  impl: ServiceImpl<S>,
  onError: ErrorObserver = () => {},
): void {
  const handlers: grpc.UntypedServiceImplementation = {};
  const generic = service as unknown as GenService<GenServiceMethods>;
  for (const m of generic.methods) {
    const fn = (impl as Record<string, unknown>)[m.localName] as (...a: unknown[]) => unknown;
    const name = `${service.typeName}.${m.name}`;
    const toMsg = (x: unknown) => create(m.output, x as MessageInitShape<DescMessage>);
    const fail = (err: unknown) => {
      onError(name, err);
      return toStatus(err);
    };
    switch (m.methodKind) {
      case "unary":
        handlers[m.localName] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          (fn.call(impl, call.request, contextOf(call)) as Promise<unknown>).then(
            (res) => cb(null, toMsg(res)),
            (err) => cb(fail(err) as grpc.ServiceError),
          );
        };
        break;
      case "server_streaming":
        handlers[m.localName] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
          writeAll(call, fn.call(impl, call.request, contextOf(call)) as AsyncIterable<unknown>, toMsg).then(
            () => call.end(),
            (err) => call.emit("error", fail(err)),
          );
        };
        break;
      case "client_streaming":
        handlers[m.localName] = (
          call: grpc.ServerReadableStream<unknown, unknown>,
          cb: grpc.sendUnaryData<unknown>,
        ) => {
          (fn.call(impl, requestsOf(call), contextOf(call)) as Promise<unknown>).then(
            (res) => cb(null, toMsg(res)),
            (err) => cb(fail(err) as grpc.ServiceError),
          );
        };
        break;
      case "bidi_streaming":
        handlers[m.localName] = (call: grpc.ServerDuplexStream<unknown, unknown>) => {
          writeAll(call, fn.call(impl, requestsOf(call), contextOf(call)) as AsyncIterable<unknown>, toMsg).then(
            () => call.end(),
            (err) => call.emit("error", fail(err)),
          );
        };
        break;
    }
  }
  server.addService(serviceDefinition(generic), handlers);
}

// ---------------------------------------------------------------------------------------------
// Client side

type ClientIn<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;

export interface CallOptions {
  /** Overrides the client's namespace for this call. */
  namespace?: string;
  lease?: string;
  signal?: AbortSignal;
}

/** A bidirectional stream: send requests, read responses. */
export interface DuplexCall<Req, Res> {
  send(msg: Req): Promise<void>;
  end(): void;
  responses: AsyncIterable<Res>;
  cancel(): void;
}

type ClientMethod<M> = M extends { methodKind: "unary" }
  ? (req: ClientIn<M>, opts?: CallOptions) => Promise<Out<M>>
  : M extends { methodKind: "server_streaming" }
    ? (req: ClientIn<M>, opts?: CallOptions) => AsyncIterable<Out<M>>
    : M extends { methodKind: "client_streaming" }
      ? (opts?: CallOptions) => DuplexCall<ClientIn<M>, Out<M>>
      : (opts?: CallOptions) => DuplexCall<ClientIn<M>, Out<M>>;

export type ServiceClient<S extends GenServiceMethods> = { [K in keyof S]: ClientMethod<S[K]> };

export interface ClientOptions {
  namespace?: string;
  /** Share one channel between the clients of several services. */
  channel?: grpc.Channel;
}

/** A channel to a daemon at a unix socket path (or any grpc-js target). */
export function openChannel(address: string): grpc.Channel {
  const target = address.includes("://") ? address : `unix://${address}`;
  return new grpc.Channel(target, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 64 << 20,
    "grpc.max_send_message_length": 64 << 20,
  });
}

/** A typed client of `service`. */
export function createClient<S extends GenServiceMethods>(
  service: GenService<S>,
  address: string,
  opts: ClientOptions = {},
): ServiceClient<S> & { close(): void } {
  const generic = service as unknown as GenService<GenServiceMethods>;
  const channel = opts.channel ?? openChannel(address);
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), { channelOverride: channel });
  const out: Record<string, unknown> = { close: () => client.close() };
  const meta = (o: CallOptions | undefined) => {
    const md = new grpc.Metadata();
    const ns = o?.namespace ?? opts.namespace;
    if (ns) md.set("containerd-namespace", ns);
    if (o?.lease) md.set("containerd-lease", o.lease);
    return md;
  };
  for (const m of generic.methods) {
    const path = `/${service.typeName}/${m.name}`;
    const ser = (x: unknown) => Buffer.from(toBinary(m.input, create(m.input, x as MessageInitShape<DescMessage>)));
    const de = (b: Buffer) => fromBinary(m.output, b);
    const bindSignal = (call: { cancel(): void }, o?: CallOptions) =>
      o?.signal?.addEventListener("abort", () => call.cancel(), { once: true });
    switch (m.methodKind) {
      case "unary":
        out[m.localName] = (req: unknown, o?: CallOptions) =>
          new Promise((resolve, reject) => {
            const call = client.makeUnaryRequest(path, ser, de, req, meta(o), (err, res) =>
              err ? reject(fromStatus(err)) : resolve(res),
            );
            bindSignal(call, o);
          });
        break;
      case "server_streaming":
        out[m.localName] = (req: unknown, o?: CallOptions) => {
          const call = client.makeServerStreamRequest(path, ser, de, req, meta(o));
          bindSignal(call, o);
          return mapErrors(call as AsyncIterable<unknown>);
        };
        break;
      case "client_streaming":
        out[m.localName] = (o?: CallOptions) => {
          let resolveRes: (v: unknown) => void = () => {};
          let rejectRes: (e: unknown) => void = () => {};
          const result = new Promise((res, rej) => {
            resolveRes = res;
            rejectRes = rej;
          });
          const call = client.makeClientStreamRequest(path, ser, de, meta(o), (err, res) =>
            err ? rejectRes(fromStatus(err)) : resolveRes(res),
          );
          bindSignal(call, o);
          return duplexOf(
            call,
            (async function* () {
              yield await result;
            })(),
          );
        };
        break;
      case "bidi_streaming":
        out[m.localName] = (o?: CallOptions) => {
          const call = client.makeBidiStreamRequest(path, ser, de, meta(o));
          bindSignal(call, o);
          return duplexOf(call, mapErrors(call as AsyncIterable<unknown>));
        };
        break;
    }
  }
  return out as ServiceClient<S> & { close(): void };
}

async function* mapErrors<T>(it: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* it;
  } catch (err) {
    throw fromStatus(err);
  }
}

function duplexOf(
  call: grpc.ClientWritableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>,
  responses: AsyncIterable<unknown>,
): DuplexCall<unknown, unknown> {
  // Errors surface through `responses`; without a listener the stream's error event would throw.
  call.on("error", () => {});
  return {
    send: (msg) =>
      new Promise<void>((resolve, reject) => {
        const ok = call.write(msg, (err?: Error | null) => (err ? reject(fromStatus(err)) : undefined));
        if (ok) resolve();
        else call.once("drain", () => resolve());
      }),
    end: () => call.end(),
    responses,
    cancel: () => call.cancel(),
  };
}
