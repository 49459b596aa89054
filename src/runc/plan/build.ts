// Spec -> plan. Pure: every fact about the host (cgroup directories, kernel limits, whether a bind
// source is a directory) arrives as input, so the whole policy can be unit-tested.
import { InvalidSpecError } from "../../common/errors.ts";
import { keyField } from "../config/decode.ts";
import { MS_BIND, MS_RDONLY } from "../config/mount-options.ts";
import { checkSysctlsNotOnHost, sysctlPath } from "../config/rules.ts";
import type { Hook, NamespaceType, Process, Spec } from "../config/types.ts";
import { deviceOps, managesDev } from "./devices.ts";
import { type HostLsm, lsmOps, NO_LSM } from "./lsm.ts";
import { type CgroupView, maskedPathOps, readonlyPathOps, specMountOps } from "./mounts.ts";
import {
  CLONE_FLAG,
  cloneFlags,
  createsNamespace,
  hasNamespace,
  idMapText,
  joinOps,
  PROC_NS_NAME,
  timeNamespaceOps,
} from "./namespaces.ts";
import { CloneMode, type PlanOp } from "./ops.ts";
import { type CompiledFilter, finalizeOps, processEnv, rlimitOps } from "./process.ts";
import { enterRootOps, ownsMountNamespace, prepareRootOps, type RootfsParentMount } from "./root.ts";

export interface CreatePlanInput {
  spec: Spec;
  /** Absolute path of the root filesystem. */
  rootfs: string;
  /** create: the parent half exits once the init waits on the fifo; run: it stays and waits. */
  mode: "create" | "run";
  execFifo: string;
  consoleSocket?: string;
  /** cgroup.procs files the init joins before it clones (so a cgroup namespace is rooted there). */
  cgroupProcs: string[];
  cgroups: CgroupView[];
  preserveFds: number;
  noPivot: boolean;
  lastCap: number;
  seccomp?: CompiledFilter;
  isDirectory: (hostPath: string) => boolean;
  /** cgroup v2 only: the device policy as an eBPF program and the cgroup it is attached to. */
  deviceFilter?: { dir: string; program: Buffer };
  /** The mount that contains the rootfs (made private if still shared, so pivot_root accepts it). */
  rootfsParentMount: RootfsParentMount;
  /** The container id (names its session keyring). */
  id: string;
  /** Join a new session keyring (runc's default; --no-new-keyring turns it off). */
  newKeyring: boolean;
  /** The host's security modules; default: none, so any label or profile is refused. */
  lsm?: HostLsm;
  /** Whether the namespace file at `path` is the runtime's own (the host's) namespace of `type`. */
  isHostNamespace: (type: NamespaceType, path: string) => boolean;
}

/**
 * Which of the states the runtime sent at the hook sync point an in-container hook receives on
 * stdin (see HOOK_STATES in container/create.ts): createContainer hooks see "creating",
 * startContainer hooks "created".
 */
export const HookState = { CREATING: 0, CREATED: 1 } as const;

function hookOps(hooks: readonly Hook[] | undefined, state: number): PlanOp[] {
  return (hooks ?? []).map((h) => {
    const args = h.args ?? [];
    return { op: "RUN_HOOK", args: [h.path, h.timeout ?? 0, state, args.length, ...args, ...(h.env ?? [])] };
  });
}

/**
 * Where a terminal's pty master goes: to the caller's console socket, or, in the foreground
 * without one, to nsexec's waiting parent half, which relays it to this process's stdio.
 */
function consoleOp(consoleSocket: string | undefined, foreground: boolean): PlanOp {
  if (consoleSocket) return { op: "CONSOLE_CONNECT", args: [consoleSocket] };
  if (foreground) return { op: "CONSOLE_PAIR", args: [] };
  throw new InvalidSpecError("process.terminal", "requires --console-socket when detached");
}

/**
 * A seccomp agent's socket is connected before any namespace is joined, in the runtime's own mount
 * namespace: inside the container the path could name a socket the image or a process there made.
 */
function seccompAgentOps(seccomp: CompiledFilter | undefined): PlanOp[] {
  return seccomp?.listenerPath ? [{ op: "SECCOMP_LISTENER", args: [seccomp.listenerPath] }] : [];
}

/**
 * oom_score_adj is set by nsexec on itself before it joins any namespace, through the runtime's
 * own /proc, and the process inherits it (as runc does): inside, /proc is whatever the container or
 * a mount namespace joined by path made of it, and its "self" may name another process.
 */
function oomScoreAdjOps(proc: Process): PlanOp[] {
  if (proc.oomScoreAdj === undefined) return [];
  return [{ op: "WRITE_PROC", args: ["/proc/self/oom_score_adj", `${proc.oomScoreAdj}`] }];
}

function requireProcess(spec: Spec): Process {
  if (!spec.process) throw new InvalidSpecError("process", "is required to create a container");
  return spec.process;
}

export function createPlan(input: CreatePlanInput): PlanOp[] {
  const { spec, rootfs } = input;
  const proc = requireProcess(spec);
  const ops: PlanOp[] = [];
  // Everything named by a host path is opened first: once a mount namespace given by path is
  // joined, "/" is no longer the host's.
  for (const f of input.cgroupProcs) ops.push({ op: "CGROUP_OPEN", args: [f] });
  if (input.deviceFilter)
    ops.push({ op: "BPF_DEVICE_FILTER", args: [input.deviceFilter.dir, input.deviceFilter.program] });
  if (proc.terminal) ops.push(consoleOp(input.consoleSocket, input.mode === "run"));
  // In the foreground the container writes into pipes the runtime relays, as runc does: the
  // caller's own fds (files, sockets) are never reopenable through /proc/self/fd inside.
  else if (input.mode === "run") ops.push({ op: "STDIO_PIPES", args: [] });
  ops.push({ op: "FIFO_OPEN", args: [input.execFifo] });
  ops.push(...seccompAgentOps(input.seccomp));
  ops.push(...oomScoreAdjOps(proc));
  const joins = (spec.linux?.namespaces ?? []).filter((n): n is { type: NamespaceType; path: string } => !!n.path);
  ops.push(...joinOps(joins));
  ops.push(...timeNamespaceOps(spec));
  // With a new user namespace, only it and the pid namespace come with the clone; the others are
  // unshared by the child once it is root in the new user namespace, so they are owned by it
  // (and, as with runc, an ipc namespace's mqueue belongs to uid 0 of the container).
  const newUserNs = createsNamespace(spec, "user");
  const allFlags = cloneFlags(spec);
  const withClone = newUserNs ? allFlags & (CLONE_FLAG.user | CLONE_FLAG.pid) : allFlags;
  const unshareLater = allFlags & ~withClone;
  ops.push({ op: "CLONE", args: [withClone, input.mode === "create" ? CloneMode.CREATE : CloneMode.WAIT] });

  // Parent half: the id maps of a new user namespace (read by nsexec's parent, skipped by the child).
  const inUserNs = hasNamespace(spec, "user");
  if (newUserNs) {
    ops.push({ op: "IDMAP", args: ["uid_map", idMapText(spec.linux?.uidMappings ?? [])] });
    ops.push({ op: "IDMAP", args: ["gid_map", idMapText(spec.linux?.gidMappings ?? [])] });
  }

  // Child half: the container's init. It joins its cgroups itself (so nsexec's parent half, which
  // may stay to wait, is never counted in them), and only then enters a new cgroup namespace,
  // which is rooted at the cgroup its creator is in.
  if (input.cgroupProcs.length) ops.push({ op: "CGROUP_JOIN_OPENED", args: [] });
  if (createsNamespace(spec, "cgroup")) ops.push({ op: "UNSHARE", args: [CLONE_FLAG.cgroup] });
  // Root of the new user namespace for the setup: files and mounts need a mapped uid and gid.
  if (newUserNs) {
    ops.push({ op: "SETRESUID", args: [0] });
    if (unshareLater) ops.push({ op: "UNSHARE", args: [unshareLater] });
    ops.push({ op: "SETRESGID", args: [0] });
  }
  ops.push({ op: "SETSID", args: [] });
  if (input.newKeyring) ops.push({ op: "NEW_KEYRING", args: [`_ses.${input.id}`] });
  const persona = spec.linux?.personality;
  if (persona) ops.push({ op: "PERSONALITY", args: [persona.domain === "LINUX32" ? 0x0008 : 0] });

  // Mounts, in the container's mount namespace, before pivot_root (none without one: config
  // validation refuses mounts there, which would be the runtime's own namespace).
  ops.push(...prepareRootOps(spec, rootfs, input.rootfsParentMount, input.noPivot));
  ops.push(
    ...specMountOps(spec, {
      rootfs,
      isDirectory: input.isDirectory,
      cgroups: input.cgroups,
      cgroupNamespace: createsNamespace(spec, "cgroup"),
    }),
  );
  if (managesDev(spec)) ops.push(...deviceOps(spec, rootfs, inUserNs));
  ops.push({ op: "MKDIR", args: [rootfs, proc.cwd, 0o755] });

  const hooks = spec.hooks ?? {};
  const hookCount = (["prestart", "createRuntime", "createContainer", "startContainer"] as const).reduce(
    (n, k) => n + (hooks[k]?.length ?? 0),
    0,
  );
  // The runtime runs its own hooks here and answers with the states in-container hooks get.
  if (hookCount > 0) ops.push({ op: "SYNC", args: ["createRuntime"] });
  ops.push(...hookOps(hooks.createContainer, HookState.CREATING));

  ops.push(...enterRootOps(spec, rootfs, input.noPivot));
  // /dev/console is bound from the pty only in the container's own mount namespace: in the
  // runtime's, the mount would be the host's and outlive the container.
  if (proc.terminal) {
    const bindConsole = ownsMountNamespace(spec) ? 1 : 0;
    ops.push({ op: "CONSOLE_SETUP", args: [proc.consoleSize?.height ?? 0, proc.consoleSize?.width ?? 0, bindConsole] });
  }
  if (spec.root?.readonly) ops.push({ op: "REMOUNT", args: ["", "/", MS_BIND | MS_RDONLY, 1] });

  if (createsNamespace(spec, "uts")) {
    if (spec.hostname !== undefined) ops.push({ op: "SETHOSTNAME", args: [spec.hostname] });
    if (spec.domainname !== undefined) ops.push({ op: "SETDOMAINNAME", args: [spec.domainname] });
  }
  if (createsNamespace(spec, "network")) ops.push({ op: "LOOPBACK_UP", args: [] });
  // Each is written inside the container, so it lands in the container's namespaces: refuse the
  // ones whose namespace is the host's own, joined by path.
  checkSysctlsNotOnHost(spec, input.isHostNamespace);
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {})) {
    const path = sysctlPath(key);
    if (path === undefined) throw new InvalidSpecError(keyField("linux.sysctl", key), "is not a sysctl name");
    ops.push({ op: "WRITE_PROC", args: [path, value] });
  }
  ops.push(...lsmOps(proc, spec.linux?.mountLabel, input.lsm ?? NO_LSM));
  ops.push(...readonlyPathOps(spec));
  ops.push(...maskedPathOps(spec));
  ops.push(...rlimitOps(proc));
  if (proc.user.umask !== undefined) ops.push({ op: "UMASK", args: [proc.user.umask] });

  const env = processEnv(proc, rootfs);
  ops.push(
    ...finalizeOps({
      proc,
      env,
      lastCap: input.lastCap,
      seccomp: input.seccomp,
      preserveFds: input.preserveFds,
      beforeExec: [{ op: "WAIT_FIFO", args: [] }, ...hookOps(hooks.startContainer, HookState.CREATED)],
    }),
  );
  return ops;
}

export interface ExecPlanInput {
  /** The container's spec (namespaces, seccomp, rootfs) and the process to run in it. */
  spec: Spec;
  process: Process;
  initPid: number;
  detach: boolean;
  consoleSocket?: string;
  cgroupProcs: string[];
  preserveFds: number;
  lastCap: number;
  seccomp?: CompiledFilter;
  rootfs?: string;
  /** As in CreatePlanInput. */
  lsm?: HostLsm;
}

/** Join every namespace of the running init, its cgroups, then fork (for the pid namespace). */
export function execPlan(input: ExecPlanInput): PlanOp[] {
  const { spec, process: proc } = input;
  const ops: PlanOp[] = [];
  // The cgroup files are opened in the host's view; the child writes itself into them after the
  // clone, by which time "/sys/fs/cgroup" means the container's own view.
  for (const f of input.cgroupProcs) ops.push({ op: "CGROUP_OPEN", args: [f] });
  const joins = (spec.linux?.namespaces ?? [])
    .filter((n) => n.type !== "user" || createsNamespace(spec, "user") || !!n.path)
    .map((n) => ({ type: n.type, path: `/proc/${input.initPid}/ns/${PROC_NS_NAME[n.type]}` }));
  if (proc.terminal) ops.push(consoleOp(input.consoleSocket, !input.detach));
  else if (!input.detach) ops.push({ op: "STDIO_PIPES", args: [] });
  ops.push(...seccompAgentOps(input.seccomp));
  ops.push(...oomScoreAdjOps(proc));
  ops.push(...joinOps(joins));
  ops.push({ op: "CLONE", args: [0, input.detach ? CloneMode.EXEC_DETACH : CloneMode.WAIT] });
  if (input.cgroupProcs.length) ops.push({ op: "CGROUP_JOIN_OPENED", args: [] });
  if (proc.terminal) {
    ops.push({ op: "SETSID", args: [] });
    ops.push({ op: "CONSOLE_SETUP", args: [proc.consoleSize?.height ?? 0, proc.consoleSize?.width ?? 0, 0] });
  }
  // The container's mount label is not the exec'd process's business: only its own labels count.
  ops.push(...lsmOps(proc, undefined, input.lsm ?? NO_LSM));
  ops.push(...rlimitOps(proc));
  if (proc.user.umask !== undefined) ops.push({ op: "UMASK", args: [proc.user.umask] });
  ops.push(
    ...finalizeOps({
      proc,
      env: processEnv(proc, input.rootfs),
      lastCap: input.lastCap,
      seccomp: input.seccomp,
      preserveFds: input.preserveFds,
      beforeExec: [],
    }),
  );
  return ops;
}
