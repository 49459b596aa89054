// POST /auth (`docker login`): the credentials checked against the registry the body names, as
// dockerd checks them (GET /v2/ and the flow its challenge asks for: Basic, or a Bearer token),
// with src/oci's registry client. Nothing is stored: the client keeps the credentials. Loopback
// registries are tried over HTTPS, then plain HTTP (dockerd's 127.0.0.0/8 rule).
import { BerthError, errorMessage, InvalidArgumentError } from "../../common/errors.ts";
import { RegistryClient } from "../../oci/registry/registry-client.ts";
import { ApiError } from "../api/api-errors.ts";
import { authFromDocument, type RegistryAuth } from "../images/registry-auth.ts";

/** The body is a small JSON object; a token is a few KiB. */
export const MAX_AUTH_BODY = 64 << 10;
/** A login that takes longer (a registry that accepts and never answers) fails. */
const LOGIN_TIMEOUT_MS = 30_000;
/** docker's default server address (Docker Hub). */
const INDEX_SERVER = "https://index.docker.io/v1/";
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

const bad = (why: string) => new InvalidArgumentError(`invalid auth request: ${why}`);

export interface LoginRequest {
  auth: RegistryAuth | undefined;
  /** The registry's host[:port] (docker.io for Docker Hub). */
  domain: string;
}

/** The registry host a server address names: scheme and path dropped, Docker Hub's aliases folded. */
export function registryDomain(serverAddress: string): string {
  const s = serverAddress.trim();
  if (s === "" || s === INDEX_SERVER) return "docker.io";
  const host = s
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .split("/")[0]!
    .toLowerCase();
  if (host.length > 255 || !HOST.test(host)) throw bad(`invalid server address ${JSON.stringify(s.slice(0, 128))}`);
  if (["index.docker.io", "registry-1.docker.io", "docker.io"].includes(host)) return "docker.io";
  return host;
}

/** POST /auth's body, decoded and checked. */
export function decodeLogin(doc: unknown): LoginRequest {
  if (doc === undefined) throw bad("no body");
  const auth = authFromDocument(doc, bad);
  const server = (doc as Record<string, unknown>).serveraddress;
  return { auth, domain: registryDomain(typeof server === "string" ? server : "") };
}

/** Checks the credentials; dockerd's answer, or 401 for a refusal and 500 when the registry cannot be asked. */
export async function login(
  req: LoginRequest,
  signal?: AbortSignal,
): Promise<{ Status: string; IdentityToken: string }> {
  const creds = req.auth && {
    username: req.auth.username,
    password: req.auth.password,
    ...(req.auth.identityToken ? { identityToken: req.auth.identityToken } : {}),
  };
  const registry = new RegistryClient({ credentials: () => creds, retries: 0 });
  const timeout = AbortSignal.timeout(LOGIN_TIMEOUT_MS);
  try {
    await registry.checkLogin(req.domain, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  } catch (err) {
    if (err instanceof BerthError && err.kind === "permission-denied") {
      throw new ApiError(401, err.message, "permission-denied");
    }
    const why = timeout.aborted ? `no answer from ${req.domain} in ${LOGIN_TIMEOUT_MS / 1000} s` : errorMessage(err);
    throw new ApiError(500, why, "unavailable");
  } finally {
    await registry.close();
  }
  return { Status: "Login Succeeded", IdentityToken: "" };
}
