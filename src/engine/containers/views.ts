// What inspect and list answer, in the Engine API's shapes, from a record; and the list's
// filters. Pure: the caller passes the time.
import { InvalidArgumentError } from "../../common/errors.ts";
import { type Filters, labelHolds } from "../api/query.ts";
import { healthText } from "./health.ts";
import type { ContainerRecord, ContainerStatus } from "./record.ts";
import { MASKED_PATHS, READONLY_PATHS } from "./spec/build.ts";

/** The filters `GET /containers/json` takes (the rest of dockerd's come with their slices). */
export const LIST_FILTERS = [
  "status",
  "name",
  "label",
  "id",
  "exited",
  "ancestor",
  "before",
  "since",
  "health",
] as const;

/** The health filter's values: a health status, or none for a container without a check. */
const HEALTH_VALUES = ["starting", "healthy", "unhealthy", "none"];

const STATUS_VALUES: readonly ContainerStatus[] = [
  "created",
  "restarting",
  "running",
  "removing",
  "paused",
  "exited",
  "dead",
];

/** docker's units.HumanDuration: "Less than a second", "5 seconds", "About a minute", ... */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return "Less than a second";
  if (s === 1) return "1 second";
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return "About a minute";
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return "About an hour";
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(h / 24 / 365)} years`;
}

/** The list's Status column: "Up 5 seconds", "Exited (3) 2 minutes ago", "Created". */
export function statusText(r: ContainerRecord, now: number): string {
  const s = r.State;
  if (s.Running) {
    if (s.Restarting) return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    const up = `Up ${humanDuration(now - Date.parse(s.StartedAt))}`;
    if (s.Paused) return `${up} (Paused)`;
    return s.Health ? `${up} (${healthText(s.Health)})` : up;
  }
  if (s.Status === "removing") return "Removal In Progress";
  if (s.Status === "dead") return "Dead";
  if (s.Status === "created") return "Created";
  return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
}

/** The image as the client named it, short form ("busybox" for docker.io/library/busybox:latest). */
export function familiarImage(name: string): string {
  return name.replace(/^docker\.io\/library\//, "").replace(/^docker\.io\//, "");
}

/** The list's Command as dockerd writes it: Path, then each argument, one with a space in quotes. */
function command(r: ContainerRecord): string {
  if (r.Args.length === 0) return r.Path;
  return `${r.Path} ${r.Args.map((a) => (a.includes(" ") ? `'${a}'` : a)).join(" ")}`;
}

/** Go's nil slice: an empty list is written as null, as dockerd writes what was never set. */
const nullIfEmpty = <T>(list: readonly T[]): readonly T[] | null => (list.length > 0 ? list : null);

/** One entry of `GET /containers/json`. */
export function listEntry(r: ContainerRecord, now: number): Record<string, unknown> {
  return {
    Id: r.ID,
    Names: [r.Name],
    Image: r.Config.Image,
    ImageID: r.Image,
    Command: command(r),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: [],
    Labels: r.Config.Labels,
    State: r.State.Status,
    Status: statusText(r, now),
    HostConfig: { NetworkMode: r.HostConfig.NetworkMode || "default" },
    NetworkSettings: { Networks: {} },
    Mounts: [],
  };
}

/** `GET /containers/{id}/json`. */
export function inspectBody(r: ContainerRecord): Record<string, unknown> {
  const s = r.State;
  return {
    Id: r.ID,
    Created: r.Created,
    Path: r.Path,
    Args: r.Args,
    State: {
      Status: s.Status,
      Running: s.Running,
      Paused: s.Paused,
      Restarting: s.Restarting,
      OOMKilled: s.OOMKilled,
      Dead: s.Dead,
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...(s.Health ? { Health: s.Health } : {}),
    },
    Image: r.Image,
    ResolvConfPath: r.ResolvConfPath,
    HostnamePath: r.HostnamePath,
    HostsPath: r.HostsPath,
    LogPath: r.LogPath,
    Name: r.Name,
    RestartCount: r.RestartCount,
    Driver: "overlayfs",
    Platform: "linux",
    MountLabel: "",
    ProcessLabel: "",
    AppArmorProfile: "",
    ExecIDs: null,
    HostConfig: {
      ...r.HostConfig,
      Binds: nullIfEmpty(r.HostConfig.Binds),
      CapAdd: nullIfEmpty(r.HostConfig.CapAdd),
      CapDrop: nullIfEmpty(r.HostConfig.CapDrop),
      ExtraHosts: nullIfEmpty(r.HostConfig.ExtraHosts),
      GroupAdd: nullIfEmpty(r.HostConfig.GroupAdd),
      SecurityOpt: nullIfEmpty(r.HostConfig.SecurityOpt),
      Runtime: r.Runtime,
      // dockerd answers "no limit" (0 or -1) and "the kernel's default" (-1) as null.
      PidsLimit: r.HostConfig.PidsLimit !== undefined && r.HostConfig.PidsLimit > 0 ? r.HostConfig.PidsLimit : null,
      OomKillDisable: r.HostConfig.OomKillDisable ?? null,
      Init: r.HostConfig.Init ?? null,
      MemorySwappiness:
        r.HostConfig.MemorySwappiness !== undefined && r.HostConfig.MemorySwappiness >= 0
          ? r.HostConfig.MemorySwappiness
          : null,
      BlkioWeightDevice: [],
      BlkioDeviceReadBps: [],
      BlkioDeviceWriteBps: [],
      BlkioDeviceReadIOps: [],
      BlkioDeviceWriteIOps: [],
      MaskedPaths: r.HostConfig.Privileged ? null : [...MASKED_PATHS],
      ReadonlyPaths: r.HostConfig.Privileged ? null : [...READONLY_PATHS],
      ContainerIDFile: "",
      PortBindings: {},
      VolumeDriver: "",
      VolumesFrom: null,
      ConsoleSize: [0, 0],
      Isolation: "",
    },
    GraphDriver: { Data: null, Name: "overlayfs" },
    Mounts: [],
    Config: {
      ...r.Config,
      Cmd: r.Config.Cmd ?? null,
      Entrypoint: r.Config.Entrypoint ?? null,
      Volumes: Object.keys(r.Config.Volumes).length > 0 ? r.Config.Volumes : null,
      StopTimeout: r.Config.StopTimeout,
      OnBuild: null,
    },
    NetworkSettings: {
      Bridge: "",
      SandboxID: "",
      SandboxKey: "",
      Ports: {},
      HairpinMode: false,
      LinkLocalIPv6Address: "",
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: "",
      Gateway: "",
      GlobalIPv6Address: "",
      GlobalIPv6PrefixLen: 0,
      IPAddress: "",
      IPPrefixLen: 0,
      IPv6Gateway: "",
      MacAddress: "",
      Networks: {},
    },
  };
}

/** A list filter checked once: values dockerd refuses are refused here in its words. */
export function checkListFilters(f: Filters): void {
  for (const v of f.get("status") ?? []) {
    if (!STATUS_VALUES.includes(v as ContainerStatus)) throw new InvalidArgumentError(`invalid filter 'status=${v}'`);
  }
  for (const v of f.get("exited") ?? []) {
    if (!/^-?\d{1,10}$/.test(v)) throw new InvalidArgumentError(`invalid filter 'exited=${v}'`);
  }
  for (const v of f.get("health") ?? []) {
    if (!HEALTH_VALUES.includes(v)) throw new InvalidArgumentError(`Unrecognised filter value for health: ${v}`);
  }
}

/** Whether `r` passes every filter: values of one key are alternatives, keys must all match. */
export function matchesFilters(
  r: ContainerRecord,
  f: Filters,
  nameMatches: (pattern: string, name: string) => boolean,
): boolean {
  const any = (key: string, test: (v: string) => boolean) => {
    const vs = f.get(key);
    return vs === undefined || vs.length === 0 || vs.some(test);
  };
  const labels = r.Config.Labels;
  return (
    any("status", (v) => r.State.Status === v) &&
    any("id", (v) => r.ID.startsWith(v)) &&
    any("name", (v) => nameMatches(v, r.Name.slice(1)) || nameMatches(v, r.Name)) &&
    any("exited", (v) => !r.State.Running && r.State.Status === "exited" && r.State.ExitCode === Number(v)) &&
    any("health", (v) => (r.State.Health?.Status ?? "none") === v) &&
    any(
      "ancestor",
      (v) => familiarImage(r.ImageName) === v || r.ImageName === v || r.Config.Image === v || r.Image === v,
    ) &&
    // label: every value must hold (dockerd's MatchKVList), not any.
    (f.get("label") ?? []).every((kv) => labelHolds(labels, kv))
  );
}
