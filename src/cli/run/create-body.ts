// The Engine API create body (POST /containers/create) for `berth run`/`berth create` flags, field
// for field what the docker CLI 28 sends for the same command line (test/integration/cli/
// run-flags.test.ts compares the two through a recording daemon), and docker's refusals, made
// before anything is sent: a UsageError, exit 125.
import { CliError, UsageError } from "../errors.ts";
import { goQuote } from "../flags/go-quote.ts";
import type { FlagValue, Parsed } from "../flags/parse.ts";
import { extraHost, ipAddress, isMacAddress, parseGoUint64, parseUlimit, type Ulimit } from "./checks.ts";
import { bpsDevice, iopsDevice, namespaceProblem, weightDevice } from "./devices.ts";
import { parseGpuRequest } from "./gpus.ts";
import { readKvFiles, readSettingsFile } from "./kv-files.ts";
import { type MountSpec, parseMount, splitVolumes } from "./mounts.ts";
import { parseExpose, parsePortSpec } from "./ports.ts";
import { parseBytes, parseDuration, parseNanoCpus } from "./units.ts";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The body as docker sends it: container.Config with HostConfig and NetworkingConfig. */
export type ContainerCreateBody = { [key: string]: Json } & {
  Image: string;
  HostConfig: { [key: string]: Json };
  NetworkingConfig: { EndpointsConfig: { [network: string]: Json } };
};

export interface CreateRequest {
  /** ?name= */
  name?: string;
  /** ?platform= */
  platform?: string;
  body: ContainerCreateBody;
}

/** What the body reads from outside the command line; tests pass their own. */
export interface CreateContext {
  command: "run" | "create";
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** A whole file (env files, label files, a seccomp profile); throws as fs does. */
  readFile(path: string): string;
  /** [height, width] of the terminal for -t, as docker sends it; [0, 0] otherwise. */
  consoleSize?: [number, number];
  /** Where the daemon is ("unix:///run/berth/berth.sock"): --use-api-socket mounts that socket. */
  host?: string;
}

export function processContext(command: "run" | "create"): CreateContext {
  return {
    command,
    env: process.env,
    cwd: process.cwd(),
    readFile: readSettingsFile,
  };
}

const RESTART_POLICIES = new Set(["", "no", "always", "on-failure", "unless-stopped"]);
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * EndpointsConfig as docker 28 sends it: no --network, the default network's empty endpoint; one
 * network with nothing of its own, none (the daemon makes it); several, an empty endpoint each.
 */
function endpoints(networks: readonly string[], own: Record<string, Json> | undefined): { [network: string]: Json } {
  if (networks.length === 0) return { default: { ...(emptyEndpoint() as object), ...own } };
  if (networks.length === 1)
    return own === undefined ? {} : { [networks[0]!]: { ...(emptyEndpoint() as object), ...own } };
  return Object.fromEntries(
    networks.map((n, i) => [
      n,
      i === 0 && own !== undefined ? { ...(emptyEndpoint() as object), ...own } : emptyEndpoint(),
    ]),
  );
}

/** --ip, --ip6, --link-local-ip, --network-alias: the first network's endpoint, as docker 28 fills it. */
function endpointOptions(f: FlagReader): Record<string, Json> | undefined {
  const ipam: Record<string, Json> = {};
  const ip = f.str("ip") ?? "";
  const ip6 = f.str("ip6") ?? "";
  if (ip !== "") ipam.IPv4Address = ip;
  if (ip6 !== "") ipam.IPv6Address = ip6;
  if (f.list("link-local-ip").length > 0) ipam.LinkLocalIPs = f.list("link-local-ip");
  const aliases = f.list("network-alias");
  // --mac-address is the first network's endpoint's (Config.MacAddress is not sent since API 1.44).
  const mac = f.str("mac-address") ?? "";
  if (Object.keys(ipam).length === 0 && aliases.length === 0 && mac === "") return undefined;
  const own: Record<string, Json> = {};
  if (Object.keys(ipam).length > 0) own.IPAMConfig = ipam;
  if (aliases.length > 0) own.Aliases = aliases;
  if (mac !== "") own.MacAddress = mac;
  return own;
}

/** An endpoint with nothing set. */
function emptyEndpoint(): Json {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: "",
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: "",
    EndpointID: "",
    Gateway: "",
    IPAddress: "",
    IPPrefixLen: 0,
    IPv6Gateway: "",
    GlobalIPv6Address: "",
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

/**
 * --use-api-socket's bind of the daemon's own socket at /var/run/docker.sock, as docker 28 makes
 * it; only a unix socket can be bound (docker's words otherwise, exit 1).
 */
function apiSocketMount(host: string): MountSpec {
  if (!host.startsWith("unix://")) {
    throw new CliError(
      `flag --use-api-socket can only be used with unix sockets: docker endpoint ${host} incompatible`,
    );
  }
  return { Type: "bind", Source: host.slice("unix://".length), Target: "/var/run/docker.sock", BindOptions: {} };
}

export function createBodyFromFlags(parsed: Parsed, ctx: CreateContext = processContext("run")): CreateRequest {
  const fail = (problem: string): UsageError => new UsageError(`berth: ${problem}\nSee 'berth ${ctx.command} --help'.`);
  const f = flagReader(parsed.flags);
  const [image, ...cmd] = parsed.args;
  if (image === undefined) {
    throw new UsageError(
      `berth: 'berth ${ctx.command}' requires at least 1 argument\nSee 'berth ${ctx.command} --help'.`,
      1,
    );
  }

  // Attach: -a names streams; without it stdout and stderr; -i adds stdin.
  const attach = f.list("attach").map((s) => s.toLowerCase());
  for (const s of attach) {
    if (s !== "stdin" && s !== "stdout" && s !== "stderr") throw fail("valid streams are STDIN, STDOUT and STDERR");
  }
  let attachStdin = attach.includes("stdin") || f.bool("interactive");
  let attachStdout = attach.length === 0 || attach.includes("stdout");
  let attachStderr = attach.length === 0 || attach.includes("stderr");
  let stdinOnce = f.bool("interactive");
  if (f.bool("detach")) {
    if (attach.length > 0) throw fail("conflicting options: cannot specify both --attach and --detach");
    attachStdin = attachStdout = attachStderr = stdinOnce = false;
  }

  // Ports: -p gives bindings and exposed ports, --expose exposed ports only.
  const exposed: Record<string, Json> = {};
  const bindings: Record<string, Json[]> = {};
  for (const spec of f.list("publish")) {
    const r = parsePortSpec(spec);
    if ("problem" in r) throw fail(r.problem);
    for (const m of r) {
      exposed[m.port] = {};
      const list = bindings[m.port] ?? [];
      list.push({ HostIp: m.hostIp, HostPort: m.hostPort });
      bindings[m.port] = list;
    }
  }
  for (const spec of f.list("expose")) {
    const r = parseExpose(spec);
    if ("problem" in r) throw fail(r.problem);
    for (const p of r) exposed[p] = {};
  }

  const kvFiles = (files: string[], lookupEnv: boolean): string[] => {
    const r = readKvFiles(files, ctx.readFile, lookupEnv ? (k) => ctx.env[k] : undefined);
    if ("problem" in r) throw fail(r.problem);
    return r;
  };
  const env = [...kvFiles(f.list("env-file"), true), ...f.list("env").map((e) => envValue(e, ctx))];
  const labels: Record<string, string> = {};
  for (const l of [...kvFiles(f.list("label-file"), false), ...f.list("label")]) {
    const eq = l.indexOf("=");
    labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
  }

  const volumes = splitVolumes(f.list("volume"), ctx.cwd);
  if ("problem" in volumes) throw fail(volumes.problem);
  for (const b of volumes.binds) {
    const source = b.slice(0, b.indexOf(":"));
    if (!source.startsWith("/") && !VOLUME_NAME.test(source)) {
      throw fail(
        `create ${source}: "${source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    }
  }
  const mounts: MountSpec[] = f.list("mount").map((m) => {
    const r = parseMount(m);
    if ("problem" in r) throw fail(r.problem);
    return r.value;
  });
  if (f.bool("use-api-socket")) mounts.push(apiSocketMount(ctx.host ?? ""));

  const restart = restartPolicy(f.str("restart") ?? "no", fail);
  if (f.bool("rm") && restart.Name !== "no" && restart.Name !== "") {
    throw fail("conflicting options: cannot specify both --restart and --rm");
  }

  const pull = f.str("pull") ?? "missing";
  if (!["always", "missing", "never"].includes(pull)) {
    throw fail(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }

  const healthcheck = healthConfig(f, fail);
  // --net and --network fill one list in command-line order; the first is the network mode.
  const networks = f.list("network");
  const seen = new Set<string>();
  for (const n of networks) {
    if (seen.has(n)) throw fail(`network ${goQuote(n)} is specified multiple times`);
    seen.add(n);
  }
  const mac = f.str("mac-address") ?? "";
  if (mac !== "" && !isMacAddress(mac)) throw fail(`${mac} is not a valid mac address`);
  const endpointOwn = endpointOptions(f);
  if (
    f.list("network-alias").length > 0 &&
    (networks.length === 0 || ["default", "bridge", "host", "none"].includes(networks[0]!))
  ) {
    throw fail("network-scoped aliases are only supported for user-defined networks");
  }
  for (const ns of ["pid", "uts", "userns", "cgroupns"] as const) {
    const problem = namespaceProblem(ns, f.str(ns) ?? "");
    if (problem !== undefined) throw fail(problem);
  }
  const swappiness = f.int("memory-swappiness") ?? -1;
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw fail(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }
  const storageOpt: Record<string, string> = {};
  for (const o of f.list("storage-opt")) {
    const eq = o.indexOf("=");
    if (eq < 0) throw fail("invalid storage option");
    storageOpt[o.slice(0, eq)] = o.slice(eq + 1);
  }
  const logOpts = kvMap(f.list("log-opt"));
  if (f.str("log-driver") === "none" && Object.keys(logOpts).length > 0)
    throw fail("invalid logging opts for driver none");

  const entrypoint = f.str("entrypoint");
  const ulimits: Ulimit[] = [];
  for (const u of f.list("ulimit")) {
    const r = parseUlimit(u);
    if ("problem" in r) throw fail(r.problem);
    const at = ulimits.findIndex((x) => x.Name === r.value.Name);
    if (at >= 0) ulimits[at] = r.value;
    else ulimits.push(r.value);
  }
  ulimits.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));

  const tmpfs: Record<string, string> = {};
  for (const t of f.list("tmpfs")) {
    const colon = t.indexOf(":");
    tmpfs[colon < 0 ? t : t.slice(0, colon)] = colon < 0 ? "" : t.slice(colon + 1);
  }

  // Object.fromEntries keeps any key as the map's own, "__proto__" too (docker sends what it is given).
  const annotations: Record<string, string> = Object.fromEntries(
    f.list("annotation").map((kv) => {
      const eq = kv.indexOf("=");
      return eq < 0 ? [kv, ""] : [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
  );
  const hostConfig: Record<string, Json | undefined> = {
    Binds: orNull(volumes.binds),
    ContainerIDFile: f.str("cidfile") ?? "",
    LogConfig: { Type: f.str("log-driver") ?? "", Config: logOpts },
    NetworkMode: networks[0] ?? "default",
    PortBindings: bindings,
    RestartPolicy: restart,
    AutoRemove: f.bool("rm"),
    VolumeDriver: f.str("volume-driver") ?? "",
    VolumesFrom: orNull(f.list("volumes-from")),
    ConsoleSize: ctx.consoleSize ?? [0, 0],
    CapAdd: orNull(normalizeCaps(f.list("cap-add"))),
    CapDrop: orNull(normalizeCaps(f.list("cap-drop"))),
    CgroupnsMode: f.str("cgroupns") ?? "",
    Dns: f.list("dns").map((d) => ipAddress(d) ?? d),
    DnsOptions: f.list("dns-option"),
    DnsSearch: f.list("dns-search"),
    ExtraHosts: orNull(f.list("add-host").map(hostLine)),
    GroupAdd: orNull(f.list("group-add")),
    IpcMode: f.str("ipc") ?? "",
    Cgroup: "",
    Links: orNull(f.list("link")),
    OomScoreAdj: f.int("oom-score-adj") ?? 0,
    PidMode: f.str("pid") ?? "",
    Privileged: f.bool("privileged"),
    PublishAllPorts: f.bool("publish-all"),
    ReadonlyRootfs: f.bool("read-only"),
    SecurityOpt: orNull(securityOpts(f.list("security-opt"), ctx, fail)),
    Tmpfs: Object.keys(tmpfs).length > 0 ? tmpfs : undefined,
    UTSMode: f.str("uts") ?? "",
    UsernsMode: f.str("userns") ?? "",
    ShmSize: bytesOf(f.str("shm-size")),
    Sysctls: Object.keys(kvMap(f.list("sysctl"))).length > 0 ? kvMap(f.list("sysctl")) : undefined,
    Runtime: f.str("runtime") || undefined,
    StorageOpt: Object.keys(storageOpt).length > 0 ? storageOpt : undefined,
    Isolation: f.str("isolation") ?? "",
    CpuShares: f.int("cpu-shares") ?? 0,
    Memory: bytesOf(f.str("memory")),
    NanoCpus: nanoCpusOf(f.str("cpus")),
    CgroupParent: f.str("cgroup-parent") ?? "",
    BlkioWeight: Number(f.str("blkio-weight") ?? 0),
    BlkioWeightDevice: f.list("blkio-weight-device").map((v) => checkedValue(weightDevice(v))),
    BlkioDeviceReadBps: f.list("device-read-bps").map((v) => checkedValue(bpsDevice(v))),
    BlkioDeviceWriteBps: f.list("device-write-bps").map((v) => checkedValue(bpsDevice(v))),
    BlkioDeviceReadIOps: f.list("device-read-iops").map((v) => checkedValue(iopsDevice(v))),
    BlkioDeviceWriteIOps: f.list("device-write-iops").map((v) => checkedValue(iopsDevice(v))),
    CpuPeriod: f.int("cpu-period") ?? 0,
    CpuQuota: f.int("cpu-quota") ?? 0,
    CpuRealtimePeriod: f.int("cpu-rt-period") ?? 0,
    CpuRealtimeRuntime: f.int("cpu-rt-runtime") ?? 0,
    CpusetCpus: f.str("cpuset-cpus") ?? "",
    CpusetMems: f.str("cpuset-mems") ?? "",
    Devices: f.list("device").map((d) => deviceMapping(d, fail)),
    DeviceCgroupRules: orNull(f.list("device-cgroup-rule")),
    DeviceRequests: orNull(f.list("gpus").map((g) => checkedValue(parseGpuRequest(g)))),
    MemoryReservation: bytesOf(f.str("memory-reservation")),
    MemorySwap: f.str("memory-swap") === "-1" ? -1 : bytesOf(f.str("memory-swap")),
    KernelMemory: parsed.set.has("kernel-memory") ? bytesOf(f.str("kernel-memory")) : undefined,
    MemorySwappiness: swappiness,
    OomKillDisable: f.bool("oom-kill-disable"),
    PidsLimit: f.int("pids-limit") ?? 0,
    Ulimits: ulimits as unknown as Json[],
    CpuCount: f.int("cpu-count") ?? 0,
    CpuPercent: f.int("cpu-percent") ?? 0,
    IOMaximumIOps: Number(parseGoUint64(f.str("io-maxiops") ?? "0")),
    IOMaximumBandwidth: bytesOf(f.str("io-maxbandwidth")),
    Annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
    Mounts: mounts.length > 0 ? (mounts as unknown as Json[]) : undefined,
    MaskedPaths: null,
    ReadonlyPaths: null,
    Init: parsed.set.has("init") ? f.bool("init") : undefined,
  };

  const body: Record<string, Json | undefined> = {
    Hostname: f.str("hostname") ?? "",
    Domainname: f.str("domainname") ?? "",
    User: f.str("user") ?? "",
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(exposed).length > 0 ? exposed : undefined,
    Tty: f.bool("tty"),
    OpenStdin: f.bool("interactive"),
    StdinOnce: stdinOnce,
    Env: orNull(env),
    Cmd: orNull(cmd),
    Healthcheck: healthcheck,
    Image: image,
    Volumes: Object.fromEntries(volumes.anonymous.map((v) => [v, {}])),
    WorkingDir: f.str("workdir") ?? "",
    Entrypoint: entrypoint === undefined ? null : [entrypoint],
    OnBuild: null,
    Labels: labels,
    StopSignal: f.str("stop-signal") || undefined,
    StopTimeout: parsed.set.has("stop-timeout") ? (f.int("stop-timeout") ?? 0) : undefined,
    HostConfig: dropUndefined(hostConfig),
    NetworkingConfig: { EndpointsConfig: endpoints(networks, endpointOwn) },
  };
  const out: CreateRequest = { body: dropUndefined(body) as ContainerCreateBody };
  const name = f.str("name");
  if (name !== undefined && name !== "") out.name = name;
  const platform = f.str("platform");
  if (platform !== undefined && platform !== "") out.platform = platform;
  return out;
}

interface FlagReader {
  str(name: string): string | undefined;
  bool(name: string): boolean;
  int(name: string): number | undefined;
  list(name: string): string[];
}

function flagReader(flags: ReadonlyMap<string, FlagValue>): FlagReader {
  return {
    str: (n) => {
      const v = flags.get(n);
      return typeof v === "string" ? v : undefined;
    },
    bool: (n) => flags.get(n) === true,
    int: (n) => {
      const v = flags.get(n);
      return typeof v === "number" ? v : undefined;
    },
    list: (n) => {
      const v = flags.get(n);
      return Array.isArray(v) ? v : [];
    },
  };
}

function orNull<T extends Json>(list: T[]): T[] | null {
  return list.length === 0 ? null : list;
}

function dropUndefined(o: Record<string, Json | undefined>): { [key: string]: Json } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [key: string]: Json };
}

/** A value checked as its flag was read. */
function checkedValue<T>(r: { value: T } | { problem: string }): Json {
  return "value" in r ? (r.value as Json) : null;
}

/** Values were checked as the flags were read; an absent flag is 0. */
function bytesOf(v: string | undefined): number {
  if (v === undefined) return 0;
  const r = parseBytes(v);
  return "value" in r ? r.value : 0;
}

function nanoCpusOf(v: string | undefined): number {
  if (v === undefined) return 0;
  const r = parseNanoCpus(v);
  return "value" in r ? r.value : 0;
}

function durationOf(v: string | undefined): number {
  if (v === undefined) return 0;
  const r = parseDuration(v);
  return "value" in r ? r.value : 0;
}

/** -e KEY=value as given; a bare KEY takes the value it has in berth's environment, if any. */
function envValue(e: string, ctx: CreateContext): string {
  if (e.includes("=")) return e;
  const v = ctx.env[e];
  return v === undefined ? e : `${e}=${v}`;
}

/** --add-host as docker sends it: "name:ip" (checked as the flag was read). */
function hostLine(h: string): string {
  const r = extraHost(h);
  return "value" in r ? r.value : h;
}

function kvMap(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf("=");
    out[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? "" : kv.slice(eq + 1);
  }
  return out;
}

/** docker's ParseRestartPolicy: name[:count] split, the count an integer (run, create, update). */
export function parseRestartPolicy(
  v: string,
): { value: { Name: string; MaximumRetryCount: number } } | { problem: string } {
  const colon = v.indexOf(":");
  const name = colon < 0 ? v : v.slice(0, colon);
  const countText = colon < 0 ? "" : v.slice(colon + 1);
  if (colon >= 0 && name === "") return { problem: "invalid restart policy format: no policy provided before colon" };
  let count = 0;
  if (countText !== "") {
    if (!/^[+-]?\d+$/.test(countText) || !Number.isSafeInteger(Number(countText))) {
      return { problem: "invalid restart policy format: maximum retry count must be an integer" };
    }
    count = Number(countText);
  }
  return { value: { Name: name, MaximumRetryCount: count } };
}

/** --restart name[:count], refused here in dockerd's words where dockerd would refuse it. */
function restartPolicy(v: string, fail: (p: string) => UsageError): { Name: string; MaximumRetryCount: number } {
  const parsed = parseRestartPolicy(v);
  if ("problem" in parsed) throw fail(parsed.problem);
  const { Name: name, MaximumRetryCount: count } = parsed.value;
  if (!RESTART_POLICIES.has(name)) throw fail(`invalid restart policy '${name}'`);
  if (count !== 0 && name !== "on-failure")
    throw fail(`maximum retry count cannot be used with restart policy '${name}'`);
  if (count < 0) throw fail("maximum retry count cannot be negative");
  return { Name: name, MaximumRetryCount: count };
}

function healthConfig(f: FlagReader, fail: (p: string) => UsageError): Json | undefined {
  const cmd = f.str("health-cmd") ?? "";
  const interval = durationOf(f.str("health-interval"));
  const timeout = durationOf(f.str("health-timeout"));
  const startPeriod = durationOf(f.str("health-start-period"));
  const startInterval = durationOf(f.str("health-start-interval"));
  const retries = f.int("health-retries") ?? 0;
  const any =
    cmd !== "" || interval !== 0 || timeout !== 0 || startPeriod !== 0 || startInterval !== 0 || retries !== 0;
  if (f.bool("no-healthcheck")) {
    if (any) throw fail("--no-healthcheck conflicts with --health-* options");
    return { Test: ["NONE"] };
  }
  if (!any) return undefined;
  if (interval < 0) throw fail("--health-interval cannot be negative");
  if (timeout < 0) throw fail("--health-timeout cannot be negative");
  if (retries < 0) throw fail("--health-retries cannot be negative");
  if (startPeriod < 0) throw fail("--health-start-period cannot be negative");
  if (startInterval < 0) throw fail("--health-start-interval cannot be negative");
  const h: Record<string, Json> = {};
  if (cmd !== "") h.Test = ["CMD-SHELL", cmd];
  if (interval !== 0) h.Interval = interval;
  if (timeout !== 0) h.Timeout = timeout;
  if (startPeriod !== 0) h.StartPeriod = startPeriod;
  if (startInterval !== 0) h.StartInterval = startInterval;
  if (retries !== 0) h.Retries = retries;
  return h;
}

/** CAP_ prefixed, upper case, sorted, each once; ALL stays ALL. */
function normalizeCaps(caps: readonly string[]): string[] {
  const out = new Set<string>();
  for (const c of caps) {
    const up = c.trim().toUpperCase();
    out.add(up === "ALL" || up.startsWith("CAP_") ? up : `CAP_${up}`);
  }
  return [...out].sort();
}

function securityOpts(opts: readonly string[], ctx: CreateContext, fail: (p: string) => UsageError): string[] {
  return opts.map((opt) => {
    let cut = opt.indexOf("=");
    if (cut < 0 && opt !== "no-new-privileges") cut = opt.indexOf(":");
    const k = cut < 0 ? opt : opt.slice(0, cut);
    const v = cut < 0 ? "" : opt.slice(cut + 1);
    if (v === "" && k !== "no-new-privileges") throw fail(`Invalid --security-opt: ${goQuote(opt)}`);
    if (k !== "seccomp" || v === "builtin" || v === "unconfined") return opt;
    // A seccomp profile file: docker sends its JSON content, compacted.
    let text: string;
    try {
      text = ctx.readFile(v);
    } catch (err) {
      throw fail(`opening seccomp profile (${v}) failed: ${(err as Error).message}`);
    }
    try {
      return `seccomp=${JSON.stringify(JSON.parse(text))}`;
    } catch (err) {
      throw fail(`compacting json for seccomp profile (${v}) failed: ${(err as Error).message}`);
    }
  });
}

const DEVICE_MODE = /^(?!.*(.).*\1)[rwm]{1,3}$/;

/** --device host[:container][:rwm]. */
function deviceMapping(d: string, fail: (p: string) => UsageError): Json {
  const parts = d.split(":");
  if (parts.length > 3 || parts[0] === "") throw fail(`bad format for path: ${d}`);
  let permissions = "rwm";
  let dst = "";
  if (parts.length === 3) {
    if (!DEVICE_MODE.test(parts[2]!)) throw fail(`bad mode specified: ${parts[2]}`);
    permissions = parts[2]!;
    dst = parts[1]!;
  } else if (parts.length === 2) {
    if (DEVICE_MODE.test(parts[1]!)) permissions = parts[1]!;
    else dst = parts[1]!;
  }
  const src = parts[0]!;
  const containerPath = dst === "" ? src : dst;
  if (!containerPath.startsWith("/")) throw fail(`${containerPath} is not an absolute path`);
  return { PathOnHost: src, PathInContainer: containerPath, CgroupPermissions: permissions };
}
