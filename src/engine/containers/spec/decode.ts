// The edge: the parsed body of POST /containers/create (unknown JSON) decoded once into typed
// ContainerConfig and HostConfig values, every string and list bounded. Only the shape is checked
// here (types, sizes, enumerations); what the values mean is validate.ts's.
import { InvalidArgumentError } from "../../../common/errors.ts";
import {
  type Bounds,
  bool,
  fields,
  INT64,
  int,
  type JsonObject,
  keySet,
  list,
  optionalBool,
  optionalInt,
  str,
  stringMap,
  strSlice,
  typeError,
} from "./go-json.ts";
import { decodeHealthConfig } from "./healthcheck.ts";
import type {
  ContainerConfig,
  CreateRequest,
  DeviceMapping,
  HostConfig,
  LogConfig,
  MountSpec,
  Propagation,
  RestartPolicy,
  Ulimit,
} from "./types.ts";

/** Bounds of what one create request may hold; each is far past what a real client sends. */
export const LIMITS = {
  /** One argument or environment entry: the kernel's MAX_ARG_STRLEN. */
  argBytes: 131_072,
  /** Names, paths, modes, options: PATH_MAX with room for options. */
  shortBytes: 8_192,
  /** Args + env together stay under berth-runc's plan limit of 65,000 entries. */
  args: 30_000,
  env: 30_000,
  mounts: 1_000,
  /** Labels and other maps. */
  mapEntries: 10_000,
  /** Capability lists, SecurityOpt, Ulimits, Dns*: a few dozen at most are meaningful. */
  smallList: 256,
  /** GroupAdd: the kernel's NGROUPS_MAX. */
  groups: 65_536,
  devices: 4_096,
  /** A seccomp profile sent inline in SecurityOpt (docker's default is ~20 KiB). */
  seccompProfileBytes: 1_048_576,
} as const;

const SHORT: Bounds = { maxBytes: LIMITS.shortBytes };
const ARG: Bounds = { maxBytes: LIMITS.argBytes };
const PROFILE: Bounds = { maxBytes: LIMITS.seccompProfileBytes + 32 };

const CONFIG = "ContainerConfigWrapper";
const HOST = "HostConfig.HostConfig";

const PROPAGATIONS: readonly Propagation[] = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];
const RESTART_NAMES: readonly RestartPolicy["Name"][] = ["", "no", "always", "on-failure", "unless-stopped"];

function strings(value: unknown, field: string, max: number, b: Bounds = SHORT): string[] {
  return list(value, field, "[]string", max, (v, f) => str(v, f, b));
}

/**
 * How Go's decoder names a field of a nested struct: the struct's type name, then the path from
 * the top ("Ulimit.HostConfig.Ulimits.Name"); `field` is how the parent named the struct itself.
 */
function child(field: string, struct: string, name: string): string {
  return `${struct}.${field.slice(field.indexOf(".") + 1)}.${name}`;
}

function decodeMount(raw: unknown, field: string): MountSpec {
  const f = fields(raw, field, "mount.Mount");
  const at = (name: string) => child(field, "Mount", name);
  const typeRaw = f.get("type");
  if (typeRaw !== null && typeRaw !== undefined && typeof typeRaw !== "string")
    typeError(typeRaw, at("Type"), "mount.Type");
  const type = str(typeRaw, at("Type"), SHORT);
  if (type !== "bind" && type !== "tmpfs" && type !== "volume") {
    throw new InvalidArgumentError(`invalid mount config for type ${JSON.stringify(type)}: mount type unknown`);
  }
  const m: MountSpec = {
    Type: type,
    Source: str(f.get("source"), at("Source"), SHORT),
    Target: str(f.get("target"), at("Target"), SHORT),
    ReadOnly: bool(f.get("readonly"), at("ReadOnly")),
  };
  const bindRaw = f.get("bindoptions");
  if (bindRaw !== null && bindRaw !== undefined) {
    const b = fields(bindRaw, at("BindOptions"), "mount.BindOptions");
    const bat = (name: string) => child(at("BindOptions"), "BindOptions", name);
    const prop = str(b.get("propagation"), bat("Propagation"), SHORT);
    if (prop !== "" && !PROPAGATIONS.includes(prop as Propagation)) {
      throw new InvalidArgumentError(`invalid mount config for type "${type}": invalid propagation mode: ${prop}`);
    }
    m.BindOptions = { NonRecursive: bool(b.get("nonrecursive"), bat("NonRecursive")) };
    if (prop !== "") m.BindOptions.Propagation = prop as Propagation;
  }
  const tmpfsRaw = f.get("tmpfsoptions");
  if (tmpfsRaw !== null && tmpfsRaw !== undefined) {
    const t = fields(tmpfsRaw, at("TmpfsOptions"), "mount.TmpfsOptions");
    const tat = (name: string) => child(at("TmpfsOptions"), "TmpfsOptions", name);
    m.TmpfsOptions = {
      SizeBytes: int(t.get("sizebytes"), tat("SizeBytes"), "int64", INT64),
      Mode: int(t.get("mode"), tat("Mode"), "fs.FileMode", [0, 0o7777]),
    };
  }
  return m;
}

function decodeUlimit(raw: unknown, field: string): Ulimit {
  const f = fields(raw, field, "units.Ulimit");
  const at = (name: string) => child(field, "Ulimit", name);
  return {
    Name: str(f.get("name"), at("Name"), SHORT),
    Soft: int(f.get("soft"), at("Soft"), "int64", INT64),
    Hard: int(f.get("hard"), at("Hard"), "int64", INT64),
  };
}

function decodeDevice(raw: unknown, field: string): DeviceMapping {
  const f = fields(raw, field, "container.DeviceMapping");
  const at = (name: string) => child(field, "DeviceMapping", name);
  return {
    PathOnHost: str(f.get("pathonhost"), at("PathOnHost"), SHORT),
    PathInContainer: str(f.get("pathincontainer"), at("PathInContainer"), SHORT),
    CgroupPermissions: str(f.get("cgrouppermissions"), at("CgroupPermissions"), SHORT),
  };
}

function decodeRestartPolicy(raw: unknown, field: string): RestartPolicy {
  const f = fields(raw, field, "container.RestartPolicy");
  const at = (name: string) => child(field, "RestartPolicy", name);
  const name = str(f.get("name"), at("Name"), SHORT);
  if (!RESTART_NAMES.includes(name as RestartPolicy["Name"])) {
    throw new InvalidArgumentError(`invalid restart policy '${name}'`);
  }
  return {
    Name: name as RestartPolicy["Name"],
    MaximumRetryCount: int(f.get("maximumretrycount"), at("MaximumRetryCount"), "int", INT64),
  };
}

function decodeLogConfig(raw: unknown, field: string): LogConfig {
  const f = fields(raw, field, "container.LogConfig");
  const at = (name: string) => child(field, "LogConfig", name);
  return {
    Type: str(f.get("type"), at("Type"), SHORT),
    Config: stringMap(f.get("config"), at("Config"), LIMITS.mapEntries, SHORT),
  };
}

/** HostConfig from its JSON; `prefix` names it in type errors as dockerd's decoder would. */
export function decodeHostConfig(raw: unknown, prefix = HOST): HostConfig {
  const f = fields(raw, prefix, "container.HostConfig");
  const p = (name: string) => `${prefix}.${name}`;
  const i64 = (name: string) => int(f.get(name.toLowerCase()), p(name), "int64", INT64);
  // A seccomp profile rides inline in SecurityOpt, so those entries may be long.
  const securityOpt = list(f.get("securityopt"), p("SecurityOpt"), "[]string", LIMITS.smallList, (v, fl) =>
    str(v, fl, PROFILE),
  );
  const pids = f.get("pidslimit");
  return {
    Binds: strings(f.get("binds"), p("Binds"), LIMITS.mounts),
    Mounts: list(f.get("mounts"), p("Mounts"), "[]mount.Mount", LIMITS.mounts, decodeMount),
    Tmpfs: stringMap(f.get("tmpfs"), p("Tmpfs"), LIMITS.mounts, SHORT),
    RestartPolicy: decodeRestartPolicy(f.get("restartpolicy"), p("RestartPolicy")),
    AutoRemove: bool(f.get("autoremove"), p("AutoRemove")),
    LogConfig: decodeLogConfig(f.get("logconfig"), p("LogConfig")),
    NetworkMode: str(f.get("networkmode"), p("NetworkMode"), SHORT),
    IpcMode: str(f.get("ipcmode"), p("IpcMode"), SHORT),
    PidMode: str(f.get("pidmode"), p("PidMode"), SHORT),
    UTSMode: str(f.get("utsmode"), p("UTSMode"), SHORT),
    CgroupnsMode: str(f.get("cgroupnsmode"), p("CgroupnsMode"), SHORT),
    Runtime: str(f.get("runtime"), p("Runtime"), SHORT),
    Memory: i64("Memory"),
    MemorySwap: i64("MemorySwap"),
    MemoryReservation: i64("MemoryReservation"),
    MemorySwappiness: optionalInt(f.get("memoryswappiness"), p("MemorySwappiness"), "int64", INT64),
    NanoCpus: i64("NanoCpus"),
    CpuShares: i64("CpuShares"),
    CpuQuota: i64("CpuQuota"),
    CpuPeriod: i64("CpuPeriod"),
    CpusetCpus: str(f.get("cpusetcpus"), p("CpusetCpus"), SHORT),
    CpusetMems: str(f.get("cpusetmems"), p("CpusetMems"), SHORT),
    PidsLimit: optionalInt(pids, p("PidsLimit"), "int64", INT64),
    Ulimits: list(f.get("ulimits"), p("Ulimits"), "[]*units.Ulimit", LIMITS.smallList, decodeUlimit),
    OomKillDisable: optionalBool(f.get("oomkilldisable"), p("OomKillDisable")),
    OomScoreAdj: int(f.get("oomscoreadj"), p("OomScoreAdj"), "int", INT64),
    CapAdd: strings(f.get("capadd"), p("CapAdd"), LIMITS.smallList),
    CapDrop: strings(f.get("capdrop"), p("CapDrop"), LIMITS.smallList),
    Privileged: bool(f.get("privileged"), p("Privileged")),
    ReadonlyRootfs: bool(f.get("readonlyrootfs"), p("ReadonlyRootfs")),
    SecurityOpt: securityOpt,
    Init: optionalBool(f.get("init"), p("Init")),
    ShmSize: i64("ShmSize"),
    Sysctls: stringMap(f.get("sysctls"), p("Sysctls"), LIMITS.mapEntries, SHORT),
    Devices: list(f.get("devices"), p("Devices"), "[]container.DeviceMapping", LIMITS.devices, decodeDevice),
    GroupAdd: strings(f.get("groupadd"), p("GroupAdd"), LIMITS.groups),
    Dns: strings(f.get("dns"), p("Dns"), LIMITS.smallList),
    DnsOptions: strings(f.get("dnsoptions"), p("DnsOptions"), LIMITS.smallList),
    DnsSearch: strings(f.get("dnssearch"), p("DnsSearch"), LIMITS.smallList),
    ExtraHosts: strings(f.get("extrahosts"), p("ExtraHosts"), LIMITS.mapEntries),
  };
}

/** The Config part of a create body (fields at the top level). */
export function decodeContainerConfig(raw: unknown, prefix = CONFIG): ContainerConfig {
  const f = fields(raw, prefix, "container.Config");
  const p = (name: string) => `${prefix}.${name}`;
  const stopTimeout = f.get("stoptimeout");
  const config: ContainerConfig = {
    Hostname: str(f.get("hostname"), p("Hostname"), SHORT),
    Domainname: str(f.get("domainname"), p("Domainname"), SHORT),
    User: str(f.get("user"), p("User"), SHORT),
    Tty: bool(f.get("tty"), p("Tty")),
    OpenStdin: bool(f.get("openstdin"), p("OpenStdin")),
    StdinOnce: bool(f.get("stdinonce"), p("StdinOnce")),
    AttachStdin: bool(f.get("attachstdin"), p("AttachStdin")),
    AttachStdout: bool(f.get("attachstdout"), p("AttachStdout")),
    AttachStderr: bool(f.get("attachstderr"), p("AttachStderr")),
    Env: strings(f.get("env"), p("Env"), LIMITS.env, ARG),
    Image: str(f.get("image"), p("Image"), SHORT),
    Labels: stringMap(f.get("labels"), p("Labels"), LIMITS.mapEntries, ARG),
    WorkingDir: str(f.get("workingdir"), p("WorkingDir"), SHORT),
    StopSignal: str(f.get("stopsignal"), p("StopSignal"), SHORT),
    ExposedPorts: keySet(f.get("exposedports"), p("ExposedPorts"), LIMITS.mapEntries, SHORT),
    Volumes: keySet(f.get("volumes"), p("Volumes"), LIMITS.mounts, SHORT),
    NetworkDisabled: bool(f.get("networkdisabled"), p("NetworkDisabled")),
  };
  const cmd = strSlice(f.get("cmd"), p("Cmd"), LIMITS.args, ARG);
  if (cmd !== undefined) config.Cmd = cmd;
  const entrypoint = strSlice(f.get("entrypoint"), p("Entrypoint"), LIMITS.args, ARG);
  if (entrypoint !== undefined) config.Entrypoint = entrypoint;
  if (stopTimeout !== null && stopTimeout !== undefined) {
    config.StopTimeout = int(stopTimeout, p("StopTimeout"), "int", INT64);
  }
  const healthcheck = f.get("healthcheck");
  if (healthcheck !== null && healthcheck !== undefined) {
    config.Healthcheck = decodeHealthConfig(healthcheck, p("Healthcheck"));
  }
  return config;
}

/** The whole create body: the Config at the top, HostConfig inside it. */
export function decodeCreateRequest(body: unknown): CreateRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    typeError(body, CONFIG, "container.Config");
  }
  const hostRaw = Object.entries(body as JsonObject).findLast(([k]) => k.toLowerCase() === "hostconfig")?.[1];
  if (hostRaw !== null && hostRaw !== undefined && (typeof hostRaw !== "object" || Array.isArray(hostRaw))) {
    typeError(hostRaw, `${CONFIG}.HostConfig`, "container.HostConfig");
  }
  return { config: decodeContainerConfig(body), hostConfig: decodeHostConfig(hostRaw) };
}
