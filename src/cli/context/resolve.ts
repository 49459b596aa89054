// Where the daemon is, found the way the docker CLI finds it: -H/--host, else --context, else
// BERTH_HOST or DOCKER_HOST, else DOCKER_CONTEXT, else the config file's "currentContext", else
// berthd's own socket. A named context is read from <config>/contexts/meta/<sha256 of name>/meta.json;
// the config dir is --config, else DOCKER_CONFIG, else ~/.docker. Only reads files; connects to nothing.
import { statSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { CliError } from "../errors.ts";
import { readSmall } from "./read-small.ts";

/** berthd's socket: what berth talks to when nothing names another daemon. */
export const DEFAULT_HOST = "unix:///run/berth/berth.sock";
/** config.json and a context's meta.json are small; anything larger is refused. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface ContextInput {
  /** -H/--host (the last one given). */
  host?: string;
  /** --context/-c. */
  context?: string;
  /** --config. */
  config?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The home directory (~/.docker lives there). */
  home: string;
}

export interface Resolved {
  /** The daemon's address, unix:///... or tcp://... */
  host: string;
  /** The context's name ("default" when none is named). */
  context: string;
  configDir: string;
  /** The config file's contents, when it parsed ({} when absent). */
  config: Record<string, unknown>;
  /** A non-fatal problem docker also prints as "WARNING: ..." (a config file that does not parse). */
  warnings: string[];
}

/** The config dir: --config, DOCKER_CONFIG, ~/.docker. */
export function configDirOf(input: Pick<ContextInput, "config" | "env" | "home">): string {
  return input.config || input.env.DOCKER_CONFIG || join(input.home, ".docker");
}

export function resolveContext(input: ContextInput): Resolved {
  const configDir = configDirOf(input);
  const warnings: string[] = [];
  const config = readConfig(configDir, warnings);
  const env = input.env;
  if (input.host && input.context) {
    throw new CliError("conflicting options: cannot specify both --host and --context");
  }
  const base = { configDir, config, warnings };
  if (input.host) return { ...base, host: normalizeHost(input.host), context: "default" };
  const envHost = env.BERTH_HOST || env.DOCKER_HOST;
  let name = input.context;
  if (!name && envHost) return { ...base, host: normalizeHost(envHost), context: "default" };
  name ||= env.DOCKER_CONTEXT || (typeof config.currentContext === "string" ? config.currentContext : "") || "default";
  // The default context is DOCKER_HOST's daemon when it is set (docker's getServerHost).
  if (name === "default") return { ...base, host: envHost ? normalizeHost(envHost) : DEFAULT_HOST, context: "default" };
  return { ...base, host: contextHost(configDir, name), context: name };
}

/** docker's host forms: unix:///p, tcp://h:p, or a bare "h[:p]" (tcp). */
export function normalizeHost(host: string): string {
  const h = host.trim();
  if (h === "") return DEFAULT_HOST;
  if (/^[a-z0-9+]+:\/\//.test(h)) return h;
  return `tcp://${h}`;
}

/** The directory name docker gives a context: the SHA-256 of its name, in hex. (@noble/hashes,
 * as the shim does: node:crypto's OpenSSL start-up would cost every berth command.) */
export function contextDirName(name: string): string {
  return bytesToHex(sha256(utf8ToBytes(name)));
}

function contextHost(configDir: string, name: string): string {
  const dir = contextDirName(name);
  const metaPath = join(configDir, "contexts", "meta", dir, "meta.json");
  let meta: unknown;
  try {
    meta = JSON.parse(readSmall(metaPath, MAX_CONFIG_BYTES));
  } catch (err) {
    const why =
      (err as { code?: string }).code === "ENOENT"
        ? `open ${metaPath}: no such file or directory`
        : (err as Error).message;
    throw new CliError(
      `Failed to initialize: unable to resolve docker endpoint: context "${name}": context not found: ${why}`,
    );
  }
  const docker = (meta as { Endpoints?: { docker?: { Host?: unknown } } })?.Endpoints?.docker;
  if (typeof docker?.Host !== "string" || docker.Host === "") {
    throw new CliError(`context "${name}": its meta.json names no docker endpoint (${metaPath})`);
  }
  if (hasTls(join(configDir, "contexts", "tls", dir, "docker"))) {
    throw new CliError(
      `context "${name}" uses TLS, which berth does not support yet: use a unix:// or plain tcp:// host`,
    );
  }
  return normalizeHost(docker.Host);
}

function hasTls(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function readConfig(configDir: string, warnings: string[]): Record<string, unknown> {
  const path = join(configDir, "config.json");
  let text: string;
  try {
    text = readSmall(path, MAX_CONFIG_BYTES);
  } catch (err) {
    if ((err as { code?: string }).code !== "ENOENT")
      warnings.push(`WARNING: Error loading config file: ${path}: ${(err as Error).message}`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    warnings.push(`WARNING: Error loading config file: ${path}: not a JSON object`);
  } catch (err) {
    warnings.push(`WARNING: Error loading config file: ${path}: ${(err as Error).message}`);
  }
  return {};
}
