// A ttrpc client (unary calls) over one unix-socket connection. Calls run concurrently: each gets
// the next odd stream id and waits for the Response frame carrying it. Call and client options
// are gRPC's (src/rpc/context.ts: namespace, lease, metadata, trace, deadline or timeout, signal).
// A non-OK status comes back as the BerthError kind src/rpc/status.ts maps its code to; a dropped
// connection fails every call in flight (and every later one) as "unavailable".
//
//   const task = createTtrpcClient(Task, "/run/containerd/s/abc", { namespace: "berth" });
//   const st = await task.state({ id: "c1" }, { timeoutMs: 5000, trace: ctx.trace });
//   task.close();
import * as net from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { BerthError, errorMessage } from "../../common/errors.ts";
import { RequestSchema, type Response, ResponseSchema } from "../../proto/gen/ttrpc/ttrpc_pb.js";
import { type CallOptions, type ClientOptions, deadlineOf, outgoingMetadata } from "../context.ts";
import { type ClientIn, decode, encode, methodsOf, type Out } from "../service.ts";
import { Code, errorOfStatus, StatusError } from "../status.ts";
import {
  encodeFrame,
  FrameReader,
  MAX_MESSAGE_LENGTH,
  MESSAGE_REQUEST,
  MESSAGE_RESPONSE,
  oversizedError,
} from "./frame.ts";

/** One typed method per unary RPC, keyed by localName, plus close(). */
export type TtrpcServiceClient<S extends GenServiceMethods> = {
  [K in keyof S as S[K] extends { methodKind: "unary" } ? K : never]: (
    req: ClientIn<S[K]>,
    opts?: CallOptions,
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
    const body = encode(RequestSchema, {
      service,
      method,
      payload,
      timeoutNano: opts.timeoutMs ? BigInt(Math.ceil(opts.timeoutMs * 1e6)) : 0n,
      metadata: opts.metadata ?? [],
    });
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
          reject(errorOfStatus(Code.DEADLINE_EXCEEDED, msg));
        }, opts.timeoutMs);
      }
    });
    this.#sock.write(encodeFrame(streamId, MESSAGE_REQUEST, 0, body));
    const res = decode(ResponseSchema, await answer) as Response;
    const code = res.status?.code ?? Code.OK;
    if (code !== Code.OK) {
      const message = res.status?.message || `ttrpc status ${code}`;
      // The server refused a message over its limit: ours, so the caller's fault.
      if (code === Code.RESOURCE_EXHAUSTED)
        throw new BerthError("invalid-argument", message, { cause: new StatusError(code, message) });
      throw errorOfStatus(code, message);
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
export function socketPathOf(address: string): string {
  return address.startsWith("unix://") ? address.slice("unix://".length) : address;
}

/** The transport-level options of one call. */
export interface CallInit {
  metadata?: { key: string; value: string }[];
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The metadata a call sends as ttrpc's key-value pairs (see context.ts's outgoingMetadata). */
function pairsOf(client: ClientOptions, o: CallOptions): { key: string; value: string }[] {
  const pairs: { key: string; value: string }[] = [];
  for (const [key, values] of outgoingMetadata(client, o)) for (const value of values) pairs.push({ key, value });
  return pairs;
}

function methodCall(conn: TtrpcConnection, m: DescMethod, options: ClientOptions) {
  return async (req: unknown, o: CallOptions = {}) => {
    const now = Date.now();
    const deadline = deadlineOf(options, o, now);
    const res = await conn.call(m.parent.typeName, m.name, encode(m.input, req), {
      metadata: pairsOf(options, o),
      // ttrpc carries a timeout, not a deadline: what is left of it.
      timeoutMs: deadline === undefined ? undefined : Math.max(1, deadline - now),
      signal: o.signal,
    });
    return decode(m.output, res);
  };
}

/**
 * A typed client of `service` on the ttrpc server at `socketPath` ("unix:///p" or a bare path),
 * over one connection opened now; a failure to connect fails the calls as unavailable.
 */
export function createTtrpcClient<S extends GenServiceMethods>(
  service: GenService<S>,
  socketPath: string,
  options: ClientOptions = {},
): TtrpcServiceClient<S> {
  const conn = TtrpcConnection.connect(socketPath);
  const client: Record<string, unknown> = { close: () => conn.close(), closed: conn.closed };
  for (const m of methodsOf(service)) {
    if (m.methodKind === "unary") client[m.localName] = methodCall(conn, m, options);
  }
  return client as TtrpcServiceClient<S>;
}
