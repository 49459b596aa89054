// The Engine API client of the CLI: the Engine API's policy (API version negotiation from /_ping,
// bounded JSON answers, the daemon's {"message"} errors as DaemonError, the streamed (logs, events,
// export) and hijacked (attach) answers) over http1.ts's HTTP/1.1 on a unix socket or plain TCP.
// node:net alone, not node:http: start-up is part of every command, and node:http's modules are
// start-up time spent on every command that talks to the daemon (bench/README.md, cli).
import { createConnection, type Socket } from "node:net";
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { compareApiVersions } from "../../common/api-version.ts";
import { CliError, ConnectError, DaemonError } from "../errors.ts";
import { BodyError, type Exchange, exchange, type HttpHeaders, type HttpResponse, MalformedAnswer } from "./http1.ts";

export type { HttpHeaders, HttpResponse } from "./http1.ts";

/** The newest Engine API version berth speaks (berthd's); a daemon that serves less gets its own. */
export const MAX_API_VERSION = "1.50";
/** What docker assumes of a daemon whose /_ping names no version. */
export const FALLBACK_API_VERSION = "1.24";
/** A JSON answer larger than this is refused (a `ps` of thousands of containers is a few MiB). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** An error body is read this far for its message. */
export const MAX_ERROR_BYTES = 64 * 1024;

/** Where the daemon listens: a unix socket or host:port. */
export type Endpoint = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

/** unix:///path or tcp://host[:port] (docker's default port 2375) as an Endpoint; tls/ssh refused. */
export function parseHost(host: string): Endpoint {
  const m = /^([a-z0-9+]+):\/\/(.*)$/.exec(host);
  if (!m) throw new CliError(`invalid host "${host}": expected unix:///path or tcp://host:port`);
  const [, scheme, rest] = m as unknown as [string, string, string];
  if (scheme === "unix") {
    if (rest === "" || !rest.startsWith("/"))
      throw new CliError(`invalid host "${host}": the socket path must be absolute`);
    return { kind: "unix", path: rest };
  }
  if (scheme === "tcp" || scheme === "http") {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?\/?$/.exec(rest);
    if (!hp) throw new CliError(`invalid host "${host}"`);
    const port = hp[2] === undefined ? 2375 : Number(hp[2]);
    if (port < 1 || port > 65535) throw new CliError(`invalid host "${host}": port out of range`);
    return { kind: "tcp", host: (hp[1] as string).replace(/^\[|\]$/g, ""), port };
  }
  if (scheme === "https") throw new CliError(`${host}: TLS is not supported by berth yet: use unix:// or tcp://`);
  throw new CliError(`${host}: unsupported protocol "${scheme}" (berth speaks unix:// and tcp://)`);
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** A JSON value (sent as application/json), a Buffer, or a stream (sent as is). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Sent without the /v1.xx prefix (/_ping). */
  unversioned?: boolean;
}

export interface Answer {
  status: number;
  headers: HttpHeaders;
  body: Buffer;
}

export interface ClientOptions {
  /** The version to speak, not negotiated (DOCKER_API_VERSION). */
  apiVersion?: string;
  /** The user-facing host string, for messages ("unix:///run/berth/berth.sock"). */
  host: string;
  maxJsonBytes?: number;
}

/** The query string of `q` (undefined/null dropped; booleans as 1/0 as docker sends them). */
export function queryString(q: Query | undefined): string {
  if (!q) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null) continue;
    const s = typeof v === "boolean" ? (v ? "1" : "0") : String(v);
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/** The version to speak with a daemon whose /_ping said `server` (docker's rule: the lower). */
export function negotiate(server: string | undefined): string {
  if (!server || !/^\d+\.\d+$/.test(server)) return FALLBACK_API_VERSION;
  return compareApiVersions(server, MAX_API_VERSION) < 0 ? server : MAX_API_VERSION;
}

export class EngineClient {
  readonly endpoint: Endpoint;
  readonly host: string;
  readonly #maxJson: number;
  #version: string | undefined;
  #negotiating: Promise<string> | undefined;
  /** What the last /_ping said (headers), for `version`/`info`. */
  ping: HttpHeaders | undefined;

  constructor(opts: ClientOptions) {
    this.host = opts.host;
    this.endpoint = parseHost(opts.host);
    this.#version = opts.apiVersion || undefined;
    this.#maxJson = opts.maxJsonBytes ?? MAX_JSON_BYTES;
  }

  /** The API version in use: pinned, or negotiated once from /_ping. */
  apiVersion(): Promise<string> {
    if (this.#version) return Promise.resolve(this.#version);
    this.#negotiating ??= this.request("GET", "/_ping", { unversioned: true }).then((a) => {
      this.adoptPing(a.headers);
      return this.#version as string;
    });
    return this.#negotiating;
  }

  /** What a /_ping already made (the gated flags' check, api/ping.ts) said: no second ping. */
  adoptPing(headers: HttpHeaders): void {
    this.ping = headers;
    const v = headers["api-version"];
    this.#version ??= negotiate(Array.isArray(v) ? v[0] : v);
  }

  /** The whole answer, bounded; a status >= 400 throws DaemonError. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<Answer> {
    const res = await this.#send(method, path, opts);
    const body = await readBounded(res, this.#maxJson, `${method} ${path}`);
    return { status: res.statusCode, headers: res.headers, body };
  }

  /** The answer parsed as JSON (an empty body is undefined). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const a = await this.request(method, path, opts);
    if (a.body.length === 0) return undefined as T;
    try {
      return JSON.parse(a.body.toString("utf8")) as T;
    } catch {
      throw new CliError(`the daemon's answer to ${method} ${path} is not JSON`);
    }
  }

  /** The answer as a stream (logs -f, events, export), once its status is known to be good. */
  stream(method: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse> {
    return this.#send(method, path, opts);
  }

  /**
   * An upgraded connection (attach, exec start): the raw socket after the daemon's 101, with
   * any bytes that came with the answer put back in front. A daemon that answers without
   * upgrading gets its body returned as the stream (read-only).
   */
  async hijack(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ socket: Socket | Readable; upgraded: boolean; headers: HttpHeaders }> {
    const headers = { Connection: "Upgrade", Upgrade: "tcp", ...opts.headers };
    const x = await this.#exchange(method, path, opts, headers, true);
    if (x.kind === "upgraded") return { socket: x.socket, upgraded: true, headers: x.headers };
    await checkStatus(x.response, method, path);
    return { socket: x.response, upgraded: false, headers: x.response.headers };
  }

  async #send(method: string, path: string, opts: RequestOptions): Promise<HttpResponse> {
    const x = await this.#exchange(method, path, opts, { ...opts.headers }, false);
    // Only a request that asked for an upgrade is handed a socket (http1.ts refuses a stray 101).
    if (x.kind !== "response") throw new CliError(`the daemon's answer to ${method} ${path} is malformed`);
    await checkStatus(x.response, method, path);
    return x.response;
  }

  async #exchange(
    method: string,
    path: string,
    opts: RequestOptions,
    headers: Record<string, string>,
    upgrade: boolean,
  ): Promise<Exchange> {
    const version = opts.unversioned ? undefined : await this.apiVersion();
    const h: Record<string, string> = { "User-Agent": "berth-cli", ...headers };
    const body = opts.body;
    let payload: Buffer | string | Readable | undefined;
    if (body === undefined || body instanceof Readable || Buffer.isBuffer(body)) payload = body;
    else {
      payload = JSON.stringify(body);
      if (!Object.keys(h).some((k) => k.toLowerCase() === "content-type")) h["Content-Type"] = "application/json";
    }
    // Host: docker sends "api.moby.localhost" on a unix socket; a name is needed, any will do.
    if (this.endpoint.kind === "unix") h.Host = "api.moby.localhost";
    else
      h.Host = this.endpoint.host.includes(":")
        ? `[${this.endpoint.host}]:${this.endpoint.port}`
        : `${this.endpoint.host}:${this.endpoint.port}`;
    const socket = connect(this.endpoint);
    try {
      return await exchange(socket, {
        method,
        path: versioned(version, path, opts.query),
        headers: h,
        body: payload,
        upgrade,
      });
    } catch (e) {
      if (e instanceof MalformedAnswer)
        throw new CliError(`the daemon's answer to ${method} ${path} is malformed: ${e.message}`);
      if (e instanceof BodyError) throw new CliError(`sending ${method} ${path}: ${e.message}`);
      throw this.#connectError(e);
    }
  }

  #connectError(err: unknown): Error {
    const code = (err as { code?: string }).code;
    if (code === "ENOENT" || code === "ECONNREFUSED" || code === "ENOTDIR") {
      return new ConnectError(this.host);
    }
    if (code === "EACCES") {
      return new CliError(`permission denied while trying to connect to the daemon socket at ${this.host}`);
    }
    return new CliError(`error during connect to ${this.host}: ${(err as Error).message}`);
  }
}

/** A connection to the daemon (one per request). */
export function connect(endpoint: Endpoint): Socket {
  return endpoint.kind === "unix"
    ? createConnection({ path: endpoint.path })
    : createConnection({ host: endpoint.host, port: endpoint.port });
}

function versioned(version: string | undefined, path: string, query: Query | undefined): string {
  return `${version ? `/v${version}` : ""}${path}${queryString(query)}`;
}

/** A status >= 400 becomes DaemonError with the daemon's {"message"} (or its text). */
async function checkStatus(res: HttpResponse, method: string, path: string): Promise<void> {
  const status = res.statusCode;
  if (status < 400) return;
  const body = await readBounded(res, MAX_ERROR_BYTES, `${method} ${path}`, true);
  const text = body.toString("utf8");
  let message = text.trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed?.message === "string") message = parsed.message;
  } catch {}
  if (message === "" && status === 404) message = "page not found";
  throw new DaemonError(status, message);
}

/** The body, refused past `limit` bytes (or cut there when `truncate`: an error body). */
export function readBounded(res: Readable, limit: number, what: string, truncate = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    res.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) {
        done = true;
        if (truncate) {
          chunks.push(c.subarray(0, c.length - (size - limit)));
          resolve(Buffer.concat(chunks));
        } else reject(new CliError(`the daemon's answer to ${what} is larger than ${limit} bytes`));
        res.destroy();
        return;
      }
      chunks.push(c);
    });
    res.on("end", () => {
      if (!done) resolve(Buffer.concat(chunks));
    });
    res.on("error", (err) => {
      if (!done) reject(new CliError(`reading the answer to ${what}: ${err.message}`));
    });
  });
}

/** Newline-delimited JSON from a stream (events, pull progress), a line at most `maxLine` bytes. */
export async function* jsonLines<T>(
  stream: Readable,
  maxLine = 1024 * 1024,
  reviver?: (key: string, value: unknown, context: { source?: string }) => unknown,
): AsyncGenerator<T> {
  let pending = "";
  // A character split across chunks is held until its last byte comes.
  const utf8 = new StringDecoder("utf8");
  for await (const chunk of stream) {
    pending += utf8.write(chunk as Buffer);
    let nl = pending.indexOf("\n");
    while (nl >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== "") yield JSON.parse(line, reviver as never) as T;
      nl = pending.indexOf("\n");
    }
    if (pending.length > maxLine) throw new CliError(`a line of the daemon's stream is longer than ${maxLine} bytes`);
  }
  pending += utf8.end();
  if (pending.trim() !== "") yield JSON.parse(pending, reviver as never) as T;
}

/** The streams of docker's multiplexed frames: 0 stdin, 1 stdout, 2 stderr (3 the system's). */
export type StreamId = 0 | 1 | 2 | 3;

/**
 * Splits docker's multiplexed stream (8-byte header: stream id, three zero bytes, big-endian
 * length; then the payload) into pieces handed to `onData` as they arrive: a frame's payload is
 * never held whole, so a hostile length costs nothing.
 */
export class Demuxer {
  readonly #onData: (stream: StreamId, data: Buffer) => void;
  #header = Buffer.alloc(0);
  #left = 0;
  #stream: StreamId = 1;

  constructor(onData: (stream: StreamId, data: Buffer) => void) {
    this.#onData = onData;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#left > 0) {
        const n = Math.min(this.#left, chunk.length - at);
        this.#onData(this.#stream, chunk.subarray(at, at + n));
        this.#left -= n;
        at += n;
        continue;
      }
      const need = 8 - this.#header.length;
      this.#header = Buffer.concat([this.#header, chunk.subarray(at, at + need)]);
      at += Math.min(need, chunk.length - at);
      if (this.#header.length < 8) return;
      const id = this.#header[0] as number;
      if (id > 3) throw new CliError(`the daemon's multiplexed stream has an unknown stream ${id}`);
      this.#stream = id as StreamId;
      this.#left = this.#header.readUInt32BE(4);
      this.#header = Buffer.alloc(0);
    }
  }

  /** True when the stream ended between frames (not in a header or a payload). */
  get clean(): boolean {
    return this.#left === 0 && this.#header.length === 0;
  }
}
