// A task's bundle, and how a daemon launches a shim for it. The bundle is the directory the
// daemon makes for a task (<state>/io.containerd.runtime.v2.task/<namespace>/<id>) and the shim
// runs it in; the daemon (berth-containerd's runtime manager, or containerd) and the shim each
// write some of its files and read the others'. This module is the one place that names them and
// the one place that says how a shim is started (its flags, its environment, its fds), so the
// two sides cannot drift apart.
//
//   file            written by                              read by
//   config.json     daemon: the runtime spec                shim (groups), the runtime
//   shim-binary     daemon: which shim runs the task        daemon, after a restart
//   address         shim: its ttrpc address                 daemon, after a restart
//   log             daemon makes a fifo (or the shim a file): the shim's log
//   rootfs          shim: the snapshot's mounts             the runtime
//   runtime.json    shim: the runtime's binary and root     shim's `delete`
//   log.json        the runtime's --log                     shim (its errors)
//   init.pid, exec-<id>.pid   the runtime                   the keeper, shim
//   init.exit, exec-<id>.exit the keeper: pid, status, time shim (after a restart)
//   exec-<id>.json  shim: an exec's process spec            the runtime
//   keeper          shim: its keeper's socket path          shim (after a restart), `delete`
//   task.json       shim: the task's record                 shim (after a restart)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../common/atomic-write.ts";
import { InvalidArgumentError } from "../common/errors.ts";
import type { FlagSpecs } from "../common/flags.ts";
import { CONFIG_FILE } from "../runc/config/bundle.ts";

/** The directory of task bundles under a daemon's --state (containerd's name for it). */
export const TASK_BUNDLES = "io.containerd.runtime.v2.task";

/** containerd's identifier rule for exec ids, which name files in the bundle. */
const EXEC_ID = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,74}[A-Za-z0-9])?$/;

/** `execId` if it may name files in a bundle; InvalidArgumentError otherwise. */
export function validateExecId(execId: string): string {
  if (!EXEC_ID.test(execId)) throw new InvalidArgumentError(`exec id ${JSON.stringify(execId)}: invalid`);
  return execId;
}

/**
 * The name a task's keeper knows a process by: "init", or exec-<id> (an exec id may itself be
 * "init"); its pid and exit files in the bundle are named after it.
 */
export function processName(execId: string): string {
  return execId === "" ? "init" : `exec-${validateExecId(execId)}`;
}

/** The pid file's name in the bundle (the runtime writes it, the keeper reads it). */
export function pidFileName(execId: string): string {
  return `${processName(execId)}.pid`;
}

/** The exit file's name in the bundle (the keeper writes it before it reports the exit). */
export function exitFileName(execId: string): string {
  return `${processName(execId)}.exit`;
}

/** A single path component: refuses what would climb out of, or reach below, its directory. */
function component(kind: string, name: string): string {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new InvalidArgumentError(`${kind} ${JSON.stringify(name)}: cannot name a bundle directory`);
  }
  return name;
}

/** The paths of a bundle's files. */
export class Bundle {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  /** The runtime spec. */
  get config(): string {
    return join(this.dir, CONFIG_FILE);
  }
  /** Where the shim mounts the task's root filesystem. */
  get rootfs(): string {
    return join(this.dir, "rootfs");
  }
  /** The shim's ttrpc address: how a restarted daemon finds the shim again. */
  get address(): string {
    return join(this.dir, "address");
  }
  /** The shim binary the daemon ran for this task. */
  get shimBinary(): string {
    return join(this.dir, "shim-binary");
  }
  /** The shim's log: a fifo the daemon made and reads (as containerd does), or a plain file. */
  get shimLog(): string {
    return join(this.dir, "log");
  }
  /** Which runtime binary and --root the shim used, for `delete` after the shim died. */
  get runtimeOptions(): string {
    return join(this.dir, "runtime.json");
  }
  /** The runtime's --log (json lines; its errors are read from there). */
  get runtimeLog(): string {
    return join(this.dir, "log.json");
  }
  /** The pid file of the task's init ("") or of one of its execs. */
  pidFile(execId: string): string {
    return join(this.dir, pidFileName(execId));
  }
  /** Where the keeper records how the task's init ("") or one of its execs exited. */
  exitFile(execId: string): string {
    return join(this.dir, exitFileName(execId));
  }
  /** What a shim started after this one died needs to serve the task again (task-record.ts). */
  get taskRecord(): string {
    return join(this.dir, "task.json");
  }
  /** Names the socket of the task's keeper (keeper.ts). */
  get keeper(): string {
    return join(this.dir, "keeper");
  }
  /** An exec's process spec, handed to the runtime. */
  execSpec(execId: string): string {
    return join(this.dir, `exec-${validateExecId(execId)}.json`);
  }

  /** Records the shim's address, replaced whole; 0644: nobody but root may redirect the daemon. */
  writeAddress(address: string): void {
    writeFileAtomic(this.address, address, { mode: 0o644 });
  }
  /** The shim's address; throws (ENOENT) when no shim has written one. */
  readAddress(): string {
    return readFileSync(this.address, "utf8").trim();
  }
  /** Records the keeper's socket path; 0600: root's alone. */
  writeKeeper(socketPath: string): void {
    writeFileAtomic(this.keeper, socketPath, { mode: 0o600, durable: false });
  }
  /** The keeper's socket path; throws (ENOENT) when the task has no keeper. */
  readKeeper(): string {
    return readFileSync(this.keeper, "utf8").trim();
  }
}

/** The bundle of task `id` of `namespace` under a daemon's --state. */
export function taskBundle(state: string, namespace: string, id: string): Bundle {
  return new Bundle(join(state, TASK_BUNDLES, component("namespace", namespace), component("task id", id)));
}

// ---- The launch contract: how a daemon starts a shim and what the shim reads of it. ----

/** The shim's command line (containerd's shim v2 flags, plus berth's own). */
export const SHIM_FLAGS = {
  namespace: { kind: "string", usage: "namespace of the task" },
  address: { kind: "string", usage: "the daemon's gRPC address" },
  "publish-binary": { kind: "string", usage: "the daemon's binary (unused: events go over ttrpc)" },
  id: { kind: "string", usage: "id of the task" },
  bundle: { kind: "string", usage: "the bundle directory (default: the working directory)" },
  socket: { kind: "string", usage: "the socket to serve (set by start for the shim it starts)" },
  spare: { kind: "bool", usage: "serve as a spare: namespace and bundle come with the first Create" },
  adopt: {
    kind: "bool",
    usage: "first serve again the tasks of a shim that died on -socket (set by berth-containerd)",
  },
  "parent-fd": {
    kind: "int",
    usage: "a pipe from the daemon: exit at its EOF if no Create came yet (set by the daemon)",
  },
  debug: { kind: "bool", usage: "debug logging" },
  v: { kind: "bool", usage: "print the version" },
} as const satisfies FlagSpecs;

/** Who a shim serves: what a daemon puts before the action. */
export interface ShimIdentity {
  namespace: string;
  id: string;
  /** The daemon's gRPC address. */
  address: string;
  /** The daemon's binary (containerd's shims publish events through it; berth's do not). */
  publishBinary: string;
}

/** The flags a daemon gives a shim before its action, in containerd's order. */
export function shimFlags(s: ShimIdentity): string[] {
  return ["-namespace", s.namespace, "-address", s.address, "-publish-binary", s.publishBinary, "-id", s.id];
}

/** `start` (run in the bundle): starts the long-lived shim and prints its address. */
export function startArgs(s: ShimIdentity): string[] {
  return [...shimFlags(s), "start"];
}

/** `delete`: cleans up after a shim that died, printing a DeleteResponse. */
export function deleteArgs(s: ShimIdentity, bundle: string): string[] {
  return [...shimFlags(s), "-bundle", bundle, "delete"];
}

/** What a daemon tells a shim through its environment. */
export interface ShimEnvironment {
  /** The daemon's ttrpc socket, where events go. */
  ttrpcAddress: string;
  grpcAddress: string;
  /** Unset for a spare, which learns its namespace from its first Create. */
  namespace?: string | undefined;
  /** berth-shim: where the runtime keeps its state (a --root per namespace below it). */
  runtimeRoot?: string | undefined;
  /** berth-shim: a task that names no group gets a shim of its own, not its namespace's. */
  perContainer?: boolean | undefined;
  /**
   * berth-shim: how long a shared shim left without tasks (Shutdown without `now`) waits before
   * it exits by itself; unset: a moment (serve.ts). berth-containerd keeping a namespace's shim
   * warm stops it sooner itself; this only bounds an idle shim whose daemon died.
   */
  idleExitMs?: number | undefined;
}

/** `base` with the daemon's part of a shim's environment; unset parts are left out. */
export function shimEnv(base: NodeJS.ProcessEnv, e: ShimEnvironment): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, TTRPC_ADDRESS: e.ttrpcAddress, GRPC_ADDRESS: e.grpcAddress };
  if (e.namespace !== undefined) env.NAMESPACE = e.namespace;
  else delete env.NAMESPACE;
  if (e.runtimeRoot !== undefined) env.BERTH_SHIM_RUNTIME_ROOT = e.runtimeRoot;
  if (e.perContainer !== undefined) env.BERTH_SHIM_PER_CONTAINER = e.perContainer ? "1" : "0";
  if (e.idleExitMs !== undefined) env.BERTH_SHIM_IDLE_EXIT_MS = String(e.idleExitMs);
  else delete env.BERTH_SHIM_IDLE_EXIT_MS;
  return env;
}

/** What berth-shim reads of its environment. */
export interface ShimEnvRead {
  ttrpcAddress: string | undefined;
  runtimeRoot: string | undefined;
  /** The OCI runtime binary to run by default instead of berth-runc linked in. */
  runtime: string | undefined;
  /** The group whose shim this is (set by `start` for the shim it starts). */
  group: string | undefined;
  /**
   * BERTH_SHIM_PER_CONTAINER=1: a task without a group annotation gets a shim of its own instead of
   * joining its namespace's (set by berth-containerd --shim-per-container; with Debian's containerd,
   * put it in containerd's environment, which its shims inherit).
   */
  perContainer: boolean;
  /** V8 flags replacing the long-lived shim's own (for measuring others). */
  nodeFlags: string[] | undefined;
  /** BERTH_SHIM_IDLE_EXIT_MS: a shared shim's wait, without tasks, before it exits (ShimEnvironment). */
  idleExitMs: number | undefined;
}

export function readShimEnv(env: NodeJS.ProcessEnv = process.env): ShimEnvRead {
  return {
    ttrpcAddress: env.TTRPC_ADDRESS,
    runtimeRoot: env.BERTH_SHIM_RUNTIME_ROOT || undefined,
    runtime: env.BERTH_SHIM_RUNTIME || undefined,
    group: env.BERTH_SHIM_GROUP,
    perContainer: env.BERTH_SHIM_PER_CONTAINER === "1",
    nodeFlags: env.BERTH_SHIM_NODE_FLAGS?.split(/\s+/).filter(Boolean),
    idleExitMs: idleExitMsOf(env.BERTH_SHIM_IDLE_EXIT_MS),
  };
}

/** At most an hour; anything but a whole number of ms in that range is no setting. */
export function idleExitMsOf(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,7}$/.test(value)) return undefined;
  const ms = Number(value);
  return ms <= 3_600_000 ? ms : undefined;
}

/** Set by `start` in the environment of the shim it starts: the group the shim serves. */
export function groupEnv(group: string): NodeJS.ProcessEnv {
  return { BERTH_SHIM_GROUP: group };
}

/** The long-lived shim writes "ready\n" on this fd once it serves (`start` waits for it). */
export const READY_FD = 3;
/**
 * A shim berth-containerd starts itself gets one end of a pipe here (`-parent-fd`); only the
 * daemon holds the other end, so EOF means the daemon is gone (start.ts, serve.ts).
 */
export const PARENT_FD = 4;
