// What --help and the gated flags need to know of the daemon (flags/gate.ts), learnt as the docker
// CLI learns it: one HEAD /_ping, given up after 2 s (docker's wait); no answer is no facts, and the
// client's own version stands.
import { type IncomingHttpHeaders, request } from "node:http";
import type { ServerFacts } from "../flags/gate.ts";
import { type Endpoint, MAX_API_VERSION, negotiate } from "./client.ts";

export const PING_TIMEOUT_MS = 2000;

/** The /_ping answer's headers, or undefined when nothing answered in time. */
export function pingHeaders(endpoint: Endpoint, timeoutMs = PING_TIMEOUT_MS): Promise<IncomingHttpHeaders | undefined> {
  return new Promise((resolve) => {
    const where =
      endpoint.kind === "unix" ? { socketPath: endpoint.path } : { host: endpoint.host, port: endpoint.port };
    const headers: Record<string, string> = { "User-Agent": "berth-cli" };
    if (endpoint.kind === "unix") headers.Host = "api.moby.localhost";
    // servername "": no TLS, and working one out costs a fresh process ~20 ms (client.ts says why).
    const options = { ...where, method: "HEAD", path: "/_ping", headers, agent: false as const, servername: "" };
    const req = request(options);
    const timer = setTimeout(() => {
      req.destroy();
      resolve(undefined);
    }, timeoutMs);
    req.on("response", (res) => {
      clearTimeout(timer);
      res.resume();
      req.destroy();
      resolve(res.headers);
    });
    req.on("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    req.end();
  });
}

/** One header's value, bounded (a hostile daemon's header is not worth more than a version's length). */
function header(h: IncomingHttpHeaders, name: string): string {
  const v = h[name];
  const s = Array.isArray(v) ? (v[0] ?? "") : (v ?? "");
  return s.slice(0, 64);
}

/** The facts gate.ts decides on, from the ping's headers (undefined: nothing answered) and a pinned version. */
export function serverFacts(headers: IncomingHttpHeaders | undefined, pinned: string | undefined): ServerFacts {
  // No answer: docker assumes the most (its own version, any OS, experimental features on).
  if (headers === undefined) return { apiVersion: pinned || MAX_API_VERSION, osType: "", experimental: true };
  return {
    apiVersion: pinned || negotiate(header(headers, "api-version") || undefined),
    osType: header(headers, "ostype"),
    experimental: header(headers, "docker-experimental") === "true",
  };
}
