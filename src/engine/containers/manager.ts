// The containers berthd runs: each one's record (store.ts), its name (names.ts), and its life
// over containerd's API (src/client): create (image resolved, snapshot and containerd record with
// the spec from buildSpec), start (a task with fifos read into the log and attached clients),
// stop, kill, restart, wait, rename, remove; exits from the event stream (exits.ts). State lives
// on disk, so a restarted berthd finds its containers again and reconciles them with containerd's
// tasks: one still running is running, one gone is exited.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, release } from "node:os";
import { join } from "node:path";
import type { ContainerdConnection } from "../../client/connection.ts";
import type { ContainerRuntime } from "../../client/containers.ts";
import { FifoSet } from "../../client/fifos.ts";
import { resolveImage } from "../../client/rootfs.ts";
import { signalNumber } from "../../client/tasks.ts";
import { runcOptionsAny } from "../../client/type-urls.ts";
import {
  BerthError,
  errorMessage,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from "../../common/errors.ts";
import { execCollect } from "../../common/exec.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { withTempMount } from "../../common/mount/mounter.ts";
import { makeDir } from "../../common/secure-fs.ts";
import { formatReference, parseReference } from "../../oci/registry/reference.ts";
import { ApiError } from "../api/api-errors.ts";
import { ExitMonitor } from "./exits.ts";
import { hostFileMounts, writeHostFiles } from "./host-files.ts";
import { imageConfigOf } from "./image-config.ts";
import { JsonLogWriter } from "./json-log.ts";
import { NameIndex, normalizeName } from "./names.ts";
import {
  type ContainerRecord,
  createdState,
  exited,
  newContainerId,
  paused,
  removing,
  started,
  startFailed,
} from "./record.ts";
import { resolveContainer } from "./resolve.ts";
import { buildSpec, checkCreate, SPEC_OCI_VERSION, specJson } from "./spec/build.ts";
import { decodeCreateRequest } from "./spec/decode.ts";
import { mergeConfig } from "./spec/merge.ts";
import { DEFAULT_SHM_SIZE } from "./spec/mounts.ts";
import { mergeCommand, processArgs } from "./spec/process.ts";
import type { HostFacts } from "./spec/resources.ts";
import { goArch } from "./spec/seccomp.ts";
import { rootfsUserDb } from "./spec/user-db.ts";
import { type Attachment, Attachments, MAX_PENDING_STDIN, TaskStdio } from "./stdio.ts";
import { ContainerStore, readBounded } from "./store.ts";
import { parsePs, psArgs, type TopBody } from "./top.ts";
import { familiarImage } from "./views.ts";

export interface RuntimeEntry {
  path: string;
}

export interface ManagerOptions {
  conn: ContainerdConnection;
  dataRoot: string;
  execRoot: string;
  runtimes: Readonly<Record<string, RuntimeEntry>>;
  defaultRuntime: string;
  log: DaemonLogger;
  /** The host's tini for HostConfig.Init (docker-init); none: Init is refused. */
  initBinary?: string;
}

/** The runtime berthd runs linked into berth-shim (no binary named). */
const LINKED_RUNTIME = "berth-runc";
const SHIM = "io.containerd.berth.v1";
/** How long an exited task's output may take to drain into the log before the fifos close. */
const DRAIN_MS = 2_000;
/** The same for an exit found while reconciling (its output is in the pipes already). */
const FOUND_DRAIN_MS = 300;
/** How long start-up waits for the event subscription to be live. */
const MONITOR_START_MS = 10_000;
/** How long a SIGKILLed container may take to be reported exited. */
const KILL_WAIT_MS = 30_000;

interface RunningTask {
  /** Undefined for a task found running at start-up (its fifos were berthd's previous ones). */
  stdio: TaskStdio | undefined;
  /** Resolves true once started, false when the start failed. */
  started: Promise<boolean>;
  oom: boolean;
}

interface Live {
  record: ContainerRecord;
  attachments: Attachments;
  task: RunningTask | undefined;
  exitWaiters: Set<(code: number) => void>;
  removeWaiters: Set<(code: number) => void>;
  removing: boolean;
  pendingStdin: Buffer[];
  pendingStdinBytes: number;
  /** The attached client ended stdin before the task had one: closed once it starts. */
  stdinEnded: boolean;
  /** Operations on one container run one at a time. */
  queue: Promise<unknown>;
}

export type WaitCondition = "not-running" | "next-exit" | "removed";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The spec's host facts, read once. */
export function specHostFacts(): HostFacts {
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const read = (p: string) => {
    try {
      return readBounded(p, 64 * 1024).trim();
    } catch {
      return "";
    }
  };
  const [major, minor] = release()
    .split(".")
    .map((n) => Number.parseInt(n, 10));
  return {
    cpuCount: availableParallelism(),
    cpusetCpus: v2 ? read("/sys/fs/cgroup/cpuset.cpus.effective") : read("/sys/fs/cgroup/cpuset/cpuset.cpus"),
    cpusetMems: v2 ? read("/sys/fs/cgroup/cpuset.mems.effective") : read("/sys/fs/cgroup/cpuset/cpuset.mems"),
    cgroupVersion: v2 ? 2 : 1,
    lastCap: Number(read("/proc/sys/kernel/cap_last_cap")) || 40,
    kernel: [major ?? 0, minor ?? 0],
    goArch: goArch(),
  };
}

/**
 * The spec as containerd stores it: JSON with RLIM_INFINITY written exactly (a plain value
 * would turn the uint64 into an inexact double).
 */
function containerdSpec(spec: Parameters<typeof specJson>[0]): unknown {
  const raw = (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON;
  return JSON.parse(specJson(spec), (_k, v: unknown, ctx?: { source?: string }) =>
    typeof v === "number" && !Number.isSafeInteger(v) && Number.isInteger(v) && ctx?.source ? raw(ctx.source) : v,
  );
}

export class ContainerManager {
  readonly #conn: ContainerdConnection;
  readonly #opts: ManagerOptions;
  readonly #log: DaemonLogger;
  readonly #store: ContainerStore;
  readonly #names = new NameIndex();
  readonly #live = new Map<string, Live>();
  readonly #host = specHostFacts();
  readonly #fifoParent: string;
  readonly #monitor: ExitMonitor;

  constructor(opts: ManagerOptions) {
    this.#opts = opts;
    this.#conn = opts.conn;
    this.#log = opts.log;
    this.#store = new ContainerStore(opts.dataRoot);
    this.#fifoParent = join(opts.execRoot, "fifos");
    makeDir(this.#fifoParent, 0o700);
    this.#monitor = new ExitMonitor(
      this.#conn.events,
      this.#conn.namespace,
      {
        exit: (id, status, at) => void this.#onExit(id, status, at),
        oom: (id) => {
          const t = this.#live.get(id)?.task;
          if (t) t.oom = true;
        },
        live: () => this.#reconcile(),
      },
      this.#log,
    );
  }

  /** Loads the records on disk and subscribes to exits; then what ran is reconciled. */
  async open(): Promise<void> {
    const records = this.#store
      .loadAll((id, why) => this.#log.warn("container record skipped", { id, why }))
      // The oldest record holds a name two claim; the same everywhere, whatever the dir order.
      .sort((a, b) => a.Created.localeCompare(b.Created) || a.ID.localeCompare(b.ID));
    for (const record of records) {
      try {
        this.#names.reserve(record.Name, record.ID);
      } catch (err) {
        // Two records with one name (a damaged data root): the second is left out, not fatal.
        this.#log.warn("container record skipped", { id: record.ID, why: errorMessage(err) });
        continue;
      }
      this.#live.set(record.ID, newLive(record));
    }
    // Fifos of containers that are not running any more (berthd went away before their exit).
    for (const e of readdirSync(this.#fifoParent)) {
      if (!this.#live.get(e.slice(0, 64))?.record.State.Running) {
        rmSync(join(this.#fifoParent, e), { recursive: true, force: true });
      }
    }
    // Containers run without it too (their exits are then seen once it is live): a containerd
    // slow to answer must not hold berthd's start-up.
    if (!(await within(this.#monitor.start(), MONITOR_START_MS))) {
      this.#log.warn("containerd's event stream is not live yet; exits are reconciled once it is");
    }
  }

  async close(): Promise<void> {
    await this.#monitor.stop();
  }

  /** Every container (list, counts). */
  all(): ContainerRecord[] {
    return [...this.#live.values()].map((l) => l.record);
  }

  get(ref: string): ContainerRecord {
    return this.#find(ref).record;
  }

  #find(ref: string): Live {
    return resolveContainer(
      [...this.#live.values()].map((l) => ({ ID: l.record.ID, Name: l.record.Name, live: l })),
      ref,
      (name) => {
        const id = this.#names.holder(name);
        const live = id === undefined ? undefined : this.#live.get(id);
        return live ? { ID: id!, Name: name, live } : undefined;
      },
    ).live;
  }

  #serial<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    const run = live.queue.then(fn, fn);
    live.queue = run.catch(() => {});
    return run;
  }

  #save(live: Live): void {
    this.#store.save(live.record);
  }

  #runtime(name: string): ContainerRuntime {
    const rt = this.#opts.runtimes[name];
    if (!rt) throw new InvalidArgumentError(`unknown or invalid runtime name: ${name}`);
    if (name === LINKED_RUNTIME) return { name: SHIM };
    return { name: SHIM, options: runcOptionsAny({ binaryName: rt.path }) };
  }

  /** POST /containers/create. */
  async create(body: unknown, nameParam: string | null): Promise<{ Id: string; Warnings: string[] }> {
    const { config, hostConfig } = decodeCreateRequest(body);
    checkCreate(config, hostConfig, this.#host, this.#opts.dataRoot);
    // dockerd's defaults, kept in the record as it keeps them (inspect shows them).
    hostConfig.IpcMode ||= "private";
    hostConfig.CgroupnsMode ||= this.#host.cgroupVersion === 2 ? "private" : "host";
    if (hostConfig.ShmSize <= 0) hostConfig.ShmSize = DEFAULT_SHM_SIZE;
    hostConfig.LogConfig.Type ||= "json-file";
    if (config.Image === "") throw new InvalidArgumentError("No image specified");
    const ref = parseReference(config.Image);
    const imageName = formatReference(ref);
    const runtimeName = hostConfig.Runtime || this.#opts.defaultRuntime;
    const runtime = this.#runtime(runtimeName);
    const name = nameParam ? normalizeName(nameParam) : this.#names.randomName();
    const id = newContainerId();
    this.#names.reserve(name, id);
    let dir: string | undefined;
    let record: ContainerRecord | undefined;
    try {
      let image: Awaited<ReturnType<typeof resolveImage>>;
      try {
        const ports = this.#conn.remote.ports();
        image = await resolveImage(ports.images, ports.content, imageName);
      } catch (err) {
        if (err instanceof NotFoundError) throw new NotFoundError(`No such image: ${familiarImage(imageName)}`);
        throw err;
      }
      const imageConfig = imageConfigOf(image.config.config);
      const merged = mergeConfig(config, imageConfig);
      const args = processArgs(mergeCommand(merged, {}));
      const hostname = config.Hostname || id.slice(0, 12);
      merged.Hostname = hostname;
      dir = this.#store.makeDir(id);
      const files = writeHostFiles(dir, hostname, hostConfig);
      await this.#conn.newContainer({
        id,
        image: imageName,
        labels: { ...merged.Labels },
        runtime,
        spec: { ociVersion: SPEC_OCI_VERSION },
      });
      let warnings: string[];
      try {
        const mounts = await this.#conn.snapshots().mounts(id);
        const built = await withTempMount(mounts, true, async (root) =>
          buildSpec({
            config: merged,
            hostConfig,
            image: imageConfig,
            hostname,
            rootfs: "rootfs",
            users: rootfsUserDb(root),
            host: this.#host,
            cgroupsPath: `/${this.#conn.namespace}/${id}`,
            ...(this.#opts.initBinary === undefined ? {} : { initBinary: this.#opts.initBinary }),
            extraMounts: hostFileMounts(files),
            daemonRoot: this.#opts.dataRoot,
          }),
        );
        warnings = built.warnings;
        await this.#conn.containers.update(id, { spec: containerdSpec(built.spec) });
      } catch (err) {
        await this.#conn.removeContainer(id).catch(() => {});
        throw err;
      }
      record = {
        ID: id,
        Name: name,
        Created: new Date().toISOString(),
        Path: args[0]!,
        Args: args.slice(1),
        Config: merged,
        HostConfig: hostConfig,
        Image: image.manifestDigest,
        ImageName: imageName,
        State: createdState(),
        Runtime: runtimeName,
        RestartCount: 0,
        LogPath: join(dir, `${id}-json.log`),
        ResolvConfPath: files.resolvConf,
        HostnamePath: files.hostname,
        HostsPath: files.hosts,
      };
      this.#store.save(record);
      this.#live.set(id, newLive(record));
      return { Id: id, Warnings: warnings };
    } catch (err) {
      if (!record) {
        this.#names.release(name, id);
        if (dir) this.#store.remove(id);
      }
      throw err;
    }
  }

  /** POST /containers/{id}/start; 304 when it runs already. */
  start(ref: string): Promise<void> {
    const live = this.#find(ref);
    return this.#serial(live, () => this.#start(live));
  }

  async #start(live: Live): Promise<void> {
    if (live.removing)
      throw new FailedPreconditionError(`container ${live.record.ID} is marked for removal and cannot be started`);
    if (live.record.State.Running || live.task)
      throw new ApiError(304, "container already started", "failed-precondition");
    const r = live.record;
    const fifos = await FifoSet.create(this.#fifoParent, r.ID, { stdin: r.Config.OpenStdin, terminal: r.Config.Tty });
    const stdio = new TaskStdio(fifos, new JsonLogWriter(r.LogPath), live.attachments);
    let markStarted!: (ok: boolean) => void;
    const task: RunningTask = { stdio, started: new Promise((res) => (markStarted = res)), oom: false };
    live.task = task;
    for (const b of live.pendingStdin) stdio.writeStdin(b);
    live.pendingStdin = [];
    live.pendingStdinBytes = 0;
    try {
      const rootfs = await this.#conn.snapshots().mounts(r.ID);
      const { pid } = await this.#conn.tasks.create({ containerId: r.ID, rootfs, io: fifos.io });
      await this.#conn.tasks.start(r.ID);
      live.record = { ...live.record, State: started(live.record.State, pid, new Date()) };
      this.#save(live);
      markStarted(true);
      if (live.stdinEnded) {
        live.stdinEnded = false;
        await this.#endStdin(live.record.ID, stdio);
      }
    } catch (err) {
      if (live.task === task) live.task = undefined;
      markStarted(false);
      await this.#conn.tasks.delete(r.ID).catch(() => {});
      await stdio.close(0);
      live.record = { ...live.record, State: startFailed(live.record.State, errorMessage(err), new Date()) };
      this.#save(live);
      live.attachments.endAll();
      // As dockerd: an auto-removed container that cannot start goes (`docker run --rm` waits for it).
      if (live.record.HostConfig.AutoRemove) {
        void this.#serial(live, () => this.#remove(live)).catch((e: unknown) =>
          this.#log.warn("removing a container that failed to start failed", { id: r.ID, error: errorMessage(e) }),
        );
      }
      throw err instanceof BerthError && err.kind !== "not-found"
        ? err
        : new BerthError("internal", `failed to start container ${r.ID}: ${errorMessage(err)}`);
    }
  }

  /** The init process exited: record it, wake waiters, end attachments, auto-remove. */
  async #onExit(id: string, status: number, at: Date | undefined, drainMs = DRAIN_MS): Promise<void> {
    const live = this.#live.get(id);
    const task = live?.task;
    if (!live || !task) return;
    live.task = undefined;
    if (!(await task.started)) return;
    let code = status;
    let when = at ?? new Date();
    for (let attempt = 0; ; attempt++) {
      try {
        const d = await this.#conn.tasks.delete(id);
        code = d.exitStatus;
        if (d.exitedAt && d.exitedAt.getTime() > 0) when = d.exitedAt;
        break;
      } catch (err) {
        if (err instanceof NotFoundError) break;
        if (attempt >= 20) {
          this.#log.warn("deleting an exited task failed", { id, error: errorMessage(err) });
          break;
        }
        await sleep(100);
      }
    }
    await task.stdio?.close(drainMs);
    live.record = { ...live.record, State: exited(live.record.State, code, when, task.oom) };
    this.#save(live);
    live.attachments.endAll();
    const waiters = [...live.exitWaiters];
    live.exitWaiters.clear();
    for (const w of waiters) w(code);
    if (live.record.HostConfig.AutoRemove && !live.removing) {
      await this.#serial(live, () => this.#remove(live)).catch((err: unknown) =>
        this.#log.warn("auto-removing a container failed", { id, error: errorMessage(err) }),
      );
    }
  }

  /** Containers running by their records whose tasks may have ended while nobody listened. */
  async #reconcile(): Promise<void> {
    // Exits found here are recorded before this returns (so before berthd serves, at start-up);
    // what their pipes still hold is there already, so their output is not waited for long.
    const found: Promise<void>[] = [];
    for (const live of this.#live.values()) {
      if (!live.record.State.Running) continue;
      const id = live.record.ID;
      live.task ??= { stdio: this.#reopenStdio(live), started: Promise.resolve(true), oom: false };
      try {
        const st = await this.#conn.tasks.get(id);
        if (st.status === "stopped") found.push(this.#onExit(id, st.exitStatus, st.exitedAt, FOUND_DRAIN_MS));
      } catch (err) {
        // No task at all: it ended and was cleaned up without berthd; its status is lost.
        if (err instanceof NotFoundError) found.push(this.#onExit(id, 255, undefined, FOUND_DRAIN_MS));
        else throw err;
      }
    }
    await Promise.all(found);
  }

  /**
   * The stdio of a task that ran on while berthd was away: its fifos (still held by the shim)
   * opened again, so its output goes on into the log and to attached clients, and what the pipes
   * held meanwhile is read.
   */
  #reopenStdio(live: Live): TaskStdio | undefined {
    const id = live.record.ID;
    const dir = readdirSync(this.#fifoParent).find((e) => e.startsWith(`${id}-`));
    if (dir === undefined) return undefined;
    try {
      const fifos = FifoSet.reopen(join(this.#fifoParent, dir), live.record.Config.Tty);
      return new TaskStdio(fifos, new JsonLogWriter(live.record.LogPath), live.attachments);
    } catch (err) {
      this.#log.warn("the fifos of a running container could not be opened again", { id, error: errorMessage(err) });
      return undefined;
    }
  }

  /** A promise of the next exit of `live` (registered now, before anything is sent). */
  #nextExit(live: Live): Promise<number> {
    return new Promise((resolve) => live.exitWaiters.add(resolve));
  }

  /** POST /containers/{id}/stop: the stop signal, SIGKILL after the timeout; 304 when not running. */
  stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const live = this.#find(ref);
    return this.#serial(live, () => this.#stop(live, opts));
  }

  async #stop(live: Live, opts: { timeout?: number; signal?: string }): Promise<void> {
    const r = live.record;
    if (!r.State.Running) throw new ApiError(304, "container already stopped", "failed-precondition");
    const signal = signalNumber(opts.signal || r.Config.StopSignal || "SIGTERM");
    const timeout = opts.timeout ?? r.Config.StopTimeout ?? 10;
    const exit = this.#nextExit(live);
    // A frozen process acts on no signal: thawed first, as a paused container is stopped.
    await this.#thaw(live);
    await this.#signal(r.ID, signal);
    if (await within(exit, timeout < 0 ? undefined : timeout * 1000)) return;
    await this.#signal(r.ID, 9);
    if (!(await within(exit, KILL_WAIT_MS))) {
      throw new BerthError("internal", `container ${r.ID} did not exit ${KILL_WAIT_MS / 1000} s after SIGKILL`);
    }
  }

  async #signal(id: string, signal: number): Promise<void> {
    try {
      await this.#conn.tasks.kill(id, signal);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  /** POST /containers/{id}/kill. */
  kill(ref: string, signal: string | null): Promise<void> {
    const live = this.#find(ref);
    let n: number;
    try {
      n = signalNumber(signal || "SIGKILL");
    } catch {
      throw new InvalidArgumentError(`Invalid signal: ${signal}`);
    }
    return this.#serial(live, async () => {
      const r = live.record;
      if (!r.State.Running) {
        throw new FailedPreconditionError(`Cannot kill container: ${ref}: Container ${r.ID} is not running`);
      }
      const exit = n === 9 ? this.#nextExit(live) : undefined;
      await this.#signal(r.ID, n);
      // SIGKILL reaches a frozen process once it is thawed.
      if (n === 9) await this.#thaw(live);
      if (exit) await within(exit, KILL_WAIT_MS);
    });
  }

  /** POST /containers/{id}/restart. */
  restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    const live = this.#find(ref);
    return this.#serial(live, async () => {
      if (live.record.State.Running) await this.#stop(live, opts);
      await this.#start(live);
    });
  }

  /**
   * POST /containers/{id}/wait: resolves with the exit code when `condition` holds. The caller
   * may give up waiting (`cancel`).
   */
  wait(ref: string, condition: WaitCondition): { result: Promise<number>; cancel(): void } {
    const live = this.#find(ref);
    const running = live.record.State.Running || live.task !== undefined;
    if (condition === "not-running" && !running) {
      return { result: Promise.resolve(live.record.State.ExitCode), cancel: () => {} };
    }
    const set = condition === "removed" ? live.removeWaiters : live.exitWaiters;
    let waiter!: (code: number) => void;
    const result = new Promise<number>((resolve) => {
      waiter = resolve;
      set.add(resolve);
    });
    return { result, cancel: () => set.delete(waiter) };
  }

  /** DELETE /containers/{id}. */
  async remove(ref: string, opts: { force: boolean }): Promise<void> {
    const live = this.#find(ref);
    if (live.removing) throw new FailedPreconditionError(`removal of container ${ref} is already in progress`);
    if (live.record.State.Running) {
      if (!opts.force) {
        throw new FailedPreconditionError(
          `cannot remove container "${live.record.Name}": container is running: stop the container before removing or force remove`,
        );
      }
      const exit = this.#nextExit(live);
      await this.#signal(live.record.ID, 9);
      await this.#thaw(live).catch(() => {});
      await within(exit, KILL_WAIT_MS);
    }
    // An auto-removed container may be gone by now.
    if (!this.#live.has(live.record.ID)) return;
    await this.#serial(live, () => this.#remove(live));
  }

  async #remove(live: Live): Promise<void> {
    if (live.removing || !this.#live.has(live.record.ID)) return;
    if (live.record.State.Running) {
      throw new FailedPreconditionError(`cannot remove container "${live.record.Name}": container is running`);
    }
    const id = live.record.ID;
    const before = live.record.State;
    live.removing = true;
    live.record = { ...live.record, State: removing(before) };
    try {
      await this.#conn.tasks.delete(id).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err;
      });
      await this.#conn.removeContainer(id).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) throw err;
      });
    } catch (err) {
      live.removing = false;
      live.record = { ...live.record, State: before };
      throw err;
    }
    this.#store.remove(id);
    this.#names.release(live.record.Name, id);
    this.#live.delete(id);
    live.attachments.endAll();
    const code = before.ExitCode;
    for (const w of [...live.exitWaiters, ...live.removeWaiters]) w(code);
    live.exitWaiters.clear();
    live.removeWaiters.clear();
  }

  /** POST /containers/{id}/rename. */
  rename(ref: string, newName: string): void {
    if (newName === "") throw new InvalidArgumentError("Neither old nor new names may be empty");
    const live = this.#find(ref);
    const name = normalizeName(newName);
    const old = live.record.Name;
    if (name === old) throw new InvalidArgumentError("Renaming a container with the same name as its current name");
    this.#names.reserve(name, live.record.ID);
    live.record = { ...live.record, Name: name };
    try {
      this.#save(live);
    } catch (err) {
      this.#names.release(name, live.record.ID);
      live.record = { ...live.record, Name: old };
      throw err;
    }
    this.#names.release(old, live.record.ID);
  }

  /** POST /containers/{id}/pause: the task frozen (cgroup freezer). */
  pause(ref: string): Promise<void> {
    const live = this.#find(ref);
    return this.#serial(live, async () => {
      const r = live.record;
      if (!r.State.Running) throw new FailedPreconditionError(`Container ${r.ID} is not running`);
      if (r.State.Paused) throw new FailedPreconditionError(`Container ${r.ID} is already paused`);
      await this.#conn.tasks.pause(r.ID);
      live.record = { ...live.record, State: paused(live.record.State, true) };
      this.#save(live);
    });
  }

  /** POST /containers/{id}/unpause. */
  unpause(ref: string): Promise<void> {
    const live = this.#find(ref);
    return this.#serial(live, async () => {
      const r = live.record;
      if (!r.State.Paused) throw new FailedPreconditionError(`Container ${r.ID} is not paused`);
      await this.#thaw(live);
    });
  }

  async #thaw(live: Live): Promise<void> {
    if (!live.record.State.Paused) return;
    await this.#conn.tasks.resume(live.record.ID);
    live.record = { ...live.record, State: paused(live.record.State, false) };
    this.#save(live);
  }

  /** GET /containers/{id}/top: the host's ps reduced to the container's processes. */
  async top(ref: string, rawArgs: string | null): Promise<TopBody> {
    const args = psArgs(rawArgs);
    const live = this.#find(ref);
    if (!live.record.State.Running) {
      throw new FailedPreconditionError(`Container ${live.record.ID} is not running`);
    }
    const pids = new Set((await this.#conn.tasks.pids(live.record.ID)).map((p) => p.pid));
    const ps = await execCollect("ps", args, { maxStdout: 16 << 20 });
    if (ps.code !== 0) throw new BerthError("internal", `ps failed: ${ps.stderr.trim()}`);
    return parsePs(ps.stdout.toString("utf8"), pids);
  }

  /** POST /containers/{id}/resize. */
  async resize(ref: string, height: number, width: number): Promise<void> {
    const live = this.#find(ref);
    if (!live.record.State.Running) {
      throw new FailedPreconditionError(`Container ${live.record.ID} is not running`);
    }
    await this.#conn.tasks.resizePty(live.record.ID, { width, height });
  }

  /** Attaches a client to the container's output (and stdin); the detach function. */
  attach(ref: string, a: Attachment): () => void {
    const live = this.#find(ref);
    // A new client's stdin: an end seen from an earlier one no longer counts.
    if (a.stdin) live.stdinEnded = false;
    return live.attachments.add(a);
  }

  /** Bytes from an attached client for the container's stdin (kept, bounded, until it starts). */
  writeStdin(id: string, data: Buffer): void {
    const live = this.#live.get(id);
    if (!live?.record.Config.OpenStdin) return;
    const stdio = live.task?.stdio;
    if (stdio) {
      stdio.writeStdin(data);
      return;
    }
    if (live.pendingStdinBytes + data.length > MAX_PENDING_STDIN) return;
    live.pendingStdin.push(data);
    live.pendingStdinBytes += data.length;
  }

  /**
   * The attached client ended its stdin: with StdinOnce the process sees EOF, but not with a TTY
   * (as dockerd): there the client going away is a detach (docker's ctrl-p ctrl-q), and the
   * container runs on.
   */
  async closeStdin(id: string): Promise<void> {
    const live = this.#live.get(id);
    if (!live?.record.Config.StdinOnce || live.record.Config.Tty) return;
    const task = live.task;
    if (!task?.stdio || !(await task.started)) {
      live.stdinEnded = true;
      return;
    }
    await this.#endStdin(id, task.stdio);
  }

  async #endStdin(id: string, stdio: TaskStdio): Promise<void> {
    await stdio.fifos.closeStdin();
    await this.#conn.tasks.closeStdin(id).catch(() => {});
  }

  isRunning(id: string): boolean {
    const live = this.#live.get(id);
    return live !== undefined && (live.record.State.Running || live.task !== undefined);
  }

  counts(): { containers: number; running: number; paused: number; stopped: number } {
    let running = 0;
    let pausedN = 0;
    for (const l of this.#live.values()) {
      if (l.record.State.Paused) pausedN++;
      else if (l.record.State.Running) running++;
    }
    const containers = this.#live.size;
    return { containers, running, paused: pausedN, stopped: containers - running - pausedN };
  }
}

function newLive(record: ContainerRecord): Live {
  return {
    record,
    attachments: new Attachments(),
    task: undefined,
    exitWaiters: new Set(),
    removeWaiters: new Set(),
    removing: false,
    pendingStdin: [],
    pendingStdinBytes: 0,
    stdinEnded: false,
    queue: Promise.resolve(),
  };
}

/** Whether `p` settles within `ms` (undefined: wait for it). */
async function within(p: Promise<unknown>, ms: number | undefined): Promise<boolean> {
  if (ms === undefined) {
    await p;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => true),
    new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms))),
  ]);
  clearTimeout(timer);
  return r;
}
