// A scriptable registry for fault tests: it speaks just enough of the OCI distribution API for
// pulls (GET/HEAD /v2/, manifests by tag or digest, blobs by digest with Range) and serves whatever
// bytes the test gives it, including wrong, truncated, hostile or slow ones. It listens on loopback
// only. Real-registry behaviour is tested against docker-registry (local-registry.ts).
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface BlobFault {
  /** Serve these bytes instead of the blob's own (a wrong digest). */
  replaceWith?: Buffer;
  /** Claim the full length but close the connection after this many bytes. */
  dropAfter?: number;
  /** How many requests the fault applies to (default: all). */
  times?: number;
}

export interface FakeRegistry {
  host: string;
  /** Stores a blob; returns its descriptor fields. */
  addBlob(data: Buffer): { digest: string; size: number };
  /** Stores a manifest under `tag` and its digest. */
  addManifest(repo: string, tag: string, mediaType: string, body: Buffer): { digest: string; size: number };
  faults: Map<string, BlobFault>;
  /** Bytes per second for blob bodies (0: unthrottled). */
  throttle: number;
  requests: string[];
  /**
   * Answers a request before the built-in routes when it returns true: a test's own (hostile)
   * answer, such as a body too large to build in memory (see streamBytes).
   */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  stop(): Promise<void>;
}

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export async function startFakeRegistry(): Promise<FakeRegistry> {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { mediaType: string; body: Buffer }>();
  const sockets = new Set<import("node:net").Socket>();
  const reg: FakeRegistry = {
    host: "",
    addBlob(data) {
      const digest = sha(data);
      blobs.set(digest, data);
      return { digest, size: data.length };
    },
    addManifest(repo, tag, mediaType, body) {
      const digest = sha(body);
      manifests.set(`${repo}:${tag}`, { mediaType, body });
      manifests.set(`${repo}@${digest}`, { mediaType, body });
      return { digest, size: body.length };
    },
    faults: new Map(),
    throttle: 0,
    requests: [],
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const sendBlob = async (req: IncomingMessage, res: ServerResponse, digest: string) => {
    const data = blobs.get(digest);
    if (!data) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry" }] }));
      return;
    }
    const fault = reg.faults.get(digest);
    const active = fault && (fault.times === undefined || fault.times > 0);
    if (active && fault.times !== undefined) fault.times--;
    let body = active && fault.replaceWith ? fault.replaceWith : data;
    let start = 0;
    const range = /^bytes=(\d+)-/.exec(req.headers.range ?? "");
    if (range) start = Number(range[1]);
    body = body.subarray(start);
    const headers: Record<string, string | number> = {
      "content-type": "application/octet-stream",
      "content-length": body.length,
      "docker-content-digest": digest,
    };
    if (range) headers["content-range"] = `bytes ${start}-${start + body.length - 1}/${data.length}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === "HEAD") return res.end();
    const limit = active && fault.dropAfter !== undefined ? fault.dropAfter : body.length;
    const chunk = 64 * 1024;
    for (let i = 0; i < Math.min(limit, body.length); i += chunk) {
      const piece = body.subarray(i, Math.min(i + chunk, limit));
      if (!res.write(piece)) await new Promise((r) => res.once("drain", r));
      if (reg.throttle > 0) await new Promise((r) => setTimeout(r, (piece.length / reg.throttle) * 1000));
      if (res.destroyed) return;
    }
    if (limit < body.length) res.socket?.destroy();
    else res.end();
  };

  const server: Server = createServer((req, res) => {
    reg.requests.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ""}`);
    if (reg.intercept?.(req, res)) return;
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/v2/" || url.pathname === "/v2") {
      res.writeHead(200, { "docker-distribution-api-version": "registry/2.0" });
      return res.end("{}");
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m) {
      res.writeHead(404);
      return res.end();
    }
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === "blobs") {
      sendBlob(req, res, ref).catch(() => res.destroy());
      return;
    }
    const man = manifests.get(ref.startsWith("sha256:") ? `${repo}@${ref}` : `${repo}:${ref}`);
    if (!man) {
      res.writeHead(404, { "content-type": "application/json" });
      return res.end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
    }
    res.writeHead(200, {
      "content-type": man.mediaType,
      "content-length": man.body.length,
      "docker-content-digest": sha(man.body),
    });
    res.end(req.method === "HEAD" ? undefined : man.body);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  reg.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return reg;
}

/** How streamBytes paces a body. */
export interface StreamPace {
  /** Bytes a second (0 or absent: as fast as the client reads). */
  bytesPerSecond?: number;
  /** Bytes per write (default 64 KiB; 1 for a byte at a time). */
  piece?: number;
  /**
   * Once `total` is sent: end the response ("end", the default), drop the connection ("drop": a
   * body shorter than its Content-Length) or hold it open sending nothing ("hold": a stalled body).
   */
  after?: "end" | "drop" | "hold";
}

/**
 * Writes `prefix` then filler up to `total` bytes, 64 KiB at a time as the client reads them (the
 * body never exists whole), and ends the response; stops early when the client hangs up. Resolves
 * to the bytes handed to the socket, so a test can tell a client that read all from one that
 * stopped (the kernel's socket buffers hold a few MiB more than the client took). `pace` slows the
 * body down (a slow or stalling registry).
 */
export async function streamBytes(
  res: ServerResponse,
  total: number,
  prefix: Buffer = Buffer.alloc(0),
  pace: StreamPace = {},
): Promise<number> {
  const filler = Buffer.alloc(pace.piece ?? 64 * 1024, " ");
  let closed = false;
  const hungUp = new Promise<void>((r) =>
    res.once("close", () => {
      closed = true;
      r();
    }),
  );
  function* pieces(): Generator<Buffer> {
    let left = total;
    for (let i = 0; i < prefix.length && left > 0; i += filler.length) {
      const p = prefix.subarray(i, Math.min(i + filler.length, i + left));
      left -= p.length;
      yield p;
    }
    while (left > 0) {
      const p = filler.subarray(0, Math.min(filler.length, left));
      left -= p.length;
      yield p;
    }
  }
  let sent = 0;
  const rate = pace.bytesPerSecond ?? 0;
  for (const p of pieces()) {
    if (closed || res.destroyed) return sent;
    sent += p.length;
    if (!res.write(p)) await Promise.race([once(res, "drain"), hungUp]);
    if (rate > 0) await Promise.race([new Promise((r) => setTimeout(r, (p.length / rate) * 1000)), hungUp]);
  }
  if (closed) return sent;
  if (pace.after === "drop") res.socket?.destroy();
  else if (pace.after === "hold") await hungUp;
  else res.end();
  return sent;
}

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

/** Publishes an image made of the given (compressed) layers and their diffIDs; returns the manifest. */
export function publishImage(
  reg: FakeRegistry,
  repo: string,
  tag: string,
  layers: { blob: Buffer; diffId: string; mediaType?: string }[],
  opts: { manifestMediaType?: string } = {},
): { digest: string; size: number; layers: { digest: string; size: number }[] } {
  const config = Buffer.from(
    JSON.stringify({
      architecture: process.arch === "x64" ? "amd64" : process.arch,
      os: "linux",
      config: { Cmd: ["sh"] },
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    }),
  );
  const c = reg.addBlob(config);
  const ls = layers.map((l) => ({ ...reg.addBlob(l.blob), mediaType: l.mediaType ?? OCI_LAYER_GZIP }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: opts.manifestMediaType ?? OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: c.digest, size: c.size },
      layers: ls.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }),
  );
  const m = reg.addManifest(repo, tag, opts.manifestMediaType ?? OCI_MANIFEST, manifest);
  return { ...m, layers: ls };
}

// ---- the malicious registry: the hostile cases in one place ----

/**
 * What a malicious registry can do to a puller, one case an image:
 * - `endless-manifest`: a HEAD without digest or length, and a GET that never stops sending;
 * - `manifest-length-short` / `manifest-length-long`: a manifest whose Content-Length is smaller
 *   than its body (the rest is left on the connection) or larger (the connection is dropped);
 * - `layer-size-short`: a manifest whose layer descriptor says fewer bytes than the blob has;
 * - `layer-size-long`: one that says more bytes than the blob has;
 * - `wrong-media-type`: an HTML page served as the image's manifest;
 * - `slow-manifest`: a manifest sent a byte a second (slow, but progressing: not to be killed);
 * - `stalled-layer`: a layer that sends part of itself and then nothing, holding the connection.
 */
export const HOSTILE_CASES = [
  "endless-manifest",
  "manifest-length-short",
  "manifest-length-long",
  "layer-size-short",
  "layer-size-long",
  "wrong-media-type",
  "slow-manifest",
  "stalled-layer",
] as const;
export type HostileCase = (typeof HOSTILE_CASES)[number];

/** Bytes an endless body sends before it gives up (far past any document limit; never held). */
export const ENDLESS_BYTES = 1 << 30;

/**
 * Answers on the raw socket, bypassing node's own framing (which refuses a body that does not match
 * its Content-Length): the status line and headers as given, then `body`, then `after`.
 */
export function rawAnswer(
  res: ServerResponse,
  headers: Record<string, string | number>,
  body: Buffer,
  after: "keep" | "drop" = "keep",
): void {
  const socket = res.socket;
  if (!socket) return;
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.write(`HTTP/1.1 200 OK\r\n${head}\r\n`);
  socket.write(body);
  if (after === "drop") socket.end();
}

/**
 * Publishes `kind` under `repo`:1 on `reg` and routes its hostile answers (before any intercept the
 * registry already had). Returns the reference and what was served, for the test's checks.
 */
export function publishHostile(
  reg: FakeRegistry,
  repo: string,
  kind: HostileCase,
): { reference: string; responses: ServerResponse[] } {
  // Not a tar (nothing here is meant to unpack), and its own bytes: no case shares a blob with
  // another, which a daemon would then not fetch again.
  const layerBody = Buffer.alloc(2 << 20, "l");
  layerBody.write(repo);
  const layer = reg.addBlob(layerBody);
  const arch = process.arch === "x64" ? "amd64" : process.arch;
  const config = reg.addBlob(
    Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: "linux",
        config: { Labels: { case: repo } },
        rootfs: { type: "layers", diff_ids: [`sha256:${"0".repeat(64)}`] },
      }),
    ),
  );
  const layerSize = kind === "layer-size-short" ? 1000 : kind === "layer-size-long" ? layer.size + 4096 : layer.size;
  const manifestBody = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, ...config },
      layers: [{ mediaType: OCI_LAYER_GZIP, digest: layer.digest, size: layerSize }],
    }),
  );
  const manifest = reg.addManifest(repo, "1", kind === "wrong-media-type" ? "text/html" : OCI_MANIFEST, manifestBody);
  const html = Buffer.from("<html><body>Welcome to nginx!</body></html>\n");
  const responses: ServerResponse[] = [];
  const before = reg.intercept;
  reg.intercept = (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (!path.startsWith(`/v2/${repo}/`)) return before?.(req, res) ?? false;
    const isManifest = path.includes("/manifests/");
    const isLayer = path === `/v2/${repo}/blobs/${layer.digest}`;
    const get = req.method === "GET";
    switch (kind) {
      case "endless-manifest":
        if (!isManifest) return false;
        res.writeHead(200, { "content-type": OCI_MANIFEST });
        if (!get) {
          res.end();
          return true;
        }
        responses.push(res);
        streamBytes(res, ENDLESS_BYTES, Buffer.from('{"schemaVersion":2,')).catch(() => {});
        return true;
      case "manifest-length-short":
      case "manifest-length-long": {
        if (!isManifest || !get) return false;
        responses.push(res);
        const short = kind === "manifest-length-short";
        const length = short ? manifestBody.length >> 1 : manifestBody.length + 1000;
        const headers = {
          "content-type": OCI_MANIFEST,
          "content-length": length,
          "docker-content-digest": manifest.digest,
        };
        rawAnswer(res, headers, manifestBody, short ? "keep" : "drop");
        return true;
      }
      case "wrong-media-type":
        if (!isManifest) return false;
        res.writeHead(200, { "content-type": "text/html", "content-length": html.length });
        res.end(get ? html : undefined);
        return true;
      case "slow-manifest":
        if (!isManifest || !get) return false;
        responses.push(res);
        res.writeHead(200, { "content-type": OCI_MANIFEST, "content-length": manifestBody.length });
        streamBytes(res, manifestBody.length, manifestBody, { bytesPerSecond: 1, piece: 1 }).catch(() => {});
        return true;
      case "stalled-layer":
        if (!isLayer || !get) return false;
        responses.push(res);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": layer.size });
        streamBytes(res, layer.size >> 1, layerBody, { after: "hold" }).catch(() => {});
        return true;
      default:
        // The lying descriptor sizes are in the manifest; the registry serves the blob as it is.
        if (isLayer) responses.push(res);
        return false;
    }
  };
  return { reference: `${reg.host}/${repo}:1`, responses };
}
