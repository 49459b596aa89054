// A ttrpc client (unary calls) over one unix-socket connection. Calls run concurrently: each gets
// the next odd stream id and waits for the Response frame carrying it. A non-OK status comes back
// as the BerthError kind src/rpc/status.ts maps its code to; a dropped connection fails every
// call in flight (and every later one) as "unavailable".
//
//   const task = createTtrpcClient(Task, "/run/containerd/s/abc", { namespace: "berth" });
//   const st = await task.state({ id: "c1" }, { timeoutMs: 5000 });
//   task.close();
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
import { BerthError, errorMessage } from "../../common/errors.ts";
import { RequestSchema, ResponseSchema } from "../../proto/gen/ttrpc/ttrpc_pb.js";
import { kindOf, NAMESPACE_KEY } from "../status.ts";
import {
  CODE_DEADLINE_EXCEEDED,
  CODE_OK,
  CODE_RESOURCE_EXHAUSTED,
  encodeFrame,
  FrameReader,
  MAX_MESSAGE_LENGTH,
  MESSAGE_REQUEST,
  MESSAGE_RESPONSE,
  oversizedError,
  TtrpcStatusError,
} from "./frame.ts";

export interface TtrpcCallOptions {
  /** Overrides the client's namespace for this call ("" sends none). */
  namespace?: string;
  /** Further metadata; an array sends the key once per value. */
  metadata?: Record<string, string | string[]>;
  /** Gives up after this long (DEADLINE_EXCEEDED) and tells the server the same timeout. */
  timeoutMs?: number;
  /** Cancels the call: it rejects with the signal's reason (the server finishes on its own). */
  signal?: AbortSignal;
}

export interface TtrpcClientOptions {
  /** Sent as "containerd-namespace" on every call that does not override it. */
  namespace?: string;
  /** The timeout of calls that set none; unset means wait as long as the connection lives. */
  timeoutMs?: number;
}

type ClientIn<M> = M extends { input: infer I extends DescMessage } ? MessageInitShape<I> : never;
type Out<M> = M extends { output: infer O extends DescMessage } ? MessageShape<O> : never;

/** One typed method per unary RPC, keyed by localName, plus close(). */
export type TtrpcServiceClient<S extends GenServiceMethods> = {
  [K in keyof S as S[K] extends { methodKind: "unary" } ? K : never]: (
    req: ClientIn<S[K]>,
    opts?: TtrpcCallOptions,
  ) => Promise<Out<S[K]>>;
} & {
  /** Closes the connection; calls in flight fail as unavailable. */
  close(): void;
  /** Settles once the connection is gone, whoever ended it (a shim that died, say). */
  readonly closed: Promise<void>;
};

/** The client type of a generated service constant: `TtrpcClient<typeof Task>`. */
export type TtrpcClient<T> = T extends GenService<infer S> ? TtrpcServiceClient<S> : never;

interface Pending {
  resolve(payload: Uint8Array): void;
  reject(err: unknown): void;
}

/** A client-side ttrpc connection: sends requests, matches responses by stream id. */
export class TtrpcConnection {
  #sock: net.Socket;
  #label: string;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #closedBy: Error | undefined;
  /** Settles once the connection is gone (closed here, by the peer, or failed to connect). */
  readonly closed: Promise<void>;

  constructor(sock: net.Socket, label: string) {
    this.#sock = sock;
    this.#label = label;
    this.closed = new Promise((resolve) => sock.once("close", () => resolve()));
    const reader = new FrameReader();
    sock.on("data", (chunk: Buffer) => {
      for (const f of reader.push(chunk)) {
        const p = this.#pending.get(f.streamId);
        if (!p || f.type !== MESSAGE_RESPONSE) continue; // late answer to a call given up on
        this.#pending.delete(f.streamId);
        if (f.oversized !== undefined) p.reject(oversizedError(f.oversized));
        else p.resolve(f.payload);
      }
    });
    sock.on("error", (err) => this.#fail(err));
    sock.on("close", () => this.#fail(undefined));
  }

  /** Connects to a ttrpc server's unix socket (the connection completes in the background). */
  static connect(address: string): TtrpcConnection {
    const path = socketPathOf(address);
    return new TtrpcConnection(net.createConnection(path), path);
  }

  /**
   * One unary call: the encoded request in, the encoded response out. Rejects with a BerthError:
   * the server's status mapped by fromStatus, or unavailable when the connection is gone.
   */
  async call(service: string, method: string, payload: Uint8Array, opts: CallInit = {}): Promise<Uint8Array> {
    if (this.#closedBy) throw this.#closedBy;
    opts.signal?.throwIfAborted();
    const streamId = this.#nextId;
    this.#nextId += 2;
    const req = create(RequestSchema, {
      service,
      method,
      payload,
      timeoutNano: opts.timeoutMs ? BigInt(Math.ceil(opts.timeoutMs * 1e6)) : 0n,
      metadata: opts.metadata ?? [],
    });
    const body = toBinary(RequestSchema, req);
    if (body.length > MAX_MESSAGE_LENGTH) throw oversizedError(body.length);
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        this.#pending.delete(streamId);
        if (timer) clearTimeout(timer);
        opts.signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(opts.signal?.reason);
      };
      this.#pending.set(streamId, {
        resolve: (p) => {
          done();
          resolve(p);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      if (opts.timeoutMs) {
        timer = setTimeout(() => {
          done();
          const msg = `ttrpc: ${service}/${method}: no answer within ${opts.timeoutMs} ms`;
          reject(statusError(CODE_DEADLINE_EXCEEDED, msg));
        }, opts.timeoutMs);
      }
    });
    this.#sock.write(encodeFrame(streamId, MESSAGE_REQUEST, 0, body));
    const res = fromBinary(ResponseSchema, await answer);
    const code = res.status?.code ?? CODE_OK;
    if (code !== CODE_OK) {
      const message = res.status?.message || `ttrpc status ${code}`;
      if (code === CODE_RESOURCE_EXHAUSTED)
        throw new BerthError("invalid-argument", message, { cause: new TtrpcStatusError(code, message) });
      throw statusError(code, message);
    }
    return res.payload;
  }

  /** Calls waiting for an answer. */
  get inFlight(): number {
    return this.#pending.size;
  }

  close(): void {
    this.#fail(undefined, "closed by the client");
    this.#sock.destroy();
  }

  #fail(cause: Error | undefined, why = "connection closed"): void {
    if (this.#closedBy) return;
    const detail = cause ? `${why}: ${errorMessage(cause)}` : why;
    this.#closedBy = new BerthError("unavailable", `ttrpc ${this.#label}: ${detail}`, { cause });
    const calls = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of calls) p.reject(this.#closedBy);
  }
}

/** A socket path from "unix:///p" (what shims print and containerd passes) or a bare path. */
/** A non-OK status as the BerthError of its kind; the status itself is the cause. */
function statusError(code: number, message: string): BerthError {
  return new BerthError(kindOf(code), message, { cause: new TtrpcStatusError(code, message) });
}

export function socketPathOf(address: string): string {
  return address.startsWith("unix://") ? address.slice("unix://".length) : address;
}

/** The transport-level options of one call. */
export interface CallInit {
  metadata?: { key: string; value: string }[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The metadata a call sends: the namespace (per call, else the client's) plus extra pairs. */
function metadataFor(clientNs: string | undefined, o: TtrpcCallOptions): { key: string; value: string }[] {
  const md: { key: string; value: string }[] = [];
  const ns = o.namespace ?? clientNs;
  if (ns) md.push({ key: NAMESPACE_KEY, value: ns });
  for (const [key, v] of Object.entries(o.metadata ?? {})) {
    for (const value of Array.isArray(v) ? v : [v]) md.push({ key, value });
  }
  return md;
}

function methodCall(conn: TtrpcConnection, m: DescMethod, options: TtrpcClientOptions) {
  return async (req: unknown, o: TtrpcCallOptions = {}) => {
    const payload = toBinary(m.input, create(m.input, req as MessageInitShape<DescMessage>));
    const res = await conn.call(m.parent.typeName, m.name, payload, {
      metadata: metadataFor(options.namespace, o),
      timeoutMs: o.timeoutMs ?? options.timeoutMs,
      signal: o.signal,
    });
    return fromBinary(m.output, res);
  };
}

/**
 * A typed client of `service` on the ttrpc server at `socketPath` ("unix:///p" or a bare path),
 * over one connection opened now; a failure to connect fails the calls as unavailable.
 */
export function createTtrpcClient<S extends GenServiceMethods>(
  service: GenService<S>,
  socketPath: string,
  options: TtrpcClientOptions = {},
): TtrpcServiceClient<S> {
  const conn = TtrpcConnection.connect(socketPath);
  const client: Record<string, unknown> = { close: () => conn.close(), closed: conn.closed };
  for (const m of (service as unknown as GenService<GenServiceMethods>).methods) {
    if (m.methodKind === "unary") client[m.localName] = methodCall(conn, m, options);
  }
  return client as TtrpcServiceClient<S>;
}
