// What --help and the gated flags need to know of the daemon (flags/gate.ts), learnt as the docker
// CLI learns it: one HEAD /_ping, given up after 2 s (docker's wait); no answer is no facts, and the
// client's own version stands.
import type { ServerFacts } from "../flags/gate.ts";
import { connect, type Endpoint, MAX_API_VERSION, negotiate } from "./client.ts";
import { exchange, type HttpHeaders } from "./http1.ts";

export const PING_TIMEOUT_MS = 2000;

/** The /_ping answer's headers, or undefined when nothing answered in time (or answered badly). */
export function pingHeaders(endpoint: Endpoint, timeoutMs = PING_TIMEOUT_MS): Promise<HttpHeaders | undefined> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { "User-Agent": "berth-cli" };
    headers.Host = endpoint.kind === "unix" ? "api.moby.localhost" : endpoint.host;
    const socket = connect(endpoint);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, timeoutMs);
    exchange(socket, { method: "HEAD", path: "/_ping", headers }).then(
      (x) => {
        clearTimeout(timer);
        socket.destroy();
        resolve(x.kind === "response" ? x.response.headers : undefined);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/** One header's value, bounded (a hostile daemon's header is not worth more than a version's length). */
function header(h: HttpHeaders, name: string): string {
  const v = h[name];
  const s = Array.isArray(v) ? (v[0] ?? "") : (v ?? "");
  return s.slice(0, 64);
}

/** The facts gate.ts decides on, from the ping's headers (undefined: nothing answered) and a pinned version. */
export function serverFacts(headers: HttpHeaders | undefined, pinned: string | undefined): ServerFacts {
  // No answer: docker assumes the most (its own version, any OS, experimental features on).
  if (headers === undefined) return { apiVersion: pinned || MAX_API_VERSION, osType: "", experimental: true };
  return {
    apiVersion: pinned || negotiate(header(headers, "api-version") || undefined),
    osType: header(headers, "ostype"),
    experimental: header(headers, "docker-experimental") === "true",
  };
}
