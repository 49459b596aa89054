// The OCI distribution client: resolve a tag, fetch manifests and blobs (streamed, with Range
// resume), push blobs and manifests. HTTPS by default; plain HTTP for loopback hosts and those
// configured insecure; a custom CA per client. Auth follows the 401 challenge (Basic, or Bearer
// tokens per scope). Transient failures (connection resets, 429, 5xx) are retried with backoff;
// other registry errors become typed errors naming the registry, repository and code. Nothing is
// read whole past its limit (size-limits.ts): manifests stop at 4 MiB or their descriptor's size,
// error bodies at a few KiB, token answers at 1 MiB, blobs at their descriptor's size. A call given
// an AbortSignal stops when it aborts: the request, its body, its retries and their back-off, and
// the connection is dropped; it then fails with the signal's reason (never retried as a reset).
import { createHash } from "node:crypto";
import { pipeline, type Readable, Transform, type TransformCallback } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { Agent, Dispatcher } from "undici";
import {
  BerthError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "../../common/errors.ts";
import { MANIFEST_ACCEPT } from "../image/media-types.ts";
import {
  capBytes,
  checkDocumentSize,
  contentLength,
  MAX_DOCUMENT_BYTES,
  MAX_ERROR_BODY_BYTES,
  MAX_TOKEN_BYTES,
  readBounded,
  readPrefix,
} from "../size-limits.ts";
import type { BlobDescriptor } from "../transfer/ports.ts";
import { basicHeader, type Challenge, type Credentials, parseChallenge, parseTokenResponse } from "./auth.ts";
import { type CredentialStore, defaultCredentials } from "./credentials.ts";
import { formatReference, type ImageReference } from "./reference.ts";

export interface RegistryClientOptions {
  /** Hosts (host:port) spoken to over plain HTTP; loopback hosts always are. */
  insecure?: string[];
  /** PEM CA bundle trusted for HTTPS registries. */
  ca?: string | Buffer;
  credentials?: CredentialStore;
  retries?: number;
  userAgent?: string;
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;
const MAX_REDIRECTS = 5;

function header(r: Response, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Ends a body the caller does not need: a short one is read out (the connection can be reused),
 * a longer one is dropped with its connection. Gives what was read, for error messages.
 */
async function discard(r: Response): Promise<string> {
  return (await readPrefix(r.body, MAX_ERROR_BODY_BYTES)).toString("utf8");
}

/** A registry error body ({"errors":[{code,message}]}) as one line. */
function describeErrors(text: string): string {
  try {
    const doc = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (doc.errors?.length) return doc.errors.map((e) => `${e.code ?? "?"}: ${e.message ?? ""}`).join("; ");
  } catch {}
  return text.trim().slice(0, 200);
}

type Undici = typeof import("undici");
let undiciModule: Promise<Undici> | undefined;
/**
 * undici, loaded on first use: evaluating it costs a daemon ~6 MiB of heap (bench/README.md
 * "engine-run"), which berthd and berth-containerd should not hold until they talk to a registry.
 */
function loadUndici(): Promise<Undici> {
  undiciModule ??= import("undici");
  return undiciModule;
}

export class RegistryClient {
  readonly #opts: RegistryClientOptions;
  readonly #creds: CredentialStore;
  /** The connection pool, made with the first request. */
  #agent: Agent | undefined;
  readonly #tokens = new Map<string, { token: string; expires: number }>();
  readonly #basic = new Set<string>();
  readonly #plain = new Set<string>();

  constructor(opts: RegistryClientOptions = {}) {
    this.#opts = opts;
    this.#creds = opts.credentials ?? defaultCredentials();
  }

  async close(): Promise<void> {
    await this.#agent?.close();
  }

  /** undici's request through this client's pool. */
  async #request(
    url: string | URL,
    options: Omit<NonNullable<Parameters<Undici["request"]>[1]>, "dispatcher">,
  ): Promise<Dispatcher.ResponseData<unknown>> {
    const undici = await loadUndici();
    const ca = this.#opts.ca;
    this.#agent ??= new undici.Agent({ connect: ca ? { ca } : {}, connections: 16, pipelining: 0 });
    return undici.request(url, { ...options, dispatcher: this.#agent });
  }

  /**
   * Configured insecure hosts speak plain HTTP. Loopback hosts are tried over HTTPS first and drop
   * to HTTP only when the server does not speak TLS at all (docker's rule); a certificate the
   * client does not trust is an error, never a reason to downgrade.
   */
  #base(domain: string): string {
    const host = domain === "docker.io" ? "registry-1.docker.io" : domain;
    const plain = this.#plain.has(host) || (this.#opts.insecure ?? []).includes(host);
    return `${plain ? "http" : "https"}://${host}`;
  }

  #downgrade(url: string, err: unknown): string | undefined {
    const u = new URL(url);
    if (u.protocol !== "https:" || !LOOPBACK.test(u.host)) return undefined;
    const text = `${(err as { code?: string }).code ?? ""} ${(err as Error).message ?? ""}`;
    if (!/EPROTO|wrong version number|packet length too long|ERR_SSL/i.test(text)) return undefined;
    this.#plain.add(u.host);
    u.protocol = "http:";
    return u.toString();
  }

  /** One HTTP exchange with auth, redirects and retries; the caller reads or drains the body. */
  async #fetch(
    ref: ImageReference,
    method: "GET" | "HEAD" | "PUT" | "POST" | "PATCH",
    url: string,
    opts: {
      headers?: Record<string, string>;
      body?: Buffer | (() => Readable);
      push?: boolean;
      ok?: number[];
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const signal = opts.signal;
    const scope = `repository:${ref.repository}:${opts.push ? "pull,push" : "pull"}`;
    const retries = this.#opts.retries ?? 3;
    let authRetried = false;
    for (let attempt = 0; ; attempt++) {
      let target = url;
      let sameHost = true;
      let res: Response | undefined;
      try {
        signal?.throwIfAborted();
        for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
          const headers: Record<string, string> = {
            "user-agent": this.#opts.userAgent ?? "berth/0.1",
            ...opts.headers,
          };
          const auth = sameHost ? this.#authHeader(ref.domain, scope) : undefined;
          if (auth) headers.authorization = auth;
          const body = typeof opts.body === "function" ? opts.body() : opts.body;
          const r = await this.#request(target, { method, headers, body, signal });
          res = {
            status: r.statusCode,
            headers: r.headers as Response["headers"],
            body: r.body as unknown as Readable,
          };
          if ([301, 302, 303, 307, 308].includes(res.status) && header(res, "location")) {
            await discard(res);
            const next = new URL(header(res, "location")!, target);
            // Blob storage on another host must not see the registry's credentials.
            sameHost = next.host === new URL(url).host;
            target = next.toString();
            continue;
          }
          break;
        }
      } catch (err) {
        // A cancelled call is over: not retried, not downgraded, not wrapped as a registry fault.
        if (signal?.aborted) throw signal.reason;
        const http = this.#downgrade(target, err);
        if (http && target === url) {
          url = http;
          attempt--;
          continue;
        }
        if (attempt < retries && isTransient(err)) {
          await backoff(attempt, signal);
          continue;
        }
        throw new UnavailableError(`${ref.domain}: ${method} ${new URL(target).pathname}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (!res) throw new UnavailableError(`${ref.domain}: too many redirects for ${url}`);
      if (res.status === 401 && !authRetried) {
        authRetried = true;
        const challenge = header(res, "www-authenticate");
        await discard(res);
        if (challenge) {
          await this.#authorize(ref, parseChallenge(challenge), scope, signal);
          continue;
        }
      }
      if ((res.status === 429 || res.status >= 500) && attempt < retries) {
        await discard(res);
        await backoff(attempt, signal);
        continue;
      }
      if ((opts.ok ?? [200]).includes(res.status)) return res;
      const body = await discard(res);
      const text = method === "HEAD" ? "" : describeErrors(body);
      throw this.#error(ref, res.status, `${method} ${new URL(target).pathname}`, text);
    }
  }

  #error(ref: ImageReference, status: number, what: string, detail: string): Error {
    const msg = `${ref.domain}/${ref.repository}: ${what}: ${status}${detail ? ` ${detail}` : ""}`;
    if (status === 404) return new NotFoundError(msg);
    if (status === 401 || status === 403) return new BerthError("permission-denied", msg);
    if (status === 415 || status === 400) return new InvalidArgumentError(msg);
    if (status === 429 || status >= 500) return new UnavailableError(msg);
    return new FailedPreconditionError(msg);
  }

  #authHeader(domain: string, scope: string): string | undefined {
    const t = this.#tokens.get(`${domain} ${scope}`);
    if (t && t.expires > Date.now()) return `Bearer ${t.token}`;
    if (this.#basic.has(domain)) {
      const c = this.#creds(domain);
      if (c) return basicHeader(c);
    }
    return undefined;
  }

  async #authorize(ref: ImageReference, ch: Challenge, scope: string, signal?: AbortSignal): Promise<void> {
    const creds: Credentials | undefined = this.#creds(ref.domain);
    if (ch.scheme === "basic") {
      if (!creds)
        throw new BerthError(
          "permission-denied",
          `${ref.domain}: authentication required and no credentials are configured`,
        );
      this.#basic.add(ref.domain);
      return;
    }
    const realm = ch.params.realm;
    if (!realm) throw new InvalidArgumentError(`${ref.domain}: Bearer challenge without a realm`);
    const u = new URL(realm);
    if (ch.params.service) u.searchParams.set("service", ch.params.service);
    u.searchParams.set("scope", scope);
    const headers: Record<string, string> = {};
    if (creds) headers.authorization = basicHeader(creds);
    const r = await this.#request(u, { headers, signal });
    const body = r.body as unknown as Readable;
    if (r.statusCode !== 200) {
      const text = (await readPrefix(body, MAX_ERROR_BODY_BYTES)).toString("utf8");
      throw new BerthError(
        "permission-denied",
        `${ref.domain}: token service ${u.origin} refused (${r.statusCode}): ${describeErrors(text)}`,
      );
    }
    const text = await readBounded(
      body,
      MAX_TOKEN_BYTES,
      () =>
        new BerthError(
          "permission-denied",
          `${ref.domain}: token service ${u.origin}: answer is larger than ${MAX_TOKEN_BYTES} bytes`,
        ),
    );
    const t = parseTokenResponse(text.toString("utf8"), ref.domain);
    this.#tokens.set(`${ref.domain} ${scope}`, {
      token: t.token,
      expires: Date.now() + (t.expiresInSeconds - 5) * 1000,
    });
  }

  /**
   * Checks credentials the way `docker login` does: GET /v2/ at `domain`, and the flow its 401
   * challenge asks for (Basic: the same request with the credentials; Bearer: a token from the
   * realm for the service, no scope, then the request with it). Resolves when the registry lets
   * the caller in; a refusal is permission-denied, a registry that cannot be reached unavailable,
   * each naming the URL as dockerd does.
   */
  async checkLogin(domain: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = opts.signal;
    let url = `${this.#base(domain)}/v2/`;
    const get = async (authorization?: string): Promise<Response> => {
      for (;;) {
        try {
          const headers: Record<string, string> = { "user-agent": this.#opts.userAgent ?? "berth/0.1" };
          if (authorization) headers.authorization = authorization;
          const r = await this.#request(url, { method: "GET", headers, signal });
          return {
            status: r.statusCode,
            headers: r.headers as Response["headers"],
            body: r.body as unknown as Readable,
          };
        } catch (err) {
          if (signal?.aborted) throw signal.reason;
          const http = this.#downgrade(url, err);
          if (http) {
            url = http;
            continue;
          }
          throw new UnavailableError(`Get "${url}": ${(err as Error).message}`, { cause: err });
        }
      }
    };
    const refused = (status: number, detail = "") =>
      new BerthError(
        status === 401 || status === 403 ? "permission-denied" : status >= 500 ? "unavailable" : "failed-precondition",
        detail
          ? `Get "${url}": ${detail}`
          : `login attempt to ${url} failed with status: ${status} ${STATUS_TEXT[status] ?? ""}`.trimEnd(),
      );
    const first = await get();
    const challenge = header(first, "www-authenticate");
    await discard(first);
    if (first.status === 200) return;
    if (first.status !== 401 || !challenge) throw refused(first.status);
    const ch = parseChallenge(challenge);
    const creds = this.#creds(domain);
    let authorization: string;
    if (ch.scheme === "basic") {
      if (!creds) throw refused(401, "no basic auth credentials");
      authorization = basicHeader(creds);
    } else {
      const realm = ch.params.realm;
      if (!realm) throw new InvalidArgumentError(`${domain}: Bearer challenge without a realm`);
      const u = new URL(realm);
      if (ch.params.service) u.searchParams.set("service", ch.params.service);
      const r = await this.#request(u, {
        headers: creds ? { authorization: basicHeader(creds) } : {},
        signal,
      }).catch((err: unknown) => {
        throw new UnavailableError(`Get "${u.origin}${u.pathname}": ${(err as Error).message}`, { cause: err });
      });
      const body = r.body as unknown as Readable;
      if (r.statusCode !== 200) {
        const text = (await readPrefix(body, MAX_ERROR_BODY_BYTES)).toString("utf8");
        throw refused(r.statusCode, `unauthorized: ${describeErrors(text).replace(/^UNAUTHORIZED: /, "")}`);
      }
      const text = await readBounded(
        body,
        MAX_TOKEN_BYTES,
        () =>
          new BerthError(
            "permission-denied",
            `${domain}: token service answer is larger than ${MAX_TOKEN_BYTES} bytes`,
          ),
      );
      authorization = `Bearer ${parseTokenResponse(text.toString("utf8"), domain).token}`;
    }
    const second = await get(authorization);
    await discard(second);
    if (second.status !== 200) throw refused(second.status);
  }

  /**
   * Resolves a tag (or digest) to the root descriptor of the image. A HEAD without the digest or
   * the size falls back to a GET of the manifest, read up to the document limit; a manifest
   * declared larger than the limit is refused before its body is read.
   */
  async resolve(
    ref: ImageReference,
    opts: { signal?: AbortSignal } = {},
  ): Promise<{ name: string; descriptor: BlobDescriptor }> {
    const name = formatReference(ref);
    const url = `${this.#base(ref.domain)}/v2/${ref.repository}/manifests/${ref.digest ?? ref.tag}`;
    const tooLarge = (size?: number) =>
      new InvalidArgumentError(
        `${name}: manifest ${size === undefined ? "" : `(${size} bytes) `}is larger than ${MAX_DOCUMENT_BYTES} bytes`,
      );
    const head = await this.#fetch(ref, "HEAD", url, { headers: { accept: MANIFEST_ACCEPT }, signal: opts.signal });
    await discard(head);
    let mediaType = header(head, "content-type")?.split(";")[0]?.trim() ?? "";
    let digest = ref.digest ?? header(head, "docker-content-digest");
    let size = contentLength(head.headers["content-length"]) ?? -1;
    if (size > MAX_DOCUMENT_BYTES) throw tooLarge(size);
    if (!digest || size < 0 || !mediaType) {
      const get = await this.#fetch(ref, "GET", url, { headers: { accept: MANIFEST_ACCEPT }, signal: opts.signal });
      const declared = contentLength(get.headers["content-length"]);
      if (declared !== undefined && declared > MAX_DOCUMENT_BYTES) {
        get.body.destroy();
        throw tooLarge(declared);
      }
      // Only the digest and size are wanted here (the pull fetches the manifest by digest): hash
      // the body as it comes instead of holding it.
      const hash = createHash("sha256");
      size = 0;
      for await (const c of get.body) {
        size += (c as Buffer).length;
        if (size > MAX_DOCUMENT_BYTES) throw tooLarge(); // leaving the loop drops the connection
        hash.update(c as Buffer);
      }
      mediaType = header(get, "content-type")?.split(";")[0]?.trim() ?? "";
      digest = `sha256:${hash.digest("hex")}`;
    }
    if (!/^sha256:[a-f0-9]{64}$/.test(digest))
      throw new InvalidArgumentError(`${name}: registry gave an invalid digest ${digest}`);
    return { name, descriptor: { mediaType, digest, size } };
  }

  /**
   * A manifest's bytes, checked against the descriptor: one over the document limit is refused
   * unfetched, and the body is read up to the descriptor's size only.
   */
  async fetchManifest(
    ref: ImageReference,
    desc: BlobDescriptor,
    opts: { signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const where = `${ref.domain}/${ref.repository}: manifest ${desc.digest}`;
    checkDocumentSize(where, desc.size);
    const url = `${this.#base(ref.domain)}/v2/${ref.repository}/manifests/${desc.digest}`;
    const r = await this.#fetch(ref, "GET", url, {
      headers: { accept: desc.mediaType || MANIFEST_ACCEPT },
      signal: opts.signal,
    });
    if ((contentLength(r.headers["content-length"]) ?? 0) > desc.size) {
      r.body.destroy();
      throw overrun(where, desc.size);
    }
    const body = await readBounded(r.body, desc.size, () => overrun(where, desc.size));
    const got = `sha256:${createHash("sha256").update(body).digest("hex")}`;
    if (got !== desc.digest || body.length !== desc.size) {
      throw new FailedPreconditionError(
        `${ref.domain}/${ref.repository}: manifest ${desc.digest}: got ${got} (${body.length} bytes, want ${desc.size})`,
      );
    }
    return body;
  }

  /**
   * Streams a blob from `offset` (Range); the consumer verifies the digest. The stream ends in an
   * error, and the connection is dropped, at the first byte past the descriptor's size.
   */
  async fetchBlob(
    repository: string,
    desc: BlobDescriptor,
    opts: { domain: string; offset?: number; signal?: AbortSignal },
  ): Promise<Readable> {
    const ref = { domain: opts.domain, repository };
    const where = `${opts.domain}/${repository}: blob ${desc.digest}`;
    const url = `${this.#base(opts.domain)}/v2/${repository}/blobs/${desc.digest}`;
    const offset = opts.offset ?? 0;
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const r = await this.#fetch(ref, "GET", url, { headers, ok: [200, 206], signal: opts.signal });
    // No Range support: the whole blob comes, and what we already have is skipped.
    const skip = offset > 0 && r.status === 200 ? offset : 0;
    const declared = contentLength(r.headers["content-length"]);
    if (declared !== undefined && declared - skip > desc.size - offset) {
      r.body.destroy();
      throw overrun(where, desc.size);
    }
    const cap = capBytes(desc.size - offset, () => overrun(where, desc.size));
    // pipeline, not pipe: an error on either side destroys both (the connection is dropped), and a
    // broken download reaches the consumer with its own error.
    const done = () => {};
    return skip > 0 ? pipeline(r.body, skipBytes(skip), cap, done) : pipeline(r.body, cap, done);
  }

  async blobExists(ref: ImageReference, desc: BlobDescriptor): Promise<boolean> {
    const url = `${this.#base(ref.domain)}/v2/${ref.repository}/blobs/${desc.digest}`;
    const r = await this.#fetch(ref, "HEAD", url, { push: true, ok: [200, 404] });
    await discard(r);
    return r.status === 200;
  }

  /** Uploads a blob unless the registry has it: POST an upload, then one monolithic PUT. */
  async pushBlob(ref: ImageReference, desc: BlobDescriptor, source: () => Readable): Promise<void> {
    if (await this.blobExists(ref, desc)) return;
    const base = this.#base(ref.domain);
    const start = await this.#fetch(ref, "POST", `${base}/v2/${ref.repository}/blobs/uploads/`, {
      push: true,
      ok: [202],
    });
    await discard(start);
    const location = header(start, "location");
    if (!location)
      throw new FailedPreconditionError(`${ref.domain}/${ref.repository}: upload started without a Location`);
    const u = new URL(location, base);
    u.searchParams.set("digest", desc.digest);
    const put = await this.#fetch(ref, "PUT", u.toString(), {
      push: true,
      ok: [201],
      headers: { "content-type": "application/octet-stream", "content-length": String(desc.size) },
      body: source,
    });
    await discard(put);
  }

  async pushManifest(ref: ImageReference, mediaType: string, bytes: Uint8Array): Promise<string> {
    const tagOrDigest = ref.tag ?? ref.digest;
    if (!tagOrDigest) throw new InvalidArgumentError(`${formatReference(ref)}: nothing to push to (no tag or digest)`);
    const url = `${this.#base(ref.domain)}/v2/${ref.repository}/manifests/${tagOrDigest}`;
    const r = await this.#fetch(ref, "PUT", url, {
      push: true,
      ok: [201],
      headers: { "content-type": mediaType },
      body: Buffer.from(bytes),
    });
    await discard(r);
    return header(r, "docker-content-digest") ?? `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  }
}

/** Go's http.StatusText for the statuses a login sees. */
const STATUS_TEXT: Record<number, string> = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** A registry that sends more than the descriptor it was asked for says. */
function overrun(where: string, size: number): Error {
  return new FailedPreconditionError(`${where}: the registry sent more than its descriptor's ${size} bytes`);
}

function isTransient(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? "";
  return [
    "ECONNRESET",
    "ECONNREFUSED",
    "EPIPE",
    "ETIMEDOUT",
    "UND_ERR_SOCKET",
    "UND_ERR_CLOSED",
    "UND_ERR_CONNECT_TIMEOUT",
  ].includes(code);
}

/** Waits before a retry; a cancelled call stops waiting (and fails with the signal's reason). */
const backoff = (attempt: number, signal?: AbortSignal) => sleep(100 * 2 ** attempt, undefined, { signal });

function skipBytes(n: number): Transform {
  let left = n;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (left >= chunk.length) {
        left -= chunk.length;
        return cb();
      }
      const out = chunk.subarray(left);
      left = 0;
      cb(null, out);
    },
  });
}
