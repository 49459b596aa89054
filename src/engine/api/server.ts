// The Engine API's HTTP/1.1 server. node:http is enough here: dockerd speaks plain HTTP/1.1 on a
// unix socket (keep-alive, chunked streams, the `Upgrade: tcp` takeover), node:http does all
// three, and it is the one HTTP server every Node release carries and patches (README).
// Each request: parse the path, match a route (or 404 / 301), negotiate the API version, run
// the handler, write its reply; whatever a handler throws becomes `{"message": ...}` with the
// error's status, and nothing a request does takes the daemon down.
import { createServer, type IncomingMessage, type Server, type ServerOptions, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { errorMessage } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { errorBody, PageNotFoundError, PayloadTooLargeError, statusOf } from "./api-errors.ts";
import { API_VERSION, negotiateVersion } from "./api-version.ts";
import { checkJsonContentType, DEFAULT_JSON_LIMIT, DISCARD_LIMIT, parseJsonBody, readBody, readJson } from "./body.ts";
import { hijack, readUpgradedBody, type StreamContentType, type UpgradedConnection } from "./hijack.ts";
import { Router } from "./router.ts";

/** What a handler is given. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The negotiated API version (the path's, or the current one). */
  version: string;
  log: DaemonLogger;
  /** The JSON body (undefined when empty), bounded by the route's limit. */
  readJson(): Promise<unknown>;
  /** The raw body, bounded by the route's limit. */
  readBody(): Promise<Buffer>;
  /** Takes the connection over for a stream (hijack.ts); the handler owns it from then on. */
  hijack(contentType: StreamContentType): Duplex;
}

/** What a handler answers; undefined when it wrote the response itself (a stream). */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Written as JSON with a newline, Content-Type application/json. */
  json?: unknown;
  /** Written as is, Content-Type text/plain; charset=utf-8 unless headers say otherwise. */
  text?: string;
}

export type Handler = (ctx: RequestContext) => Promise<Reply | undefined> | Reply | undefined;

export interface RouteOptions {
  /** The most body bytes the route reads (default 1 MiB). */
  bodyLimit?: number;
}

interface RouteEntry {
  handler: Handler;
  bodyLimit: number;
}

/** The headers dockerd puts on every answer of a known route. */
export interface ServerIdentity {
  /** The Server header: "Berth/0.1.0 (linux)". */
  server: string;
  experimental: boolean;
}

export class ApiServer {
  readonly #routes = new Router<RouteEntry>();
  readonly #log: DaemonLogger;
  readonly #identity: ServerIdentity;
  readonly #servers: Server[] = [];
  /** Connections handed to handlers: ended when the server closes. */
  readonly #hijacked = new Set<Duplex>();

  constructor(log: DaemonLogger, identity: ServerIdentity) {
    this.#log = log;
    this.#identity = identity;
  }

  route(method: string, pattern: string, handler: Handler, opts: RouteOptions = {}): this {
    this.#routes.add(method, pattern, { handler, bodyLimit: opts.bodyLimit ?? DEFAULT_JSON_LIMIT });
    return this;
  }

  /**
   * A node:http server that dispatches here (not listening yet: the daemon binds it to its
   * sockets). Streams may last hours (logs -f, events, attach), so there is no request timeout;
   * a client has 60 s to send its headers. `make` builds the server from these options (an
   * HTTPS server for tcp:// with TLS); plain HTTP by default.
   */
  createHttpServer(make: (opts: ServerOptions) => Server = (opts) => createServer(opts)): Server {
    const server = make({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
      void this.dispatch(req, res, undefined);
    });
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // node hands an upgrade request over without a response object: make one on the socket,
      // so routes answer it the same way (most will; attach and exec hijack it).
      const res = new ServerResponse(req);
      res.assignSocket(socket as never);
      res.shouldKeepAlive = false;
      res.on("finish", () => socket.end());
      socket.on("error", () => {});
      void this.dispatch(req, res, { socket, head });
    });
    // Bytes node cannot parse as a request: answered as Go's server answers them, then closed.
    server.on("clientError", (err: Error & { code?: string }, socket: Duplex) => {
      const status =
        err.code === "HPE_HEADER_OVERFLOW"
          ? "431 Request Header Fields Too Large"
          : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? "408 Request Timeout"
            : "400 Bad Request";
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
      else socket.destroy();
    });
    this.#servers.push(server);
    return server;
  }

  /** Stops every server listening, ends idle connections now and the rest after `graceMs`. */
  async close(graceMs = 2_000): Promise<void> {
    const closed = this.#servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const s of this.#servers) s.closeIdleConnections();
    for (const c of this.#hijacked) c.destroy();
    const timer = setTimeout(() => {
      for (const s of this.#servers) s.closeAllConnections();
    }, graceMs);
    await Promise.all(closed);
    clearTimeout(timer);
  }

  async dispatch(req: IncomingMessage, res: ServerResponse, upgraded: UpgradedConnection | undefined): Promise<void> {
    const started = Date.now();
    const method = req.method ?? "GET";
    const { path, query } = splitUrl(req.url ?? "/");
    try {
      const found = path === undefined ? ({ kind: "not-found" } as const) : this.#routes.match(method, path);
      if (found.kind === "redirect") {
        const search = query.toString();
        res.writeHead(301, { Location: search ? `${found.location}?${search}` : found.location, "Content-Length": 0 });
        res.end();
        return;
      }
      if (found.kind === "not-found") throw new PageNotFoundError();
      this.#identify(res);
      const version = negotiateVersion(found.version);
      const { handler, bodyLimit } = found.handler;
      const ctx: RequestContext = {
        req,
        res,
        params: found.params,
        query,
        version,
        log: this.#log,
        // An upgraded connection's body is the first bytes of its stream (hijack.ts).
        readJson: async () => {
          if (!upgraded) return readJson(req, bodyLimit);
          checkJsonContentType(req.headers["content-type"]);
          return parseJsonBody(await readUpgradedBody(req, upgraded, bodyLimit));
        },
        readBody: () => (upgraded ? readUpgradedBody(req, upgraded, bodyLimit) : readBody(req, bodyLimit)),
        hijack: (contentType) => {
          const stream = hijack(req, res, upgraded, contentType);
          // A client that goes away mid-stream is an error on the stream (EPIPE, premature
          // close): the stream ends, the daemon does not. Handlers may listen as well.
          stream.on("error", (err) => this.#log.debug("stream ended by an error", { path, error: errorMessage(err) }));
          this.#hijacked.add(stream);
          stream.once("close", () => this.#hijacked.delete(stream));
          return stream;
        },
      };
      const reply = await handler(ctx);
      if (reply) writeReply(req, res, reply);
    } catch (err) {
      this.#fail(req, res, err);
    } finally {
      this.#log.debug("api request", { method, path, ms: Date.now() - started });
    }
  }

  #identify(res: ServerResponse): void {
    res.setHeader("Api-Version", API_VERSION);
    res.setHeader("Docker-Experimental", String(this.#identity.experimental));
    res.setHeader("Ostype", "linux");
    res.setHeader("Server", this.#identity.server);
  }

  #fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const status = statusOf(err);
    if (status >= 500)
      this.#log.error("api request failed", { method: req.method, url: req.url, error: errorMessage(err) });
    if (res.headersSent || res.destroyed) {
      // Part of an answer is out: the client learns of the failure by the connection ending.
      res.destroy();
      return;
    }
    writeReply(req, res, { status, json: { message: errorMessage(err) } }, errorBody(err));
    if (err instanceof PayloadTooLargeError) discardRest(req);
  }
}

/**
 * After a 413 node reads the rest of the refused body into nothing (so the client, still sending,
 * reads the answer); this bounds that: past DISCARD_LIMIT's bytes or time the connection is closed.
 */
function discardRest(req: IncomingMessage): void {
  const socket = req.socket;
  const start = socket.bytesRead;
  const deadline = Date.now() + DISCARD_LIMIT.ms;
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) clearInterval(timer);
    else if (socket.bytesRead - start > DISCARD_LIMIT.bytes || Date.now() > deadline) {
      clearInterval(timer);
      socket.destroy();
    }
  }, 50);
  timer.unref();
  req.resume();
}

function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply, preEncoded?: string): void {
  const headers: Record<string, string | number> = { ...reply.headers };
  let body: string;
  if (reply.json !== undefined) {
    body = preEncoded ?? `${JSON.stringify(reply.json)}\n`;
    headers["Content-Type"] ??= "application/json";
  } else {
    body = reply.text ?? "";
    if (reply.text !== undefined) headers["Content-Type"] ??= "text/plain; charset=utf-8";
  }
  headers["Content-Length"] = Buffer.byteLength(body);
  res.writeHead(reply.status ?? 200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

/**
 * The path (raw, still percent-encoded) and query of a request target. Only origin-form
 * (`/path?query`) is served; anything else (absolute-form, `*`) has no path here.
 */
export function splitUrl(url: string): { path: string | undefined; query: URLSearchParams } {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  return { path: path.startsWith("/") ? path : undefined, query };
}
