// berthd's configuration: dockerd's flags and the same keys in /etc/berth/daemon.json, resolved
// into one typed DaemonConfig by pure functions (no file or process is touched here; the shell
// reads the file, config-file.ts). As dockerd: a key given both as a flag and in the file is
// refused naming both values, an unknown key is refused naming it, a value of the wrong type is
// refused naming its key. Beyond dockerd: tcp:// is refused without mutual TLS (dockerd only
// warns), and every path and name is bounded.
import { posix } from "node:path";
import { InvalidArgumentError } from "../../common/errors.ts";
import type { FlagSpecs, Parsed } from "../../common/flags.ts";
import { isLogLevel, type LogLevel } from "../../common/log.ts";

export const DEFAULTS = {
  host: "unix:///run/berth/berth.sock",
  dataRoot: "/var/lib/berth",
  /** Sockets and runtime state: berthd's own under /run/berth, beside berth-containerd's default. */
  execRoot: "/run/berth/engine",
  pidfile: "/run/berth/berthd.pid",
  configFile: "/etc/berth/daemon.json",
  containerdNamespace: "berth",
  defaultRuntime: "berth-runc",
  /** The socket's group when it exists (dockerd's is "docker"); else root's. */
  group: "berth",
} as const;

export const FLAGS = {
  host: { kind: "strings", aliases: ["H"], usage: `daemon socket(s) to listen on (default ${DEFAULTS.host})` },
  "data-root": { kind: "string", usage: `root directory of persistent state (default ${DEFAULTS.dataRoot})` },
  "exec-root": { kind: "string", usage: `root directory of execution state (default ${DEFAULTS.execRoot})` },
  pidfile: { kind: "string", aliases: ["p"], usage: `path of the daemon's pid file (default ${DEFAULTS.pidfile})` },
  containerd: {
    kind: "string",
    usage: "containerd socket to use (default: start and supervise berth-containerd under exec-root)",
  },
  "containerd-namespace": {
    kind: "string",
    usage: `containerd namespace of the engine's images and containers (default ${DEFAULTS.containerdNamespace})`,
  },
  "default-runtime": { kind: "string", usage: `runtime containers use (default ${DEFAULTS.defaultRuntime})` },
  "add-runtime": { kind: "strings", usage: "NAME=PATH: another OCI runtime (repeatable)" },
  "live-restore": { kind: "bool", usage: "keep containers running while the daemon is down (default true)" },
  "log-level": { kind: "string", aliases: ["l"], usage: "log level: trace, debug, info, warn, error (default info)" },
  debug: { kind: "bool", aliases: ["D"], usage: "debug logging (log level debug)" },
  group: {
    kind: "string",
    aliases: ["G"],
    usage: `group of the unix socket (default ${DEFAULTS.group} when it exists, else root)`,
  },
  tls: { kind: "bool", usage: "use TLS (implied by --tlsverify)" },
  tlsverify: { kind: "bool", usage: "use TLS and verify clients' certificates (required for tcp://)" },
  tlscacert: { kind: "string", usage: "CA certificate clients' certificates must be signed by" },
  tlscert: { kind: "string", usage: "the server's TLS certificate" },
  tlskey: { kind: "string", usage: "the server's TLS key" },
  "config-file": { kind: "string", usage: `daemon configuration file (default ${DEFAULTS.configFile})` },
  validate: { kind: "bool", usage: "check the flags and the configuration file, then exit" },
  version: { kind: "bool", aliases: ["v"], usage: "print the version and exit" },
  help: { kind: "bool", aliases: ["h"], usage: "show help" },
} as const satisfies FlagSpecs;

type ValueType = "string" | "strings" | "bool" | "runtimes";

/** daemon.json's keys (dockerd's names), their types and the flag each stands for. */
const FILE_KEYS: Record<string, { flag: keyof typeof FLAGS; type: ValueType }> = {
  hosts: { flag: "host", type: "strings" },
  "data-root": { flag: "data-root", type: "string" },
  "exec-root": { flag: "exec-root", type: "string" },
  pidfile: { flag: "pidfile", type: "string" },
  containerd: { flag: "containerd", type: "string" },
  "containerd-namespace": { flag: "containerd-namespace", type: "string" },
  "default-runtime": { flag: "default-runtime", type: "string" },
  runtimes: { flag: "add-runtime", type: "runtimes" },
  "live-restore": { flag: "live-restore", type: "bool" },
  "log-level": { flag: "log-level", type: "string" },
  debug: { flag: "debug", type: "bool" },
  group: { flag: "group", type: "string" },
  tls: { flag: "tls", type: "bool" },
  tlsverify: { flag: "tlsverify", type: "bool" },
  tlscacert: { flag: "tlscacert", type: "string" },
  tlscert: { flag: "tlscert", type: "string" },
  tlskey: { flag: "tlskey", type: "string" },
};

/**
 * Keys merged rather than refused when given both ways (dockerd merges runtimes too); a
 * runtime name defined in both places is still refused.
 */
const MERGED_KEYS = new Set(["runtimes"]);

export type ListenAddress = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export interface RuntimeConfig {
  path: string;
  runtimeArgs?: string[];
}

export interface DaemonConfig {
  hosts: ListenAddress[];
  dataRoot: string;
  execRoot: string;
  pidfile: string;
  /** An existing containerd socket; undefined: berthd starts its own berth-containerd. */
  containerd: string | undefined;
  containerdNamespace: string;
  runtimes: Record<string, RuntimeConfig>;
  defaultRuntime: string;
  liveRestore: boolean;
  logLevel: LogLevel;
  /** The socket's group as configured; undefined means DEFAULTS.group when it exists, else root. */
  group: string | undefined;
  tls: { ca: string; cert: string; key: string } | undefined;
}

/** Limits on what a flag or daemon.json may say. */
export const CONFIG_LIMITS = {
  /** PATH_MAX less the NUL. */
  pathBytes: 4095,
  /** sun_path holds 108 bytes with the NUL. */
  socketPathBytes: 107,
  hosts: 16,
  runtimes: 64,
  runtimeArgs: 64,
  argBytes: 4096,
} as const;

/** The runtimes berthd knows without configuration; their names cannot be redefined. */
export type BuiltinRuntimes = Readonly<Record<string, RuntimeConfig>>;

/**
 * The configuration from parsed flags and daemon.json's parsed document (undefined: no file).
 * Every error is an InvalidArgumentError whose message says what to change.
 */
export function resolveConfig(flags: Parsed, file: unknown, builtins: BuiltinRuntimes): DaemonConfig {
  if (flags.positionals.length > 0) {
    throw new InvalidArgumentError(`berthd takes no arguments, got ${JSON.stringify(flags.positionals[0])}`);
  }
  const fromFile = checkFile(file);
  const conflicts: string[] = [];
  for (const [key, value] of fromFile) {
    const { flag } = FILE_KEYS[key]!;
    if (MERGED_KEYS.has(key) || !flags.values.has(flag)) continue;
    conflicts.push(`${key}: (from flag: ${goValue(flags.values.get(flag))}, from file: ${goValue(value)})`);
  }
  if (conflicts.length > 0) {
    throw new InvalidArgumentError(
      `the following directives are specified both as a flag and in the configuration file: ${conflicts.join(", ")}`,
    );
  }
  const pick = <T>(key: string, flag: keyof typeof FLAGS): T | undefined =>
    (flags.values.get(flag) ?? fromFile.get(key)) as T | undefined;

  const tlsverify = pick<boolean>("tlsverify", "tlsverify") ?? false;
  const tlsFiles = {
    ca: optionalPath(pick("tlscacert", "tlscacert"), "tlscacert"),
    cert: optionalPath(pick("tlscert", "tlscert"), "tlscert"),
    key: optionalPath(pick("tlskey", "tlskey"), "tlskey"),
  };
  const tls =
    tlsverify && tlsFiles.ca && tlsFiles.cert && tlsFiles.key
      ? { ca: tlsFiles.ca, cert: tlsFiles.cert, key: tlsFiles.key }
      : undefined;
  const hosts = (pick<string[]>("hosts", "host") ?? [DEFAULTS.host]).map((h) => parseHost(h, tls !== undefined));
  if (hosts.length === 0) throw new InvalidArgumentError("hosts: at least one address to listen on is needed");
  if (hosts.length > CONFIG_LIMITS.hosts) {
    throw new InvalidArgumentError(`hosts: more than ${CONFIG_LIMITS.hosts} addresses`);
  }
  if (tlsverify && !tls) {
    throw new InvalidArgumentError("tlsverify needs tlscacert, tlscert and tlskey");
  }

  const runtimes = resolveRuntimes(strsOf(flags.values.get("add-runtime")), fromFile.get("runtimes"), builtins);
  const defaultRuntime = pick<string>("default-runtime", "default-runtime") ?? DEFAULTS.defaultRuntime;
  if (!Object.hasOwn(runtimes, defaultRuntime)) {
    throw new InvalidArgumentError(
      `default-runtime: unknown runtime ${JSON.stringify(defaultRuntime)} (known: ${Object.keys(runtimes).sort().join(", ")})`,
    );
  }

  const debug = pick<boolean>("debug", "debug") ?? false;
  const level = pick<string>("log-level", "log-level") ?? (debug ? "debug" : "info");
  if (!isLogLevel(level)) {
    throw new InvalidArgumentError(
      `log-level: unknown level ${JSON.stringify(level)} (trace, debug, info, warn, error)`,
    );
  }

  const containerd = pick<string>("containerd", "containerd");
  const namespace = pick<string>("containerd-namespace", "containerd-namespace") ?? DEFAULTS.containerdNamespace;
  checkNamespace(namespace);
  const group = pick<string>("group", "group");
  if (group !== undefined) checkGroup(group);

  return {
    hosts,
    dataRoot: absolutePath(pick("data-root", "data-root") ?? DEFAULTS.dataRoot, "data-root"),
    execRoot: absolutePath(pick("exec-root", "exec-root") ?? DEFAULTS.execRoot, "exec-root"),
    pidfile: absolutePath(pick("pidfile", "pidfile") ?? DEFAULTS.pidfile, "pidfile"),
    containerd: containerd === undefined ? undefined : absolutePath(containerd.replace(/^unix:\/\//, ""), "containerd"),
    containerdNamespace: namespace,
    runtimes,
    defaultRuntime,
    liveRestore: pick<boolean>("live-restore", "live-restore") ?? true,
    logLevel: level,
    group,
    tls,
  };
}

/** daemon.json's document checked key by key: only known keys, each of its type. */
function checkFile(file: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (file === undefined) return out;
  if (typeof file !== "object" || file === null || Array.isArray(file)) {
    throw new InvalidArgumentError("the configuration must be a JSON object");
  }
  const unknown = Object.keys(file).filter((k) => !Object.hasOwn(FILE_KEYS, k));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `the following directives don't match any configuration option: ${unknown
        .map((k) => k.slice(0, 128))
        .sort()
        .join(", ")}`,
    );
  }
  for (const [key, value] of Object.entries(file)) {
    const { type } = FILE_KEYS[key]!;
    const ok =
      type === "string"
        ? typeof value === "string"
        : type === "bool"
          ? typeof value === "boolean"
          : type === "strings"
            ? Array.isArray(value) && value.every((v) => typeof v === "string")
            : typeof value === "object" && value !== null && !Array.isArray(value);
    if (!ok) {
      const want = { string: "a string", bool: "true or false", strings: "a list of strings", runtimes: "an object" }[
        type
      ];
      throw new InvalidArgumentError(`${key}: must be ${want}, got ${jsonType(value)}`);
    }
    out.set(key, value);
  }
  return out;
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v).slice(0, 64)}`;
}

/** A value the way dockerd prints it in its conflict message (Go's %v). */
function goValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goValue).join(" ")}]`;
  if (typeof v === "object" && v !== null) return JSON.stringify(v);
  return String(v);
}

function strsOf(v: unknown): string[] {
  return Array.isArray(v) ? v : [];
}

/** -H: unix:///path (unix:// alone is the default socket), or tcp://host:port with mutual TLS. */
export function parseHost(raw: string, mutualTls: boolean): ListenAddress {
  if (raw === "unix://") return { kind: "unix", path: new URL(DEFAULTS.host).pathname };
  if (raw.startsWith("unix://")) {
    const path = absolutePath(raw.slice("unix://".length), "host");
    if (Buffer.byteLength(path) > CONFIG_LIMITS.socketPathBytes) {
      throw new InvalidArgumentError(
        `host ${raw}: a unix socket path is at most ${CONFIG_LIMITS.socketPathBytes} bytes`,
      );
    }
    return { kind: "unix", path };
  }
  if (raw.startsWith("tcp://")) {
    const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253}):(\d{1,5})$/.exec(raw);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw new InvalidArgumentError(`host ${JSON.stringify(raw.slice(0, 300))}: expected tcp://HOST:PORT`);
    }
    if (!mutualTls) {
      throw new InvalidArgumentError(
        `host ${raw}: listening on TCP needs mutual TLS (--tlsverify with --tlscacert, --tlscert and --tlskey): anyone who reaches the port would have root on this machine`,
      );
    }
    return { kind: "tcp", host: m[1]!.replace(/^\[|\]$/g, ""), port };
  }
  if (raw.startsWith("fd://"))
    throw new InvalidArgumentError(`host ${raw}: fd:// (socket activation) is not supported`);
  throw new InvalidArgumentError(`host ${JSON.stringify(raw.slice(0, 300))}: expected unix:///PATH or tcp://HOST:PORT`);
}

/** An absolute path, normalized (`..` resolved, no trailing slash), without NUL, within PATH_MAX. */
export function absolutePath(raw: string, what: string): string {
  if (raw.includes("\0")) throw new InvalidArgumentError(`${what}: the path holds a NUL byte`);
  if (!raw.startsWith("/"))
    throw new InvalidArgumentError(`${what}: ${JSON.stringify(raw.slice(0, 300))} is not an absolute path`);
  if (Buffer.byteLength(raw) > CONFIG_LIMITS.pathBytes) {
    throw new InvalidArgumentError(`${what}: the path is longer than ${CONFIG_LIMITS.pathBytes} bytes`);
  }
  const clean = posix.normalize(raw);
  return clean.length > 1 ? clean.replace(/\/+$/, "") : clean;
}

function optionalPath(raw: string | undefined, what: string): string | undefined {
  return raw === undefined ? undefined : absolutePath(raw, what);
}

/** A runtime's name: what `docker run --runtime NAME` says. */
const RUNTIME_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function runtimePath(raw: string, name: string): string {
  // A bare command name is looked up on PATH when the runtime runs (dockerd allows "runc").
  if (!raw.includes("/") && raw !== "" && !raw.includes("\0") && raw.length <= 255 && raw !== "." && raw !== "..") {
    return raw;
  }
  return absolutePath(raw, `runtime ${name}: path`);
}

function resolveRuntimes(
  flagged: string[],
  fromFile: unknown,
  builtins: BuiltinRuntimes,
): Record<string, RuntimeConfig> {
  const out: Record<string, RuntimeConfig> = { ...builtins };
  const define = (name: string, rt: RuntimeConfig, where: string) => {
    if (!RUNTIME_NAME.test(name)) {
      throw new InvalidArgumentError(`${where}: invalid runtime name ${JSON.stringify(name.slice(0, 100))}`);
    }
    if (Object.hasOwn(builtins, name)) throw new InvalidArgumentError(`${where}: runtime name '${name}' is reserved`);
    if (Object.hasOwn(out, name)) throw new InvalidArgumentError(`${where}: runtime '${name}' is defined twice`);
    out[name] = rt;
    if (Object.keys(out).length > CONFIG_LIMITS.runtimes + Object.keys(builtins).length) {
      throw new InvalidArgumentError(`${where}: more than ${CONFIG_LIMITS.runtimes} runtimes`);
    }
  };
  for (const spec of flagged) {
    const eq = spec.indexOf("=");
    if (eq <= 0)
      throw new InvalidArgumentError(`add-runtime ${JSON.stringify(spec.slice(0, 300))}: expected NAME=PATH`);
    const name = spec.slice(0, eq);
    define(name, { path: runtimePath(spec.slice(eq + 1), name) }, "add-runtime");
  }
  for (const [name, value] of Object.entries((fromFile ?? {}) as Record<string, unknown>)) {
    const where = `runtimes.${name.slice(0, 100)}`;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InvalidArgumentError(`${where}: must be an object with "path"`);
    }
    const extra = Object.keys(value).filter((k) => k !== "path" && k !== "runtimeArgs");
    if (extra.length > 0) throw new InvalidArgumentError(`${where}: unknown key ${JSON.stringify(extra[0])}`);
    const { path, runtimeArgs } = value as { path?: unknown; runtimeArgs?: unknown };
    if (typeof path !== "string") throw new InvalidArgumentError(`${where}.path: must be a string`);
    let args: string[] | undefined;
    if (runtimeArgs !== undefined) {
      if (!Array.isArray(runtimeArgs) || !runtimeArgs.every((a) => typeof a === "string")) {
        throw new InvalidArgumentError(`${where}.runtimeArgs: must be a list of strings`);
      }
      if (runtimeArgs.length > CONFIG_LIMITS.runtimeArgs) {
        throw new InvalidArgumentError(`${where}.runtimeArgs: more than ${CONFIG_LIMITS.runtimeArgs} arguments`);
      }
      if (runtimeArgs.some((a) => a.includes("\0") || Buffer.byteLength(a) > CONFIG_LIMITS.argBytes)) {
        throw new InvalidArgumentError(`${where}.runtimeArgs: an argument holds NUL or is too long`);
      }
      args = runtimeArgs;
    }
    define(
      name,
      args ? { path: runtimePath(path, name), runtimeArgs: args } : { path: runtimePath(path, name) },
      where,
    );
  }
  return out;
}

/** containerd's namespace rule: labels of letters and digits joined by '.', '_' or '-'. */
function checkNamespace(ns: string): void {
  if (ns.length > 76 || !/^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/.test(ns)) {
    throw new InvalidArgumentError(`containerd-namespace: invalid namespace ${JSON.stringify(ns.slice(0, 100))}`);
  }
}

/** A group name (useradd's rule) or a numeric gid. */
function checkGroup(group: string): void {
  if (!/^(?:[a-z_][a-z0-9_-]{0,31}|\d{1,10})$/.test(group) || (/^\d+$/.test(group) && Number(group) > 0xfffffffe)) {
    throw new InvalidArgumentError(`group: invalid group ${JSON.stringify(group.slice(0, 100))}`);
  }
}
