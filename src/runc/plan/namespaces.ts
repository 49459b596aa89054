// Namespaces: which ones the container creates (clone flags) and which it joins by path.
import type { Namespace, NamespaceType, Spec } from "../config/types.ts";
import type { PlanOp } from "./ops.ts";

export const CLONE_FLAG: Readonly<Record<NamespaceType, number>> = {
  mount: 0x00020000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  cgroup: 0x02000000,
  time: 0x00000080,
};

/** /proc/<pid>/ns/<name> for each namespace type. */
export const PROC_NS_NAME: Readonly<Record<NamespaceType, string>> = {
  mount: "mnt",
  uts: "uts",
  ipc: "ipc",
  user: "user",
  pid: "pid",
  network: "net",
  cgroup: "cgroup",
  time: "time",
};

export function namespaces(spec: Spec): Namespace[] {
  return spec.linux?.namespaces ?? [];
}

export function hasNamespace(spec: Spec, type: NamespaceType): boolean {
  return namespaces(spec).some((n) => n.type === type);
}

export function createsNamespace(spec: Spec, type: NamespaceType): boolean {
  return namespaces(spec).some((n) => n.type === type && !n.path);
}

/**
 * Flags for clone(): every new namespace but time (clone() reads its flag as a signal number)
 * and cgroup (the child unshares it once it is inside its own cgroups).
 */
export function cloneFlags(spec: Spec): number {
  let flags = 0;
  for (const ns of namespaces(spec)) {
    if (!ns.path && ns.type !== "time" && ns.type !== "cgroup") flags |= CLONE_FLAG[ns.type];
  }
  return flags;
}

/** A new time namespace is unshared before the clone (only children enter it) with its offsets. */
export function timeNamespaceOps(spec: Spec): PlanOp[] {
  if (!namespaces(spec).some((n) => n.type === "time" && !n.path)) return [];
  const offsets = Object.entries(spec.linux?.timeOffsets ?? {})
    .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
    .join("");
  const ops: PlanOp[] = [{ op: "UNSHARE", args: [CLONE_FLAG.time] }];
  if (offsets) ops.push({ op: "WRITE_PROC", args: ["/proc/self/timens_offsets", offsets] });
  return ops;
}

/**
 * setns ops for namespaces given by path. The user namespace goes first: once inside it we hold
 * every capability over the namespaces it owns, which the other joins need.
 */
/**
 * SETNS ops in a safe order: the user namespace first (it grants the rights to join the others),
 * the mount namespace last: joining it changes what "/proc" names, so every later
 * /proc/<pid>/ns path would be looked up in the container's /proc.
 */
export function joinOps(entries: readonly { type: NamespaceType; path: string }[]): PlanOp[] {
  const rank = (t: NamespaceType) => (t === "user" ? 0 : t === "mount" ? 2 : 1);
  const sorted = [...entries].sort((a, b) => rank(a.type) - rank(b.type));
  return sorted.map((n) => ({ op: "SETNS", args: [n.path, CLONE_FLAG[n.type]] }));
}

export function idMapText(maps: readonly { containerID: number; hostID: number; size: number }[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}
