// A container's running life through containerd's Tasks service, the calls `ctr run`/`ctr task` and
// dockerd's libcontainerd make: create (rootfs mounts, stdio, runtime options), start, kill, wait,
// delete with the exit status, exec, resize, close stdin, pids, metrics, pause/resume and resource
// updates. Every error names the task (and the exec) it is about.
import { constants as osConstants } from "node:os";
import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { FailedPreconditionError, InvalidArgumentError } from "../common/errors.ts";
import type { Mount } from "../common/mount/mount.ts";
import { Tasks } from "../proto/gen/containerd/services/tasks/v1/tasks_pb.js";
import { Status } from "../proto/gen/containerd/types/task/task_pb.js";
import { createClient } from "../rpc/grpc.ts";
import { naming } from "./call-errors.ts";
import type { ConnectOptions } from "./containers.ts";
import type { TaskIO } from "./fifos.ts";
import { type AnyValue, jsonAny, TypeUrl } from "./type-urls.ts";

export type TaskStatus = "unknown" | "created" | "running" | "stopped" | "paused" | "pausing";

const STATUS: Record<Status, TaskStatus> = {
  [Status.UNKNOWN]: "unknown",
  [Status.CREATED]: "created",
  [Status.RUNNING]: "running",
  [Status.STOPPED]: "stopped",
  [Status.PAUSED]: "paused",
  [Status.PAUSING]: "pausing",
};

/** A task's (or an exec'd process's) state. */
export interface ProcessState {
  containerId: string;
  /** The exec id; "" for the task's init process. */
  id: string;
  pid: number;
  status: TaskStatus;
  terminal: boolean;
  /** Meaningful once stopped. */
  exitStatus: number;
  exitedAt: Date | undefined;
}

/** How a process ended: its exit status (128 + signal for a signal) and when. */
export interface ExitStatus {
  exitStatus: number;
  exitedAt: Date | undefined;
}

export interface TaskCreate {
  containerId: string;
  /** The rootfs mounts (RootfsSnapshots.mounts of the container's snapshot key). */
  rootfs: Mount[];
  /** Stdio: fifo paths (FifoSet.io), or log URIs (log-uri.ts) for stdout/stderr; "" for none. */
  io?: Partial<TaskIO>;
  /** Runtime options for this task; default: the container's. */
  options?: AnyValue;
}

export interface ExecCreate {
  containerId: string;
  execId: string;
  /** The process to run: the runtime spec's `process` object (args, env, cwd, user, terminal...). */
  process: unknown;
  io?: Partial<TaskIO>;
}

/** A signal by number or name ("SIGTERM", "TERM", 15). */
export type SignalLike = number | string;

/**
 * Most pids a ListPids answer may hold: far more than a pids-limited container runs, and a bound on
 * what a hostile answer costs.
 */
export const MAX_TASK_PIDS = 65_536;

/** Most tasks (or their metrics) a list may hold, as containers.ts's MAX_LIST_CONTAINERS. */
export const MAX_LIST_TASKS = 100_000;

/** `items` when the daemon sent at most `limit` of them. */
export function bounded<T>(what: string, items: T[], limit: number): T[] {
  if (items.length > limit)
    throw new FailedPreconditionError(`${what}: the daemon lists ${items.length}, more than ${limit}`);
  return items;
}

/** A signal's number; unknown names and numbers outside 1..64 are refused. */
export function signalNumber(s: SignalLike): number {
  if (typeof s === "number") {
    if (!Number.isInteger(s) || s < 1 || s > 64) throw new InvalidArgumentError(`signal ${s}: not a signal number`);
    return s;
  }
  if (/^\d+$/.test(s)) return signalNumber(Number(s));
  const upper = s.toUpperCase();
  const name = upper.startsWith("SIG") ? upper : `SIG${upper}`;
  const n = (osConstants.signals as Record<string, number>)[name];
  if (n === undefined) throw new InvalidArgumentError(`signal ${JSON.stringify(s)}: unknown`);
  return n;
}

export class TasksClient {
  readonly #client;

  constructor(address: string, opts: ConnectOptions) {
    this.#client = createClient(Tasks, address, opts);
  }

  close(): void {
    this.#client.close();
  }

  /** Creates the task (the container's init process, not yet started); its pid. */
  async create(t: TaskCreate): Promise<{ pid: number }> {
    const io = ioOf(t.io);
    const r = await naming(
      `task ${t.containerId}`,
      this.#client.create({
        containerId: t.containerId,
        rootfs: t.rootfs.map((m) => ({ type: m.type, source: m.source, target: m.target ?? "", options: m.options })),
        ...io,
        options: t.options,
      }),
    );
    return { pid: r.pid };
  }

  /** Starts the task's init process (or, with `execId`, an exec'd process); its pid. */
  async start(containerId: string, execId = ""): Promise<number> {
    const r = await naming(whatOf(containerId, execId), this.#client.start({ containerId, execId }));
    return r.pid;
  }

  /** Signals the init process (or an exec); `all`: every process of the container. */
  async kill(containerId: string, signal: SignalLike, opts: { all?: boolean; execId?: string } = {}): Promise<void> {
    await naming(
      whatOf(containerId, opts.execId),
      this.#client.kill({
        containerId,
        execId: opts.execId ?? "",
        signal: signalNumber(signal),
        all: opts.all === true,
      }),
    );
  }

  /** Waits for the process to exit (the Wait RPC); `signal` gives up waiting (not the process). */
  async wait(containerId: string, opts: { execId?: string; signal?: AbortSignal } = {}): Promise<ExitStatus> {
    const r = await naming(
      whatOf(containerId, opts.execId),
      this.#client.wait({ containerId, execId: opts.execId ?? "" }, { signal: opts.signal }),
    );
    return { exitStatus: r.exitStatus, exitedAt: dateOf(r.exitedAt) };
  }

  /** Deletes a stopped task; how its init process ended. */
  async delete(containerId: string): Promise<ExitStatus & { pid: number }> {
    const r = await naming(`task ${containerId}`, this.#client.delete({ containerId }));
    return { pid: r.pid, exitStatus: r.exitStatus, exitedAt: dateOf(r.exitedAt) };
  }

  /** Deletes an exited exec'd process; how it ended. */
  async deleteProcess(containerId: string, execId: string): Promise<ExitStatus & { pid: number }> {
    const r = await naming(whatOf(containerId, execId), this.#client.deleteProcess({ containerId, execId }));
    return { pid: r.pid, exitStatus: r.exitStatus, exitedAt: dateOf(r.exitedAt) };
  }

  async get(containerId: string, execId = ""): Promise<ProcessState> {
    const what = whatOf(containerId, execId);
    const r = await naming(what, this.#client.get({ containerId, execId }));
    if (!r.process) throw new FailedPreconditionError(`${what}: the daemon answered without the process`);
    return stateOf(r.process);
  }

  /** The namespace's tasks (a containerd filter, e.g. `status==running`, or all). */
  async list(filter = "", limit = MAX_LIST_TASKS): Promise<ProcessState[]> {
    const r = await naming("tasks", this.#client.list({ filter }));
    return bounded("tasks", r.tasks, limit).map(stateOf);
  }

  /** Adds an exec'd process to a running task (start it with start(containerId, execId)). */
  async exec(e: ExecCreate): Promise<void> {
    const what = whatOf(e.containerId, e.execId);
    await naming(
      what,
      this.#client.exec({
        containerId: e.containerId,
        execId: e.execId,
        ...ioOf(e.io),
        spec: jsonAny(TypeUrl.process, e.process, `${what}: process`),
      }),
    );
  }

  async resizePty(containerId: string, size: { width: number; height: number }, execId = ""): Promise<void> {
    const what = whatOf(containerId, execId);
    for (const [k, v] of Object.entries(size)) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffff)
        throw new InvalidArgumentError(`${what}: ${k} ${v} out of range`);
    }
    await naming(what, this.#client.resizePty({ containerId, execId, width: size.width, height: size.height }));
  }

  /** Tells the shim the client closed the process's stdin (FifoSet.closeStdin first). */
  async closeStdin(containerId: string, execId = ""): Promise<void> {
    await naming(whatOf(containerId, execId), this.#client.closeIO({ containerId, execId, stdin: true }));
  }

  async pause(containerId: string): Promise<void> {
    await naming(`task ${containerId}`, this.#client.pause({ containerId }));
  }

  async resume(containerId: string): Promise<void> {
    await naming(`task ${containerId}`, this.#client.resume({ containerId }));
  }

  /** The container's processes: pid, and the runtime's detail (for runc: which exec owns it). */
  async pids(containerId: string, limit = MAX_TASK_PIDS): Promise<{ pid: number; info: AnyValue | undefined }[]> {
    const what = `task ${containerId}`;
    const r = await naming(what, this.#client.listPids({ containerId }));
    return bounded(`${what}: pids`, r.processes, limit).map((p) => ({
      pid: p.pid,
      info: p.info ? { typeUrl: p.info.typeUrl, value: p.info.value } : undefined,
    }));
  }

  /**
   * The tasks' metrics as the shim reports them (cgroups v1 or v2 Metrics as an Any, undecoded):
   * one per task id given, or every task's with no ids.
   */
  async metrics(
    containerIds: string[] = [],
  ): Promise<{ id: string; timestamp: Date | undefined; data: AnyValue | undefined }[]> {
    const what = `metrics of ${containerIds.join(", ") || "every task"}`;
    const filters = containerIds.map((id) => `id==${JSON.stringify(id)}`);
    const r = await naming(what, this.#client.metrics({ filters }));
    return bounded(what, r.metrics, MAX_LIST_TASKS).map((m) => ({
      id: m.id,
      timestamp: dateOf(m.timestamp),
      data: m.data ? { typeUrl: m.data.typeUrl, value: m.data.value } : undefined,
    }));
  }

  /** Updates the running task's resources (the spec's `linux.resources`), and annotations. */
  async update(containerId: string, resources: unknown, annotations: Record<string, string> = {}): Promise<void> {
    const what = `task ${containerId}`;
    await naming(
      what,
      this.#client.update({
        containerId,
        resources: jsonAny(TypeUrl.linuxResources, resources, `${what}: resources`),
        annotations,
      }),
    );
  }
}

/** "task c1" or "exec e1 of task c1". */
function whatOf(containerId: string, execId = ""): string {
  return execId ? `exec ${execId} of task ${containerId}` : `task ${containerId}`;
}

function ioOf(io: Partial<TaskIO> | undefined): TaskIO {
  return {
    stdin: io?.stdin ?? "",
    stdout: io?.stdout ?? "",
    stderr: io?.stderr ?? "",
    terminal: io?.terminal ?? false,
  };
}

const dateOf = (t: Timestamp | undefined): Date | undefined => (t ? timestampDate(t) : undefined);

function stateOf(p: {
  containerId: string;
  id: string;
  pid: number;
  status: Status;
  terminal: boolean;
  exitStatus: number;
  exitedAt?: Timestamp | undefined;
}): ProcessState {
  return {
    containerId: p.containerId,
    id: p.id,
    pid: p.pid,
    status: STATUS[p.status] ?? "unknown",
    terminal: p.terminal,
    exitStatus: p.exitStatus,
    exitedAt: dateOf(p.exitedAt),
  };
}
