// A stand-in Engine API daemon on a unix socket in a temp dir that records what a client sends
// and answers just enough for `docker create` / `docker run -d` to finish: /_ping with the API
// version it is told to speak, 201 for POST /containers/create, 204 for start. The run-flags
// oracle points the real docker CLI at it to see the exact create body docker sends.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RecordedRequest {
  method: string;
  /** The path without the /v1.xx prefix, and the query as a record. */
  path: string;
  query: Record<string, string>;
  body: unknown;
}

export interface RecordingDaemon {
  socket: string;
  host: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
export const FAKE_ID = "0123456789abcdef".repeat(4);

export async function recordingDaemon(apiVersion = "1.41"): Promise<RecordingDaemon> {
  const dir = await mkdtemp(join(tmpdir(), "berth-recd-"));
  const socket = join(dir, "docker.sock");
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const path = url.pathname.replace(/^\/v[0-9.]+/, "");
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {}
      requests.push({ method: req.method ?? "", path, query: Object.fromEntries(url.searchParams), body });
      res.setHeader("Api-Version", apiVersion);
      res.setHeader("Ostype", "linux");
      res.setHeader("Content-Type", "application/json");
      if (path === "/_ping") {
        res.end(req.method === "HEAD" ? undefined : "OK");
      } else if (req.method === "POST" && path === "/containers/create") {
        res.statusCode = 201;
        res.end(JSON.stringify({ Id: FAKE_ID, Warnings: [] }));
      } else if (req.method === "POST" && /^\/containers\/[^/]+\/start$/.test(path)) {
        res.statusCode = 204;
        res.end();
      } else if (path === "/version") {
        res.end(JSON.stringify({ ApiVersion: apiVersion, Os: "linux", Arch: "amd64", Version: "20.10.24" }));
      } else if (path === "/info") {
        res.end(JSON.stringify({ OSType: "linux", Architecture: "x86_64" }));
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ message: `recording daemon: no route for ${req.method} ${path}` }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, resolve);
  });
  return {
    socket,
    host: `unix://${socket}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
