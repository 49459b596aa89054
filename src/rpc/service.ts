// A service implementation as both servers take it: a plain object of async functions, one per RPC
// of a service generated from our .proto files (src/proto/gen), each given the request and its
// RequestContext. gRPC serves every kind of RPC; ttrpc serves the unary ones (a streaming handler
// there answers UNIMPLEMENTED). Also the message codec both transports share.
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
import { BerthError } from "../common/errors.ts";
import type { RequestContext } from "./context.ts";

/** A method's request message. */
export type In<M> = M extends { input: infer I extends DescMessage } ? MessageShape<I> : never;
type OutSchema<M> = M extends { output: infer O extends DescMessage } ? O : never;
/** A method's response message. */
export type Out<M> = MessageShape<OutSchema<M>>;
/** A method's response as a handler may return it: a message or an init object (`create()` style). */
export type OutInit<M> = MessageInitShape<OutSchema<M>>;
/** A method's request as a client may pass it: a message or an init object. */
export type ClientIn<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;

/**
 * The handler of one RPC.
 * - unary:            (req, ctx) => Promise<Res>
 * - server streaming: (req, ctx) => AsyncIterable<Res>      (an async generator)
 * - client streaming: (reqs, ctx) => Promise<Res>
 * - bidi streaming:   (reqs, ctx) => AsyncIterable<Res>
 */
export type Handler<M> = M extends { methodKind: "unary" }
  ? (req: In<M>, ctx: RequestContext) => Promise<OutInit<M>>
  : M extends { methodKind: "server_streaming" }
    ? (req: In<M>, ctx: RequestContext) => AsyncIterable<OutInit<M>>
    : M extends { methodKind: "client_streaming" }
      ? (reqs: AsyncIterable<In<M>>, ctx: RequestContext) => Promise<OutInit<M>>
      : (reqs: AsyncIterable<In<M>>, ctx: RequestContext) => AsyncIterable<OutInit<M>>;

/** An implementation of a service: one handler per RPC, keyed by the method's localName (camelCase). */
export type ServiceImpl<S extends GenServiceMethods> = { [K in keyof S]: Handler<S[K]> };

/** The implementation type of a generated service constant: `Impl<typeof Content>`. */
export type Impl<T> = T extends GenService<infer S> ? ServiceImpl<S> : never;

/** Sees every call that failed (not those the client cancelled), e.g. to log it with its trace. */
export type ErrorObserver = (method: string, err: unknown, ctx: RequestContext) => void;

/** "pkg.Service.Method", as logs and contexts name a method. */
export function methodName(m: DescMethod): string {
  return `${m.parent.typeName}.${m.name}`;
}

/**
 * The handler `impl` has for `m`, bound to it; a method it lacks throws not-implemented when
 * called (UNIMPLEMENTED on the wire), as a synchronous throw of the handler itself rejects.
 */
export function handlerOf(impl: object, m: DescMethod): (arg: unknown, ctx: RequestContext) => unknown {
  const fn = (impl as Record<string, unknown>)[m.localName];
  if (typeof fn !== "function") {
    return () => {
      throw new BerthError("not-implemented", `${methodName(m)} is not implemented`);
    };
  }
  return (arg, ctx) => fn.call(impl, arg, ctx);
}

/** The methods of a generated service, whatever its type parameters. */
export function methodsOf(service: { readonly methods: readonly DescMethod[] }): readonly DescMethod[] {
  return service.methods;
}

/** A message (or init object) of `schema`, encoded. */
export function encode(schema: DescMessage, msg: unknown): Uint8Array {
  return toBinary(schema, create(schema, msg as MessageInitShape<DescMessage>));
}

/** An encoded message of `schema`, decoded. */
export function decode(schema: DescMessage, bytes: Uint8Array): MessageShape<DescMessage> {
  return fromBinary(schema, bytes);
}
