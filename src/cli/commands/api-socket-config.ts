// --use-api-socket's second half, as docker 28 does it: the registry credentials the client keeps
// (config.json's auths, and the registries with a credential helper), written for the container as
// a config.json of its own at /run/secrets/docker/config.json (DOCKER_CONFIG points there), copied
// in as a one-file archive once the container exists. Nothing is copied when no credentials are kept.
import { END_OF_ARCHIVE, encodeHeader, paddingFor } from "../../common/archive/tar-format.ts";
import type { ConfigDoc } from "../context/config-file.ts";
import { getCredentials } from "../context/credentials.ts";

export const CONTAINER_CONFIG_DIR = "/run/secrets/docker";

type Env = Readonly<Record<string, string | undefined>>;

const keysOf = (v: unknown): string[] =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? Object.keys(v) : [];

/** The container's config.json (docker's layout: tab-indented, registries in order), or undefined when there is nothing to pass. */
export async function containerConfigJson(config: ConfigDoc, env: Env): Promise<Buffer | undefined> {
  const fileKeys = keysOf(config.auths);
  const servers = [...new Set([...fileKeys, ...keysOf(config.credHelpers)])].sort();
  const auths: Record<string, { auth?: string; identitytoken?: string }> = {};
  for (const server of servers) {
    const c = await getCredentials(config, server, env);
    const entry: { auth?: string; identitytoken?: string } = {};
    if (c?.username || c?.password)
      entry.auth = Buffer.from(`${c.username ?? ""}:${c.password ?? ""}`).toString("base64");
    if (c?.identitytoken) entry.identitytoken = c.identitytoken;
    // config.json's own entries are passed even when empty, as docker's file store lists them.
    if (c !== undefined || fileKeys.includes(server)) auths[server] = entry;
  }
  if (Object.keys(auths).length === 0) return undefined;
  return Buffer.from(JSON.stringify({ auths }, null, "\t"));
}

/** The archive PUT at "/": the one file, mode 0600, owned by root. */
export function configArchive(json: Buffer): Buffer {
  const header = encodeHeader({
    name: `${CONTAINER_CONFIG_DIR}/config.json`,
    type: "file",
    mode: 0o600,
    uid: 0,
    gid: 0,
    size: json.length,
    mtime: 0,
    linkname: "",
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
  });
  return Buffer.concat([header, json, Buffer.alloc(paddingFor(json.length)), END_OF_ARCHIVE]);
}
