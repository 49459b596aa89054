// containerd.task.v2.Task as berth-shim serves it: one handler per RPC over the ShimTasks this
// shim holds (normally one; several when containers share a shim as a group). Each handler
// checks the request against the process's state and drives the OCI runtime. Each task has a
// keeper (keeper.ts), started by Create before the runtime's create: the runtime's processes are
// its children, it holds their stdio, and exits come from its EXIT events and are published as
// /tasks/exit. A keeper that dies takes its container with it (killed, reported exited 137).
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  AlreadyExistsError,
  BerthError,
  errorMessage,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  NotImplementedError,
} from "../common/errors.ts";
import type { DaemonLogger } from "../common/log.ts";
import { writeFileNamed } from "../common/storage-errors.ts";
import {
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExecAddedSchema,
  TaskExecStartedSchema,
  TaskExitSchema,
  TaskOOMSchema,
  TaskPausedSchema,
  TaskResumedSchema,
  TaskStartSchema,
} from "../proto/gen/containerd/events/task_pb.js";
import { type Options, OptionsSchema, ProcessDetailsSchema } from "../proto/gen/containerd/runc/v1/options_pb.js";
import type { Task } from "../proto/gen/containerd/task/v2/shim_pb.js";
import { Status } from "../proto/gen/containerd/types/task/task_pb.js";
import type { Impl } from "../rpc/service.ts";
import { Bundle, exitFileName, pidFileName, validateExecId } from "./bundle.ts";
import { Keeper, KeeperLauncher } from "./keeper.ts";
import type { EventPublisher } from "./publisher.ts";
import type { Reaper } from "./reaper.ts";
import { mountRootfs, unmountRootfs } from "./rootfs.ts";
import { CliRuntime, type ShimRuntime, type SpawnOptions } from "./runtime.ts";
import { statsAny } from "./stats.ts";
import { ProcessIO } from "./stdio.ts";
import { ShimProcess as Process, type ShimProcess, ShimTask } from "./task.ts";
import {
  type ProcessRecord,
  type RuntimeChoice,
  readExitFile,
  readTaskRecord,
  recordOf,
  writeTaskRecord,
} from "./task-record.ts";

export const SHIM_VERSION = "berth-shim 0.4.0";
const OPTIONS_TYPE = "containerd.runc.v1.Options";
const PROCESS_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Process";
const RESOURCES_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";
/** A process whose keeper died is reported killed: 128 + SIGKILL. */
const KILLED = 128 + 9;

export interface ShimConfig {
  /** "" for a spare shim: it takes the namespace (and its bundle) from its first Create. */
  namespace: string;
  /** The OCI runtime used when the task's options name none. */
  defaultRuntime: string;
  /** The runtime's --root when the options name none; the namespace is appended. */
  runtimeRootBase: string;
  /** Run the default runtime (berth-runc) in-process rather than as a command. */
  linkedDefault: boolean;
  /** The shim's log (the linked runtime logs there too). */
  log: DaemonLogger;
}

/** The runtime a bundle was created with, kept in the bundle so `delete` can clean up later. */
export interface BundleRuntime {
  binary: string;
  root: string;
}

export function runtimeFor(
  options: Options | undefined,
  config: Pick<ShimConfig, "namespace" | "defaultRuntime" | "runtimeRootBase">,
): BundleRuntime {
  return {
    binary: options?.binaryName || config.defaultRuntime,
    root: options?.root || join(config.runtimeRootBase, config.namespace),
  };
}

export function decodeOptions(any: { typeUrl: string; value: Uint8Array } | undefined): Options | undefined {
  if (!any || any.typeUrl === "") return undefined;
  const name = any.typeUrl.slice(any.typeUrl.lastIndexOf("/") + 1);
  if (name !== OPTIONS_TYPE) throw new InvalidArgumentError(`unsupported runtime options type ${any.typeUrl}`);
  return fromBinary(OptionsSchema, any.value);
}

const statusOf: Record<ShimProcess["state"], Status> = {
  created: Status.CREATED,
  running: Status.RUNNING,
  paused: Status.PAUSED,
  stopped: Status.STOPPED,
};

export class TaskService {
  readonly tasks = new Map<string, ShimTask>();
  readonly #config: ShimConfig;
  readonly #events: EventPublisher;
  readonly #onShutdown: () => void;
  /** Every Create: the shim makes sure the task's bundle knows its address (a spare's first). */
  readonly #onTask: (namespace: string, bundle: string) => void;

  constructor(
    config: ShimConfig,
    reaper: Reaper,
    events: EventPublisher,
    onShutdown: () => void,
    onTask: (namespace: string, bundle: string) => void = () => {},
  ) {
    this.#onTask = onTask;
    this.#config = config;
    this.#events = events;
    this.#onShutdown = onShutdown;
    // An orphan of a dead keeper (its container's init, until the kill lands) is the shim's.
    reaper.onExit(() => this.#checkAllOom());
    // A daemon killed during a task's Create or Delete leaves this shim finishing it alone; once
    // restarted, it asks Connect whether the task exists, which must not be answered half-way.
    const { create, delete: remove } = this.impl;
    this.impl.create = (req, ctx) => this.#track(req.id, create(req, ctx));
    this.impl.delete = (req, ctx) => (req.execId === "" ? this.#track(req.id, remove(req, ctx)) : remove(req, ctx));
  }

  /** Creates and deletes of tasks in flight, by task id (see Connect). */
  readonly #inFlight = new Map<string, Promise<unknown>>();

  #track<T>(id: string, op: Promise<T>): Promise<T> {
    const tracked: Promise<T> = op.finally(() => {
      if (this.#inFlight.get(id) === tracked) this.#inFlight.delete(id);
    });
    this.#inFlight.set(id, tracked);
    return tracked;
  }

  #task(id: string): ShimTask {
    const t = this.tasks.get(id);
    if (!t) throw new NotFoundError(`container ${id}: not found`);
    return t;
  }

  #process(id: string, execId: string): ShimProcess {
    const p = this.#task(id).process(execId);
    if (!p) throw new NotFoundError(`process ${execId} of container ${id}: not found`);
    return p;
  }

  readonly impl: Impl<typeof Task> = {
    create: async (req, ctx) => {
      if (req.id === "") throw new InvalidArgumentError("a task needs an id");
      if (this.#config.namespace === "") {
        // A spare shim's first task: it now belongs to this namespace.
        if (ctx.namespace === "") throw new InvalidArgumentError("a spare shim needs the task's namespace");
        this.#config.namespace = ctx.namespace;
      } else if (ctx.namespace !== "" && ctx.namespace !== this.#config.namespace) {
        throw new InvalidArgumentError(`this shim serves namespace ${this.#config.namespace}, not ${ctx.namespace}`);
      }
      this.#onTask(this.#config.namespace, req.bundle);
      // After onTask: a spare's log is its first task's bundle.
      this.#config.log.withTrace(ctx.trace).info("create task", { namespace: this.#config.namespace, id: req.id });
      if (this.tasks.has(req.id)) throw new AlreadyExistsError(`task ${req.id}: already exists`);
      if (req.checkpoint !== "") throw new NotImplementedError("restoring from a checkpoint is not supported");
      const opts = decodeOptions(req.options);
      const rt = runtimeFor(opts, this.#config);
      const bundle = new Bundle(req.bundle);
      writeFileNamed(bundle.runtimeOptions, JSON.stringify(rt), { mode: 0o600 });
      // The keeper starts first: it comes up while berth-runc's code loads and the rootfs is
      // mounted, and none of them waits for another.
      const keeper = Keeper.start(req.bundle);
      keeper.catch(() => {});
      const choice = this.#runtimeChoice(opts, rt);
      const runtime = await this.#runtimeOf(choice, bundle).catch(async (err: unknown) => {
        await (await keeper.catch(() => undefined))?.quit();
        throw err;
      });
      const stdio = { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal };
      const init = new Process(req.id, "", stdio);
      const task = new ShimTask(req.id, this.#config.namespace, req.bundle, runtime, init);
      // Reserve the id while the runtime works, so a second Create is refused.
      this.tasks.set(req.id, task);
      try {
        if (req.rootfs.length > 0) {
          const rootfs = bundle.rootfs;
          // 0711 as containerd's: the mount hides it, but a failed mount leaves it.
          mkdirSync(rootfs, { recursive: true, mode: 0o711 });
          await mountRootfs(
            req.rootfs.map((m) => ({ type: m.type, source: m.source, options: m.options })),
            rootfs,
          );
          task.rootfsMounted = rootfs;
          task.rootfsMounts = req.rootfs.length;
        }
        // Not awaited here: the runtime prepares the container (config, cgroups, plan) while the
        // keeper comes up, and waits for it only to start nsexec or itself.
        const adopted = keeper.then((k) => this.#adoptKeeper(task, k));
        adopted.catch(() => {}); // the spawn reports it
        await this.#spawn(task, init, adopted, (o) => runtime.create(req.id, req.bundle, o, ctx.trace));
        // From here a shim started after this one died can serve the task (task-record.ts).
        task.runtimeChoice = choice;
        try {
          writeTaskRecord(bundle, recordOf(task, choice));
        } catch (err) {
          await this.#unstart(task, init);
          throw err;
        }
      } catch (err) {
        this.tasks.delete(req.id);
        if (task.rootfsMounted) await unmountRootfs(task.rootfsMounted, task.rootfsMounts).catch(() => {});
        await (await keeper.catch(() => undefined))?.quit();
        throw err;
      }
      task.memoryCgroup = memoryCgroupOf(init.pid);
      this.#events.publish(this.#config.namespace, "/tasks/create", TaskCreateSchema, {
        containerId: req.id,
        bundle: req.bundle,
        rootfs: req.rootfs,
        io: stdio,
        checkpoint: req.checkpoint,
        pid: init.pid,
      });
      this.#watchExit(task, init);
      return { pid: init.pid };
    },

    start: async (req, ctx) => {
      const task = this.#task(req.id);
      const p = this.#process(req.id, req.execId);
      if (p.state !== "created") throw new FailedPreconditionError(`process ${p.eventId}: already started`);
      if (req.execId === "") {
        await task.runtime.start(req.id, ctx.trace);
        if (p.state === "created") p.state = "running";
        this.#save(task);
        this.#events.publish(task.namespace, "/tasks/start", TaskStartSchema, { containerId: req.id, pid: p.pid });
        return { pid: p.pid };
      }
      if (task.init.state === "stopped") throw new FailedPreconditionError(`container ${req.id}: not running`);
      const specFile = new Bundle(task.bundle).execSpec(req.execId);
      try {
        if (!task.keeper) throw new FailedPreconditionError(`container ${req.id}: no keeper`);
        await this.#spawn(task, p, task.keeper, (o) =>
          task.runtime.exec(req.id, p.spec ?? "{}", { ...o, specFile }, ctx.trace),
        );
      } finally {
        rmSync(specFile, { force: true });
      }
      if (p.state === "created") p.state = "running";
      this.#save(task);
      this.#events.publish(task.namespace, "/tasks/exec-started", TaskExecStartedSchema, {
        containerId: req.id,
        execId: req.execId,
        pid: p.pid,
      });
      this.#watchExit(task, p);
      return { pid: p.pid };
    },

    delete: async (req, ctx) => {
      const task = this.#task(req.id);
      const p = this.#process(req.id, req.execId);
      if (req.execId !== "") {
        if (p.state === "running" || p.state === "paused") {
          throw new FailedPreconditionError(`exec ${req.execId} is ${p.state}: it must be stopped first`);
        }
        task.execs.delete(req.execId);
        this.#save(task);
        // The keeper forgets it (a new exec may take its id) and its files go.
        await task.keeper?.forget(p.name).catch(() => {});
        const bundle = new Bundle(task.bundle);
        for (const f of [bundle.pidFile(req.execId), bundle.exitFile(req.execId)]) rmSync(f, { force: true });
        return {
          pid: p.pid,
          exitStatus: p.exitStatus,
          exitedAt: p.exitedAt ? timestampFromDate(p.exitedAt) : undefined,
        };
      }
      if (p.state === "running" || p.state === "paused") {
        throw new FailedPreconditionError(`task ${req.id} is ${p.state}: it must be stopped before deletion`);
      }
      if (p.state === "created") {
        // Never started: the runtime kills the waiting init; its exit completes the record.
        await task.runtime.delete(req.id, true, ctx.trace).catch(() => {});
        await Promise.race([p.waitExited(), new Promise((r) => setTimeout(r, 2000))]);
        p.setExited(137, new Date()); // no-op when the exit was recorded
      } else {
        await task.runtime.delete(req.id, false, ctx.trace).catch(async (err) => {
          if (!(err instanceof NotFoundError)) await task.runtime.delete(req.id, true, ctx.trace);
        });
      }
      // Deleted: a shim started after this one died must not serve it again.
      rmSync(new Bundle(task.bundle).taskRecord, { force: true });
      if (task.rootfsMounted) {
        await unmountRootfs(task.rootfsMounted, task.rootfsMounts);
        task.rootfsMounted = undefined;
      }
      // Its processes are gone: the keeper ends (its socket and the bundle's `keeper` file too).
      await task.keeper?.quit();
      // Its binary:// logger has written every line before the delete answers (as containerd's).
      await p.io?.loggerDone();
      this.tasks.delete(req.id);
      const exitedAt = timestampFromDate(p.exitedAt ?? new Date());
      this.#events.publish(task.namespace, "/tasks/delete", TaskDeleteSchema, {
        containerId: req.id,
        pid: p.pid,
        exitStatus: p.exitStatus,
        exitedAt,
        id: req.id,
      });
      return { pid: p.pid, exitStatus: p.exitStatus, exitedAt };
    },

    pids: async (req, ctx) => {
      const task = this.#task(req.id);
      const pids = await task.runtime.ps(req.id, ctx.trace);
      const execByPid = new Map([...task.execs.values()].map((e) => [e.pid, e.execId]));
      return {
        processes: pids.map((pid) => {
          const execId = execByPid.get(pid);
          return {
            pid,
            info: execId
              ? {
                  typeUrl: ProcessDetailsSchema.typeName,
                  value: toBinary(ProcessDetailsSchema, create(ProcessDetailsSchema, { execId })),
                }
              : undefined,
          };
        }),
      };
    },

    pause: async (req, ctx) => {
      const task = this.#task(req.id);
      if (task.init.state !== "running") throw new FailedPreconditionError(`task ${req.id} is ${task.init.state}`);
      await task.runtime.pause(req.id, ctx.trace);
      task.init.state = "paused";
      for (const e of task.execs.values()) if (e.state === "running") e.state = "paused";
      this.#save(task);
      this.#events.publish(task.namespace, "/tasks/paused", TaskPausedSchema, { containerId: req.id });
      return {};
    },

    resume: async (req, ctx) => {
      const task = this.#task(req.id);
      if (task.init.state !== "paused") throw new FailedPreconditionError(`task ${req.id} is ${task.init.state}`);
      await task.runtime.resume(req.id, ctx.trace);
      task.init.state = "running";
      for (const e of task.execs.values()) if (e.state === "paused") e.state = "running";
      this.#save(task);
      this.#events.publish(task.namespace, "/tasks/resumed", TaskResumedSchema, { containerId: req.id });
      return {};
    },

    checkpoint: async () => {
      throw new NotImplementedError("checkpoint is not supported by berth-shim");
    },

    kill: async (req, ctx) => {
      const task = this.#task(req.id);
      const p = this.#process(req.id, req.execId);
      if (p.state === "stopped") throw new NotFoundError(`process ${p.eventId}: process already finished`);
      if (req.execId === "") {
        await task.runtime.kill(req.id, req.signal, req.all, ctx.trace);
      } else {
        // pid 0 would signal the shim's own process group.
        if (p.pid <= 0) throw new FailedPreconditionError(`exec ${req.execId}: not started`);
        try {
          process.kill(p.pid, req.signal);
        } catch (err) {
          throw new NotFoundError(`process ${req.execId}: ${errorMessage(err)}`);
        }
      }
      return {};
    },

    exec: async (req) => {
      const task = this.#task(req.id);
      // containerd's identifier rules: exec ids name files in the bundle.
      validateExecId(req.execId);
      if (task.execs.has(req.execId)) throw new AlreadyExistsError(`exec ${req.execId}: already exists`);
      if (task.init.state === "stopped") throw new FailedPreconditionError(`container ${req.id}: not running`);
      const spec = req.spec;
      if (!spec || spec.typeUrl.replace(/^\//, "") !== PROCESS_TYPE) {
        throw new InvalidArgumentError(`exec ${req.execId}: the spec must be a ${PROCESS_TYPE}`);
      }
      const json = new TextDecoder().decode(spec.value);
      try {
        JSON.parse(json);
      } catch {
        throw new InvalidArgumentError(`exec ${req.execId}: the process spec is not JSON`);
      }
      const stdio = { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal };
      task.execs.set(req.execId, new Process(req.id, req.execId, stdio, json));
      this.#save(task);
      this.#events.publish(task.namespace, "/tasks/exec-added", TaskExecAddedSchema, {
        containerId: req.id,
        execId: req.execId,
      });
      return {};
    },

    resizePty: async (req) => {
      const task = this.#task(req.id);
      const p = this.#process(req.id, req.execId);
      if (!p.io) throw new FailedPreconditionError(`process ${p.eventId}: not started`);
      if (!p.stdio.terminal) throw new InvalidArgumentError(`process ${p.eventId} has no terminal`);
      if (p.state === "stopped") return {};
      await task.keeper?.resize(p.name, req.height, req.width);
      return {};
    },

    closeIO: async (req) => {
      const task = this.#task(req.id);
      const p = this.#process(req.id, req.execId);
      // Ends the keeper's copy into its stdin; one that ended already (EOF, exit) is no error.
      if (req.stdin && p.io && p.stdio.stdin !== "") await task.keeper?.closeIn(p.name).catch(() => {});
      return {};
    },

    update: async (req, ctx) => {
      const task = this.#task(req.id);
      if (!req.resources || req.resources.typeUrl.replace(/^\//, "") !== RESOURCES_TYPE) {
        throw new InvalidArgumentError(`update: resources must be a ${RESOURCES_TYPE}`);
      }
      await task.runtime.update(req.id, new TextDecoder().decode(req.resources.value), ctx.trace);
      return {};
    },

    wait: async (req) => {
      const p = this.#process(req.id, req.execId);
      await p.waitExited();
      return { exitStatus: p.exitStatus, exitedAt: p.exitedAt ? timestampFromDate(p.exitedAt) : undefined };
    },

    stats: async (req) => {
      const task = this.#task(req.id);
      if (task.init.state === "stopped") throw new NotFoundError(`task ${req.id}: not running`);
      return { stats: await statsAny(task.init.pid) };
    },

    state: async (req) => {
      const task = this.#task(req.id);
      const p = this.#process(req.id, req.execId);
      return {
        id: p.eventId,
        bundle: task.bundle,
        pid: p.pid,
        status: statusOf[p.state],
        stdin: p.stdio.stdin,
        stdout: p.stdio.stdout,
        stderr: p.stdio.stderr,
        terminal: p.stdio.terminal,
        exitStatus: p.exitStatus,
        exitedAt: p.exitedAt ? timestampFromDate(p.exitedAt) : undefined,
        execId: req.execId,
      };
    },

    connect: async (req) => {
      // After a Create or Delete in flight has settled: taskPid 0 then says this shim holds no
      // such task (its Create failed or it was deleted), and the daemon cleans up after it.
      await this.#inFlight.get(req.id)?.catch(() => {});
      const t = this.tasks.get(req.id);
      return { shimPid: process.pid, taskPid: t?.init.pid ?? 0, version: SHIM_VERSION };
    },

    shutdown: async () => {
      // A shim with live tasks stays, `now` or not (containerd asks after every delete; a group's
      // shim serves other tasks), as containerd's runc shim does.
      if (this.tasks.size > 0) return {};
      setImmediate(this.#onShutdown);
      return {};
    },
  };

  /** The runtime a task's options ask for: berth-runc linked in, or a binary through its command line. */
  #runtimeChoice(opts: Options | undefined, rt: BundleRuntime): RuntimeChoice {
    return {
      linked: this.#config.linkedDefault && !opts?.binaryName,
      binary: rt.binary,
      root: rt.root,
      noPivotRoot: opts?.noPivotRoot ?? false,
      noNewKeyring: opts?.noNewKeyring ?? false,
      systemdCgroup: opts?.systemdCgroup ?? false,
    };
  }

  async #runtimeOf(c: RuntimeChoice, bundle: Bundle): Promise<ShimRuntime> {
    const flags = { noPivotRoot: c.noPivotRoot, noNewKeyring: c.noNewKeyring, systemdCgroup: c.systemdCgroup };
    // Loaded on first use: a shim that only runs other runtimes never evaluates berth-runc's code.
    if (c.linked) return new (await import("./linked-runtime.ts")).LinkedRuntime(c.root, flags, this.#config.log);
    return new CliRuntime({ binary: c.binary, root: c.root, logFile: bundle.runtimeLog, ...flags });
  }

  /** Rewrites the task's record after a change of state; one that cannot be written is logged. */
  #save(task: ShimTask): void {
    if (!task.runtimeChoice || this.tasks.get(task.id) !== task) return;
    try {
      writeTaskRecord(new Bundle(task.bundle), recordOf(task, task.runtimeChoice));
    } catch (err) {
      this.#config.log.warn("task record not written", { id: task.id, error: errorMessage(err) });
    }
  }

  /**
   * The task's keeper is set: its EXIT events reach their processes, and a keeper that is lost
   * (it died, or broke the protocol) takes its container with it.
   */
  #adoptKeeper(task: ShimTask, keeper: Keeper): Keeper {
    task.keeper = keeper;
    keeper.onExit((e) => {
      task.processNamed(e.name)?.report(e);
      // Any exit may be an OOM kill's, in any container this shim serves.
      this.#checkAllOom();
    });
    void keeper.closed.then((end) => {
      if (end === "lost") void this.#keeperLost(task);
    });
    return keeper;
  }

  /**
   * Serves again a task that a shim before this one created and then died under (its bundle's
   * address names this shim's socket; adopt.ts finds it): the task is rebuilt from its record,
   * its keeper connected and asked what ran meanwhile, and each exit nobody published yet is
   * published now. A keeper that does not answer has died: its container is killed and reported,
   * as for a keeper lost. Resolves the task's id.
   */
  async adopt(bundleDir: string): Promise<string> {
    const bundle = new Bundle(bundleDir);
    const rec = readTaskRecord(bundle);
    if (rec.id !== basename(bundleDir)) throw new InvalidArgumentError(`${bundle.taskRecord}: names task ${rec.id}`);
    if (rec.namespace !== this.#config.namespace) {
      throw new InvalidArgumentError(`${bundle.taskRecord}: namespace ${rec.namespace}, not ${this.#config.namespace}`);
    }
    if (this.tasks.has(rec.id)) throw new AlreadyExistsError(`task ${rec.id}: already served`);
    const runtime = await this.#runtimeOf(rec.runtime, bundle);
    const task = new ShimTask(rec.id, rec.namespace, bundleDir, runtime, adoptedProcess(rec.id, rec.init));
    for (const e of rec.execs) task.execs.set(e.execId, adoptedProcess(rec.id, e));
    task.runtimeChoice = rec.runtime;
    if (rec.rootfsMounts > 0) {
      task.rootfsMounted = bundle.rootfs;
      task.rootfsMounts = rec.rootfsMounts;
    }
    task.oomKills = rec.oomKills;
    this.tasks.set(rec.id, task);
    const started = task.processes().filter((p) => p.pid > 0 && p.state !== "stopped");
    let keeper: Keeper;
    try {
      keeper = this.#adoptKeeper(task, await Keeper.connect(bundleDir));
    } catch (err) {
      this.#config.log.warn("keeper gone", { namespace: task.namespace, id: task.id, error: errorMessage(err) });
      await this.#keeperLost(task);
      return rec.id;
    }
    // A keeper lost during LIST is handled as any keeper lost.
    const listed = await keeper.list().catch(() => undefined);
    if (!listed) return rec.id;
    const byName = new Map(listed.map((r) => [r.name, r]));
    for (const p of started) {
      const r = byName.get(p.name);
      if (r?.state === "exited" && r.exitedAt) {
        p.report({ name: p.name, pid: r.pid, status: r.status, exitedAt: r.exitedAt });
      } else if (!r || r.state === "failed") {
        // Not known to its keeper (or its spawn failed): nothing of it runs.
        p.report({ name: p.name, pid: p.pid, status: KILLED, exitedAt: new Date() });
      }
      this.#watchExit(task, p);
    }
    if (task.init.state !== "stopped") {
      task.memoryCgroup = memoryCgroupOf(task.init.pid);
      await this.#reconcileInitState(task);
    }
    return rec.id;
  }

  /**
   * The record is written after each change of state, so a shim that died between the runtime's
   * start (or pause, or resume) and its record write left the state before it: the runtime says
   * which it is now.
   */
  async #reconcileInitState(task: ShimTask): Promise<void> {
    const now = await task.runtime.status(task.id).catch(() => undefined);
    const p = task.init;
    if ((now === "created" || now === "running" || now === "paused") && p.state !== "stopped" && p.state !== now) {
      this.#config.log.info("adopted task's state corrected", { id: task.id, recorded: p.state, runtime: now });
      p.state = now;
      this.#save(task);
    }
  }

  /**
   * A keeper whose connection ended without QUIT: its container is killed (the keeper held its
   * stdio and would have reported its exits), and every started process not yet exited is
   * reported exited, killed. The task stays, to be deleted as any stopped task.
   */
  async #keeperLost(task: ShimTask): Promise<void> {
    if (this.tasks.get(task.id) !== task) return;
    this.#config.log.warn("keeper lost: killing the container", { namespace: task.namespace, id: task.id });
    await task.runtime.kill(task.id, 9, true).catch(() => {});
    const now = new Date();
    const bundle = new Bundle(task.bundle);
    for (const p of task.processes()) {
      // An exit the keeper recorded before it went is the process's own.
      if (p.pid > 0) this.#exited(task, p, readExitFile(bundle, p.execId) ?? { status: KILLED, exitedAt: now });
    }
  }

  /**
   * Opens the process's stdio and has the runtime's create/exec started by the task's keeper,
   * which reads the pid file once the runtime exits and watches that process from then on; the
   * keeper then takes the stdio. Sets the process's pid. Its exit may be reported before this
   * returns: watchExit() publishes it once the caller has published the start.
   */
  async #spawn(
    task: ShimTask,
    p: ShimProcess,
    keeper: Keeper | Promise<Keeper>,
    run: (o: SpawnOptions) => Promise<void>,
  ): Promise<void> {
    const io = await ProcessIO.open(p.stdio, { containerId: task.id, namespace: task.namespace });
    const bundle = new Bundle(task.bundle);
    const pidFile = bundle.pidFile(p.execId);
    for (const f of [pidFile, bundle.exitFile(p.execId)]) rmSync(f, { force: true });
    const pty = io.consoleSocket ? io.acceptConsole() : undefined;
    const launcher = new KeeperLauncher(keeper, p.name, {
      pidFile: pidFileName(p.execId),
      exitFile: exitFileName(p.execId),
    });
    let started = false;
    try {
      await run({ pidFile, consoleSocket: io.consoleSocket, stdio: io.fds, launcher });
      started = true;
      const ran = await launcher.ran();
      if (ran.mainPid <= 0) throw new BerthError("internal", `the runtime wrote no pid to ${pidFile}`);
      p.pid = ran.mainPid;
      await pty;
      await io.handOver(await keeper, p.name);
    } catch (err) {
      pty?.catch(() => {});
      await io.close();
      // A process the runtime started must not outlive the call that failed (nobody would know it).
      if (started) await this.#unstart(task, p);
      // The keeper forgets what it spawned (a failed or half-started process): the next Start may
      // use the name again. None spawned: nothing to forget.
      await Promise.resolve(keeper)
        .then((k) => k.forget(p.name))
        .catch(() => {});
      throw err;
    }
    p.io = io;
    if (p.execId !== "") rmSync(pidFile, { force: true });
  }

  /** Removes what a started create or exec left when the rest of its call failed. */
  async #unstart(task: ShimTask, p: ShimProcess): Promise<void> {
    if (p.execId === "") await task.runtime.delete(task.id, true).catch(() => {});
    else if (p.pid > 0) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {}
    }
    p.pid = 0;
  }

  /** Publishes the process's exit once its keeper reports it. */
  #watchExit(task: ShimTask, p: ShimProcess): void {
    void p.reported.then((e) => this.#exited(task, p, e));
  }

  #exited(task: ShimTask, p: ShimProcess, e: { status: number; exitedAt: Date }): void {
    if (p.state === "stopped") return;
    if (p.execId === "") this.#checkOom(task);
    p.setExited(e.status, e.exitedAt);
    void p.io?.close();
    this.#events.publish(task.namespace, "/tasks/exit", TaskExitSchema, {
      containerId: task.id,
      id: p.eventId,
      pid: p.pid,
      exitStatus: e.status,
      exitedAt: timestampFromDate(e.exitedAt),
    });
    this.#save(task);
  }

  #checkAllOom(): void {
    for (const t of this.tasks.values()) this.#checkOom(t);
  }

  /** Publishes /tasks/oom when the container's memory cgroup counted a new OOM kill. */
  #checkOom(task: ShimTask): void {
    if (!task.memoryCgroup) return;
    let kills: number;
    try {
      const m = /^oom_kill (\d+)$/m.exec(readFileSync(join(task.memoryCgroup, "memory.oom_control"), "utf8"));
      kills = m ? Number(m[1]) : 0;
    } catch {
      return;
    }
    if (kills > task.oomKills) {
      task.oomKills = kills;
      this.#events.publish(task.namespace, "/tasks/oom", TaskOOMSchema, { containerId: task.id });
    }
  }
}

/** A process as a task's record keeps it; its stdio, when started, is its keeper's. */
function adoptedProcess(containerId: string, r: ProcessRecord): ShimProcess {
  const p = new Process(containerId, r.execId, r.stdio, r.spec);
  p.pid = r.pid;
  if (r.exit) p.setExited(r.exit.status, new Date(r.exit.at));
  else p.state = r.state;
  if (r.pid > 0) p.io = ProcessIO.handedOver(r.stdio);
  return p;
}

/** The v1 memory cgroup directory of a process, if it has one. */
function memoryCgroupOf(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    for (const line of text.split("\n")) {
      const [, controllers, path] = line.split(":");
      if (controllers?.split(",").includes("memory") && path !== undefined) {
        const dir = join("/sys/fs/cgroup/memory", path);
        return existsSync(dir) ? dir : undefined;
      }
    }
  } catch {}
  return undefined;
}
