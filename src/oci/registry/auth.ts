// Registry authentication: the WWW-Authenticate challenge of a 401 says how (Basic, or Bearer with
// a token service); Bearer tokens are fetched from the realm for the scope and cached until they
// expire. Pure parsing here; the HTTP calls are the client's.
import { BerthError, InvalidArgumentError } from "../../common/errors.ts";

export interface Challenge {
  scheme: "basic" | "bearer";
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (one challenge; the first if several). */
export function parseChallenge(header: string): Challenge {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) throw new InvalidArgumentError(`bad WWW-Authenticate header ${JSON.stringify(header)}`);
  const scheme = m[1]!.toLowerCase();
  if (scheme !== "basic" && scheme !== "bearer") throw new InvalidArgumentError(`unsupported auth scheme ${m[1]}`);
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!))
    params[p[1]!.toLowerCase()] = (p[2] ?? p[3] ?? "").replace(/\\(.)/g, "$1");
  return { scheme, params };
}

export interface Credentials {
  username: string;
  password: string;
  /** An identity (refresh) token from a login, used instead of the password for tokens. */
  identityToken?: string;
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
}

export interface BearerToken {
  token: string;
  expiresInSeconds: number;
}

/** Docker's token handler gives a token at least this long a life, whatever the service said. */
const MIN_TOKEN_SECONDS = 60;

/**
 * The token service's answer ({"token"|"access_token", "expires_in"}); `where` names the registry.
 * A body that is not that object is refused (permission-denied, as no token is); a lifetime that is
 * missing, not a number or under a minute counts as a minute, as docker reads it.
 */
export function parseTokenResponse(text: string, where = "registry"): BearerToken {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new BerthError("permission-denied", `${where}: token service answer is not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new BerthError("permission-denied", `${where}: token service answer is not a JSON object`);
  const o = doc as { token?: unknown; access_token?: unknown; expires_in?: unknown };
  const token = o.token || o.access_token;
  if (!token) throw new BerthError("permission-denied", `${where}: token service gave no token`);
  if (typeof token !== "string")
    throw new BerthError("permission-denied", `${where}: token service gave a token that is not a string`);
  const ttl = o.expires_in;
  const expiresInSeconds =
    typeof ttl === "number" && Number.isFinite(ttl) && ttl > MIN_TOKEN_SECONDS ? ttl : MIN_TOKEN_SECONDS;
  return { token, expiresInSeconds };
}
