// Registry credentials where docker keeps them: config.json's "auths" (base64 of user:password, or
// an identity token), or a credential helper when "credHelpers" names one for the registry or
// "credsStore" names one for all (credential-helper.ts). login stores, logout erases, pull and push
// read them for the X-Registry-Auth header.
import { Buffer } from "node:buffer";
import { type ConfigDoc, updateConfig } from "./config-file.ts";
import { helperErase, helperGet, helperStore } from "./credential-helper.ts";

/** Docker Hub's server address, as docker names it in config.json and POST /auth. */
export const INDEX_SERVER = "https://index.docker.io/v1/";

/** docker's AuthConfig as the API carries it. */
export interface AuthConfig {
  username?: string;
  password?: string;
  serveraddress: string;
  identitytoken?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** docker's ConvertToHostname: the scheme and any path dropped ("http://h:5000/x" → "h:5000"). */
export function hostnameOf(server: string): string {
  const stripped = server.replace(/^https?:\/\//, "");
  const slash = stripped.indexOf("/");
  return slash < 0 ? stripped : stripped.slice(0, slash);
}

/** The key credentials of a registry host are kept under: Docker Hub's address, else the host. */
export function serverKey(registry: string): string {
  return registry === "docker.io" || registry === "index.docker.io" || registry === "registry-1.docker.io"
    ? INDEX_SERVER
    : registry;
}

/** The helper that keeps `server`'s credentials (credHelpers, then credsStore), if any. */
export function helperFor(config: ConfigDoc, server: string): string | undefined {
  const helpers = config.credHelpers;
  if (typeof helpers === "object" && helpers !== null) {
    const name =
      (helpers as Record<string, unknown>)[hostnameOf(server)] ?? (helpers as Record<string, unknown>)[server];
    if (typeof name === "string" && name !== "") return name;
  }
  return typeof config.credsStore === "string" && config.credsStore !== "" ? config.credsStore : undefined;
}

function authsOf(config: ConfigDoc): Record<string, unknown> {
  const a = config.auths;
  return typeof a === "object" && a !== null && !Array.isArray(a) ? (a as Record<string, unknown>) : {};
}

/** config.json's own entry for `server` (its key, or any key naming the same host, as docker's file store reads it). */
export function fileCredentials(config: ConfigDoc, server: string): AuthConfig | undefined {
  const auths = authsOf(config);
  const host = hostnameOf(server);
  const key = Object.hasOwn(auths, server)
    ? server
    : server === INDEX_SERVER
      ? ["index.docker.io", "docker.io"].find((k) => Object.hasOwn(auths, k))
      : Object.keys(auths).find((k) => hostnameOf(k) === host);
  if (key === undefined) return undefined;
  const entry = auths[key] as { auth?: unknown; identitytoken?: unknown } | null;
  if (typeof entry !== "object" || entry === null) return undefined;
  const out: AuthConfig = { serveraddress: key };
  if (typeof entry.auth === "string" && entry.auth !== "") {
    const plain = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = plain.indexOf(":");
    if (colon < 0) return undefined;
    out.username = plain.slice(0, colon);
    out.password = plain.slice(colon + 1);
  }
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") out.identitytoken = entry.identitytoken;
  return out.username === undefined && out.identitytoken === undefined ? undefined : out;
}

/** The credentials kept for `server` (a helper's, else config.json's), undefined when none. */
export async function getCredentials(config: ConfigDoc, server: string, env: Env): Promise<AuthConfig | undefined> {
  const helper = helperFor(config, server);
  if (!helper) return fileCredentials(config, server);
  const c = await helperGet(helper, server, env);
  if (!c) return undefined;
  return c.Username === "<token>"
    ? { serveraddress: server, identitytoken: c.Secret }
    : { serveraddress: server, username: c.Username, password: c.Secret };
}

/** docker's EncodeAuthConfig: base64url (with padding) of the JSON, "e30=" ({}) for none. */
export function encodeAuth(auth: AuthConfig | undefined): string {
  const doc: Record<string, string> = {};
  if (auth) {
    if (auth.username) doc.username = auth.username;
    if (auth.password) doc.password = auth.password;
    doc.serveraddress = auth.serveraddress;
    if (auth.identitytoken) doc.identitytoken = auth.identitytoken;
  }
  return Buffer.from(JSON.stringify(doc)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** The X-Registry-Auth value for a registry host ("docker.io", "localhost:5000"), undefined when nothing is kept. */
export async function registryAuthHeader(
  config: ConfigDoc,
  registry: string,
  env: Env = process.env,
): Promise<string | undefined> {
  const auth = await getCredentials(config, serverKey(registry), env);
  return auth ? encodeAuth(auth) : undefined;
}

/**
 * Keeps `auth` for its server: through the helper (config.json gets an empty entry, as docker
 * writes it), else in config.json's auths. `changed`: what was kept before differed (docker's
 * cue for its warning about unencrypted credentials).
 */
export async function storeCredentials(
  configDir: string,
  config: ConfigDoc,
  auth: AuthConfig,
  env: Env,
): Promise<{ inFile: boolean; changed: boolean }> {
  const server = auth.serveraddress;
  const helper = helperFor(config, server);
  if (helper) {
    await helperStore(
      helper,
      {
        ServerURL: server,
        Username: auth.identitytoken ? "<token>" : (auth.username ?? ""),
        Secret: auth.identitytoken || (auth.password ?? ""),
      },
      env,
    );
    updateConfig(configDir, (doc) => {
      const auths = authsOf(doc);
      auths[server] = {};
      doc.auths = auths;
    });
    return { inFile: false, changed: true };
  }
  const before = fileCredentials(config, server);
  updateConfig(configDir, (doc) => {
    const auths = authsOf(doc);
    const entry: Record<string, string> = {};
    if (auth.username !== undefined && !auth.identitytoken)
      entry.auth = Buffer.from(`${auth.username}:${auth.password ?? ""}`).toString("base64");
    if (auth.identitytoken) entry.identitytoken = auth.identitytoken;
    auths[server] = entry;
    doc.auths = auths;
  });
  const changed =
    before?.username !== auth.username ||
    before?.password !== auth.password ||
    before?.identitytoken !== auth.identitytoken;
  return { inFile: true, changed };
}

/**
 * Forgets the credentials kept under each of `keys`: the helper's and config.json's entries.
 * `failed`: the helper's failures for the keys config.json listed (docker warns when every erase
 * failed; a key nothing was kept under is no failure).
 */
export async function eraseCredentials(
  configDir: string,
  config: ConfigDoc,
  keys: readonly string[],
  env: Env,
): Promise<{ failed: Map<string, Error>; present: number }> {
  const failed = new Map<string, Error>();
  const present = keys.filter((k) => Object.hasOwn(authsOf(config), k));
  for (const key of keys) {
    const helper = helperFor(config, key);
    if (!helper) continue;
    try {
      await helperErase(helper, key, env);
    } catch (err) {
      if (present.includes(key)) failed.set(key, err as Error);
    }
  }
  if (present.length > 0) {
    updateConfig(configDir, (doc) => {
      const auths = authsOf(doc);
      for (const k of keys) delete auths[k];
      doc.auths = auths;
    });
  }
  return { failed, present: present.length };
}
