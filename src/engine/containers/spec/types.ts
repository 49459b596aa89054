// What `docker create` sends (the container Config and its HostConfig) and what an image's config
// holds, as typed values. decode.ts turns the API body into these; past that edge they are
// trusted. Field names are the Engine API's JSON names; only the fields berthd acts on are kept.

/** One entry of HostConfig.Ulimits. */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** One entry of HostConfig.Devices. */
export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export type Propagation = "private" | "rprivate" | "shared" | "rshared" | "slave" | "rslave";

/** One entry of HostConfig.Mounts (types bind, tmpfs and volume are understood). */
export interface MountSpec {
  Type: "bind" | "tmpfs" | "volume";
  Source: string;
  Target: string;
  ReadOnly: boolean;
  BindOptions?: { Propagation?: Propagation; NonRecursive?: boolean };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

export interface RestartPolicy {
  Name: "" | "no" | "always" | "on-failure" | "unless-stopped";
  MaximumRetryCount: number;
}

/** Config.Healthcheck (and an image's): durations in nanoseconds; zero fields left out. */
export interface HealthConfig {
  /** [] or absent: the image's; ["NONE"]: none; ["CMD", ...argv]; ["CMD-SHELL", "command"]. */
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

export interface HostConfig {
  Binds: string[];
  Mounts: MountSpec[];
  Tmpfs: Record<string, string>;
  RestartPolicy: RestartPolicy;
  AutoRemove: boolean;
  LogConfig: LogConfig;
  NetworkMode: string;
  IpcMode: string;
  PidMode: string;
  UTSMode: string;
  CgroupnsMode: string;
  Runtime: string;

  Memory: number;
  MemorySwap: number;
  MemoryReservation: number;
  MemorySwappiness?: number;
  NanoCpus: number;
  CpuShares: number;
  CpuQuota: number;
  CpuPeriod: number;
  CpusetCpus: string;
  CpusetMems: string;
  /** Absent, 0 or -1: unlimited. */
  PidsLimit?: number;
  Ulimits: Ulimit[];
  OomKillDisable?: boolean;
  OomScoreAdj: number;

  CapAdd: string[];
  CapDrop: string[];
  Privileged: boolean;
  ReadonlyRootfs: boolean;
  SecurityOpt: string[];
  Init?: boolean;
  ShmSize: number;
  Sysctls: Record<string, string>;
  Devices: DeviceMapping[];
  GroupAdd: string[];

  Dns: string[];
  DnsOptions: string[];
  DnsSearch: string[];
  ExtraHosts: string[];
}

export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Env: string[];
  /** Absent (null) is not the same as empty: an empty Cmd clears the image's. */
  Cmd?: string[];
  Entrypoint?: string[];
  Image: string;
  Labels: Record<string, string>;
  WorkingDir: string;
  StopSignal: string;
  StopTimeout?: number;
  ExposedPorts: Record<string, Record<string, never>>;
  Volumes: Record<string, Record<string, never>>;
  NetworkDisabled: boolean;
  Healthcheck?: HealthConfig;
}

/** The part of an OCI image config (`config` of application/vnd.oci.image.config.v1+json) used here. */
export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  WorkingDir?: string;
  StopSignal?: string;
  ExposedPorts?: Record<string, unknown>;
  Volumes?: Record<string, unknown>;
  Labels?: Record<string, string>;
  Healthcheck?: HealthConfig;
}

/** The body of POST /containers/create: the Config with its HostConfig inside. */
export interface CreateRequest {
  config: ContainerConfig;
  hostConfig: HostConfig;
}
