// GET/HEAD /_ping, GET /version and GET /info: what every client asks first. `docker version`
// and `docker info` print these; docker CLI 28 negotiates its API version from /_ping's
// Api-Version header. The facts come from the daemon (SystemFacts); this file owns the shapes.
import { API_VERSION, MIN_API_VERSION } from "./api-version.ts";
import type { ApiServer, Reply } from "./server.ts";

/** What berthd is (its own build). */
export interface EngineIdentity {
  version: string;
  gitCommit: string;
  /** The build's time, RFC 3339. */
  buildTime: string;
  /** The runtime berthd runs on: said in GoVersion's place, honestly. */
  runtimeVersion: string;
}

/** The machine berthd runs on (daemon/host.ts reads it). */
export interface HostFacts {
  hostname: string;
  kernelVersion: string;
  operatingSystem: string;
  osVersion: string;
  /** uname -m: x86_64, aarch64. */
  architecture: string;
  /** GOARCH-style: amd64, arm64 (/version's Arch). */
  arch: string;
  ncpu: number;
  memTotal: number;
  cgroupVersion: "1" | "2";
  /** The controllers this host gives containers (memory, pids, cpu, cpuset, ...). */
  cgroupControllers: ReadonlySet<string>;
  seccomp: boolean;
  /** The host's forwarding and bridge-netfilter sysctls, read at each /info (docker 20.10 warns when off). */
  netSysctls(): { ipv4Forwarding: boolean; bridgeNfIptables: boolean; bridgeNfIp6tables: boolean };
}

export interface RuntimeEntry {
  path: string;
  runtimeArgs?: string[];
}

/** What the daemon knows that /info reports. */
export interface SystemFacts {
  engine: EngineIdentity;
  host: HostFacts;
  /** The engine's id (a UUID kept under the data root, as dockerd 28 keeps engine-id). */
  id: string;
  dataRoot: string;
  debug: boolean;
  liveRestore: boolean;
  runtimes: Readonly<Record<string, RuntimeEntry>>;
  defaultRuntime: string;
  /** The containerd socket berthd uses and its namespace ("berth"). */
  containerdAddress: string;
  containerdNamespace: string;
  /** berth-containerd's (or containerd's) version, when it answers. */
  containerd(): Promise<{ version: string; revision: string } | undefined>;
  counts(): Promise<{ containers: number; running: number; paused: number; stopped: number; images: number }>;
  /** Open file descriptors of berthd (dockerd's NFd). */
  openFds(): number;
  /** Clients following GET /events (dockerd's NEventsListener). */
  eventListeners?(): number;
}

/** /_ping's headers besides the identity every route gets. */
const PING_HEADERS = {
  "Cache-Control": "no-cache, no-store, must-revalidate",
  Pragma: "no-cache",
  // 1: the classic builder. BuildKit's session protocol is not served (build comes later).
  "Builder-Version": "1",
  // dockerd 23+ says whether it is a swarm node; berthd never is.
  Swarm: "inactive",
  "Content-Type": "text/plain; charset=utf-8",
} as const;

export function addSystemRoutes(api: ApiServer, facts: SystemFacts): void {
  const ping = (): Reply => ({ headers: { ...PING_HEADERS }, text: "OK" });
  api.route("GET", "/_ping", ping);
  api.route("HEAD", "/_ping", ping);
  api.route("GET", "/version", async () => ({ json: await versionBody(facts) }));
  api.route("GET", "/info", async () => ({ json: await infoBody(facts) }));
}

export async function versionBody(facts: SystemFacts): Promise<Record<string, unknown>> {
  const { engine, host } = facts;
  const components: Record<string, unknown>[] = [
    {
      Name: "Engine",
      Version: engine.version,
      Details: {
        ApiVersion: API_VERSION,
        Arch: host.arch,
        BuildTime: engine.buildTime,
        Experimental: "false",
        GitCommit: engine.gitCommit,
        GoVersion: engine.runtimeVersion,
        KernelVersion: host.kernelVersion,
        MinAPIVersion: MIN_API_VERSION,
        Os: "linux",
      },
    },
  ];
  const containerd = await facts.containerd();
  if (containerd) {
    components.push({ Name: "containerd", Version: containerd.version, Details: { GitCommit: containerd.revision } });
  }
  return {
    Platform: { Name: "berth" },
    Components: components,
    Version: engine.version,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: engine.gitCommit,
    GoVersion: engine.runtimeVersion,
    Os: "linux",
    Arch: host.arch,
    KernelVersion: host.kernelVersion,
    BuildTime: engine.buildTime,
  };
}

export async function infoBody(facts: SystemFacts): Promise<Record<string, unknown>> {
  const { host } = facts;
  const counts = await facts.counts();
  const containerd = await facts.containerd();
  const cg = host.cgroupControllers;
  const net = host.netSysctls();
  const securityOptions: string[] = [];
  if (host.seccomp) securityOptions.push("name=seccomp,profile=builtin");
  if (host.cgroupVersion === "2") securityOptions.push("name=cgroupns");
  return {
    ID: facts.id,
    Containers: counts.containers,
    ContainersRunning: counts.running,
    ContainersPaused: counts.paused,
    ContainersStopped: counts.stopped,
    Images: counts.images,
    // berth keeps images in berth-containerd's snapshotter, as dockerd does with the containerd
    // image store, and says so the same way.
    Driver: "overlayfs",
    DriverStatus: [["driver-type", "io.containerd.snapshotter.v1"]],
    Plugins: { Volume: ["local"], Network: ["host", "null"], Authorization: null, Log: ["json-file", "local", "none"] },
    MemoryLimit: cg.has("memory"),
    SwapLimit: cg.has("memory"),
    CpuCfsPeriod: cg.has("cpu"),
    CpuCfsQuota: cg.has("cpu"),
    CPUShares: cg.has("cpu"),
    CPUSet: cg.has("cpuset"),
    PidsLimit: cg.has("pids"),
    IPv4Forwarding: net.ipv4Forwarding,
    BridgeNfIptables: net.bridgeNfIptables,
    BridgeNfIp6tables: net.bridgeNfIp6tables,
    Debug: facts.debug,
    NFd: facts.openFds(),
    OomKillDisable: host.cgroupVersion === "1" && cg.has("memory"),
    // A Go daemon's goroutine count; berthd has none to count.
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: "json-file",
    CgroupDriver: "cgroupfs",
    CgroupVersion: host.cgroupVersion,
    NEventsListener: facts.eventListeners?.() ?? 0,
    KernelVersion: host.kernelVersion,
    OperatingSystem: host.operatingSystem,
    OSVersion: host.osVersion,
    OSType: "linux",
    Architecture: host.architecture,
    IndexServerAddress: "https://index.docker.io/v1/",
    RegistryConfig: {
      InsecureRegistryCIDRs: ["127.0.0.0/8"],
      IndexConfigs: { "docker.io": { Name: "docker.io", Mirrors: [], Secure: true, Official: true } },
      Mirrors: [],
    },
    NCPU: host.ncpu,
    MemTotal: host.memTotal,
    GenericResources: null,
    DockerRootDir: facts.dataRoot,
    HttpProxy: "",
    HttpsProxy: "",
    NoProxy: "",
    Name: host.hostname,
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: facts.engine.version,
    Runtimes: Object.fromEntries(
      Object.entries(facts.runtimes).map(([name, r]) => [
        name,
        r.runtimeArgs?.length ? { path: r.path, runtimeArgs: r.runtimeArgs } : { path: r.path },
      ]),
    ),
    DefaultRuntime: facts.defaultRuntime,
    Swarm: {
      NodeID: "",
      NodeAddr: "",
      LocalNodeState: "inactive",
      ControlAvailable: false,
      Error: "",
      RemoteManagers: null,
    },
    LiveRestoreEnabled: facts.liveRestore,
    Isolation: "",
    InitBinary: "docker-init",
    ContainerdCommit: { ID: containerd?.revision ?? "" },
    RuncCommit: { ID: "" },
    InitCommit: { ID: "" },
    SecurityOptions: securityOptions,
    CDISpecDirs: [],
    Containerd: {
      Address: facts.containerdAddress,
      Namespaces: { Containers: facts.containerdNamespace, Plugins: `plugins.${facts.containerdNamespace}` },
    },
    Warnings: null,
  };
}
