// The namespaces of a container from NetworkMode, IpcMode, PidMode, UTSMode and CgroupnsMode, and
// the sysctls those namespaces allow. A mode that joins another container ("container:<id>")
// needs that container's namespace file: the caller finds the container and passes the path.
import { InvalidArgumentError } from "../../../common/errors.ts";
import { normalizeSysctlKey, sysctlNamespace, sysctlPath } from "../../../runc/config/rules.ts";
import type { Namespace } from "../../../runc/config/types.ts";
import type { HostConfig } from "./types.ts";

export type NetworkKind = "private" | "none" | "host" | "container";
export type IpcKind = "private" | "shareable" | "host" | "none" | "container";

export interface Modes {
  network: NetworkKind;
  ipc: IpcKind;
  pid: "private" | "host" | "container";
  uts: "private" | "host";
  cgroup: "private" | "host";
}

/** Namespace files of other containers, for the modes that join one. */
export interface JoinedNamespaces {
  network?: string;
  ipc?: string;
  pid?: string;
}

function containerRef(mode: string): string | undefined {
  return mode.startsWith("container:") ? mode.slice("container:".length) : undefined;
}

/** The modes a HostConfig asks for, refused as dockerd refuses them when malformed. */
export function parseModes(h: HostConfig, cgroupVersion: 1 | 2): Modes {
  let network: NetworkKind;
  const netRef = containerRef(h.NetworkMode);
  if (netRef !== undefined) {
    if (netRef === "")
      throw new InvalidArgumentError("Invalid network mode: invalid container format container:<name|id>");
    network = "container";
  } else if (h.NetworkMode === "host") network = "host";
  else if (h.NetworkMode === "none") network = "none";
  else network = "private"; // "", default, bridge or a network's name: a namespace of its own

  let ipc: IpcKind;
  const ipcRef = containerRef(h.IpcMode);
  if (ipcRef !== undefined && ipcRef !== "") ipc = "container";
  else if (h.IpcMode === "" || h.IpcMode === "private") ipc = "private";
  else if (h.IpcMode === "shareable" || h.IpcMode === "host" || h.IpcMode === "none") ipc = h.IpcMode;
  else throw new InvalidArgumentError(`Invalid IPC mode: ${h.IpcMode}`);

  let pid: Modes["pid"];
  const pidRef = containerRef(h.PidMode);
  if (pidRef !== undefined && pidRef !== "") pid = "container";
  else if (h.PidMode === "" || h.PidMode === "private") pid = "private";
  else if (h.PidMode === "host") pid = "host";
  else throw new InvalidArgumentError(`Invalid PID mode: ${h.PidMode}`);

  let uts: Modes["uts"];
  if (h.UTSMode === "" || h.UTSMode === "private") uts = "private";
  else if (h.UTSMode === "host") uts = "host";
  else throw new InvalidArgumentError(`Invalid UTS mode: ${h.UTSMode}`);

  let cgroup: Modes["cgroup"];
  if (h.CgroupnsMode === "") cgroup = cgroupVersion === 2 ? "private" : "host";
  else if (h.CgroupnsMode === "private" || h.CgroupnsMode === "host") cgroup = h.CgroupnsMode;
  else throw new InvalidArgumentError(`invalid cgroup namespace mode: ${h.CgroupnsMode}`);
  return { network, ipc, pid, uts, cgroup };
}

function joined(type: Namespace["type"], path: string | undefined, mode: string): Namespace {
  if (path === undefined || path === "") {
    throw new InvalidArgumentError(`${mode}: the ${type} namespace of the container to join is not known`);
  }
  return { type, path };
}

/** linux.namespaces in dockerd's order: mount, network, uts, pid, ipc (and cgroup when private). */
export function namespacesFor(m: Modes, h: HostConfig, join: JoinedNamespaces): Namespace[] {
  const ns: Namespace[] = [{ type: "mount" }];
  if (m.network === "container") ns.push(joined("network", join.network, h.NetworkMode));
  else if (m.network !== "host") ns.push({ type: "network" });
  if (m.uts === "private") ns.push({ type: "uts" });
  if (m.pid === "container") ns.push(joined("pid", join.pid, h.PidMode));
  else if (m.pid === "private") ns.push({ type: "pid" });
  if (m.ipc === "container") ns.push(joined("ipc", join.ipc, h.IpcMode));
  else if (m.ipc !== "host") ns.push({ type: "ipc" });
  if (m.cgroup === "private") ns.push({ type: "cgroup" });
  return ns;
}

/**
 * Refuses a sysctl the container's namespaces do not isolate, in the words runc uses when it
 * refuses it at create (which namespace isolates which sysctl is berth-runc's table): net.* needs
 * a network namespace not the host's, the IPC ones a private IPC namespace, kernel.domainname a
 * private UTS namespace; kernel.hostname is the spec's hostname; a name that is no sysctl name
 * (empty, "." or ".." components) is refused before anything reads it.
 */
export function checkSysctls(sysctls: Record<string, string>, m: Modes): void {
  for (const key of Object.keys(sysctls)) {
    const quoted = JSON.stringify(key);
    if (sysctlPath(key) === undefined) throw new InvalidArgumentError(`sysctl ${quoted} is not a sysctl name`);
    const name = normalizeSysctlKey(key);
    const ns = sysctlNamespace(name);
    if (ns === "ipc") {
      if (m.ipc === "host")
        throw new InvalidArgumentError(`sysctl ${quoted} is not allowed in the hosts ipc namespace`);
    } else if (ns === "network") {
      if (m.network === "host")
        throw new InvalidArgumentError(`sysctl ${quoted} not allowed in host network namespace`);
    } else if (name === "kernel.hostname") {
      throw new InvalidArgumentError(`sysctl ${quoted} is not allowed as it conflicts with the OCI "hostname" field`);
    } else if (ns === "uts") {
      if (m.uts === "host")
        throw new InvalidArgumentError(`sysctl ${quoted} is not allowed in the host's UTS namespace`);
    } else {
      // A container berthd makes has no user namespace: user.* is the host's too.
      throw new InvalidArgumentError(`sysctl ${quoted} is not in a separate kernel namespace`);
    }
  }
}

/**
 * linux.sysctl: the request's, and with a network namespace of its own (not host, not joined) the
 * two dockerd sets unless asked otherwise: unprivileged ports from 0 and ping for every group.
 */
export function sysctlsFor(sysctls: Record<string, string>, m: Modes): Record<string, string> {
  const out: Record<string, string> = { ...sysctls };
  if (m.network === "private" || m.network === "none") {
    out["net.ipv4.ip_unprivileged_port_start"] ??= "0";
    out["net.ipv4.ping_group_range"] ??= "0 2147483647";
  }
  return out;
}
