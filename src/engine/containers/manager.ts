// ContainerManager: the one object berthd's routes, exec, stats, archive and daemon use for
// containers. A thin facade: the state is table.ts's, each verb lives in its own module (create,
// start, lifecycle, remove, streams), exits and reconciliation after a restart in
// exit-handling.ts, the restart policy and health check glue in supervision.ts. Here: start-up
// (records loaded, names reserved, the exit stream subscribed), and the small reads and verbs
// (get, list, wait, rename, update, top, resize, counts).
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { BerthError, errorMessage, FailedPreconditionError, InvalidArgumentError } from "../../common/errors.ts";
import { execCollect } from "../../common/exec.ts";
import type { Mount } from "../../common/mount/mount.ts";
import { ContainerCreator } from "./create.ts";
import { reconcile, recordExit, resumeSupervision, stoppedAtBoot } from "./exit-handling.ts";
import { ExitMonitor } from "./exits.ts";
import { killContainer, pauseContainer, restartContainer, stopContainer, unpauseContainer } from "./lifecycle.ts";
import { newLive, within } from "./live.ts";
import { normalizeName } from "./names.ts";
import type { ContainerRecord } from "./record.ts";
import { removeContainer } from "./remove.ts";
import { resourcesFor } from "./spec/resources.ts";
import { startContainer } from "./start.ts";
import type { Attachment } from "./stdio.ts";
import { attachClient, closeStdin, writeStdin } from "./streams.ts";
import { ContainerTable, type ExecHooks, type ManagerOptions } from "./table.ts";
import { outputThroughFifos } from "./task-output.ts";
import { parsePs, psArgs, type TopBody } from "./top.ts";
import { applyUpdate, decodeUpdate, specWithResources } from "./update.ts";

export type { ExecHooks, ManagerOptions, RuntimeEntry } from "./table.ts";

/** How long start-up waits for the event subscription to be live. */
const MONITOR_START_MS = 10_000;

export type WaitCondition = "not-running" | "next-exit" | "removed";

/** A container's filesystem as archive/ reaches it (ContainerManager.withFilesystem). */
export interface ContainerFilesystem {
  record: ContainerRecord;
  /** The snapshot's mounts: its rootfs. */
  rootfs: Mount[];
  /** The OCI spec containerd holds (mount destinations, the process's user). */
  spec: unknown;
  /** The record as it is now (a running container may exit meanwhile). */
  current(): ContainerRecord;
}

export class ContainerManager {
  readonly #t: ContainerTable;
  readonly #creator: ContainerCreator;
  readonly #monitor: ExitMonitor;

  constructor(opts: ManagerOptions) {
    this.#t = new ContainerTable(opts);
    this.#creator = new ContainerCreator(this.#t);
    this.#monitor = new ExitMonitor(
      this.#t.conn.events,
      this.#t.conn.namespace,
      {
        exit: (id, status, at) => void recordExit(this.#t, id, status, at),
        oom: (id) => {
          const live = this.#t.live.get(id);
          if (live?.task) live.task.oom = true;
          if (live) this.#t.events.container(live.record, "oom");
        },
        execExit: (id, execId, status, at) => this.#t.execHooks?.exit(id, execId, status, at),
        live: async () => {
          await reconcile(this.#t);
          await this.#t.execHooks?.live();
        },
      },
      this.#t.log,
    );
  }

  /** The exec service's hooks (set once, before open). */
  setExecHooks(hooks: ExecHooks): void {
    this.#t.execHooks = hooks;
  }

  /** How create finds an image named by id or id prefix (the images side, once it is up). */
  setImageNames(storeName: (s: string) => Promise<string | undefined>): void {
    this.#creator.imageStoreName = storeName;
  }

  /** Loads the records on disk and subscribes to exits; then what ran is reconciled. */
  async open(): Promise<void> {
    const records = this.#t.store
      .loadAll((id, why) => this.#t.log.warn("container record skipped", { id, why }))
      // The oldest record holds a name two claim; the same everywhere, whatever the dir order.
      .sort((a, b) => a.Created.localeCompare(b.Created) || a.ID.localeCompare(b.ID));
    for (const record of records) {
      try {
        this.#t.names.reserve(record.Name, record.ID);
      } catch (err) {
        // Two records with one name (a damaged data root): the second is left out, not fatal.
        this.#t.log.warn("container record skipped", { id: record.ID, why: errorMessage(err) });
        continue;
      }
      this.#t.live.set(record.ID, newLive(record));
    }
    // Fifos of containers that are not running any more (berthd went away before their exit).
    for (const e of readdirSync(this.#t.fifoParent)) {
      if (!this.#t.live.get(e.slice(0, 64))?.record.State.Running) {
        rmSync(join(this.#t.fifoParent, e), { recursive: true, force: true });
      }
    }
    // Probes that were running when berthd went away: their processes ended with their exec.
    for (const e of readdirSync(this.#t.probeFifos))
      rmSync(join(this.#t.probeFifos, e), { recursive: true, force: true });
    const stopped = stoppedAtBoot(this.#t);
    // Containers run without it too (their exits are then seen once it is live): a containerd
    // slow to answer must not hold berthd's start-up.
    if (!(await within(this.#monitor.start(), MONITOR_START_MS))) {
      this.#t.log.warn("containerd's event stream is not live yet; exits are reconciled once it is");
    }
    resumeSupervision(this.#t, stopped);
  }

  async close(): Promise<void> {
    this.#t.closing = true;
    for (const live of this.#t.live.values()) {
      clearTimeout(live.supervision.restartTimer);
      live.supervision.health?.stop();
    }
    await this.#monitor.stop();
  }

  /** Every container (list, counts). */
  all(): ContainerRecord[] {
    return [...this.#t.live.values()].map((l) => l.record);
  }

  get(ref: string): ContainerRecord {
    return this.#t.find(ref).record;
  }

  /**
   * Runs `fn` in the container's operation queue (start, stop and remove wait for it) with what
   * archive/ (docker cp, export, diff) needs to reach its filesystem: the record as it is then,
   * the snapshot's mounts and the spec containerd holds.
   */
  withFilesystem<T>(ref: string, fn: (fs: ContainerFilesystem) => Promise<T>): Promise<T> {
    const live = this.#t.find(ref);
    return this.#t.serial(live, async () => {
      const id = live.record.ID;
      const [rootfs, stored] = await Promise.all([
        this.#t.conn.snapshots().mounts(id),
        this.#t.conn.containers.get(id),
      ]);
      return fn({ record: live.record, rootfs, spec: stored.spec, current: () => live.record });
    });
  }

  /** POST /containers/create. */
  create(body: unknown, nameParam: string | null): Promise<{ Id: string; Warnings: string[] }> {
    return this.#creator.create(body, nameParam);
  }

  /** POST /containers/{id}/start; 304 when it runs already. */
  start(ref: string): Promise<void> {
    const live = this.#t.find(ref);
    return this.#t.serial(live, () => startContainer(this.#t, live));
  }

  /** POST /containers/{id}/stop: the stop signal, SIGKILL after the timeout; 304 when not running. */
  stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    return stopContainer(this.#t, ref, opts);
  }

  /** POST /containers/{id}/kill. */
  kill(ref: string, signal: string | null): Promise<void> {
    return killContainer(this.#t, ref, signal);
  }

  /** POST /containers/{id}/restart. */
  restart(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<void> {
    return restartContainer(this.#t, ref, opts);
  }

  /**
   * POST /containers/{id}/wait: resolves with the exit code when `condition` holds. The caller
   * may give up waiting (`cancel`).
   */
  wait(ref: string, condition: WaitCondition): { result: Promise<number>; cancel(): void } {
    const live = this.#t.find(ref);
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
  remove(ref: string, opts: { force: boolean }): Promise<void> {
    return removeContainer(this.#t, ref, opts);
  }

  /** POST /containers/{id}/rename. */
  rename(ref: string, newName: string): void {
    if (newName === "") throw new InvalidArgumentError("Neither old nor new names may be empty");
    const live = this.#t.find(ref);
    const name = normalizeName(newName);
    const old = live.record.Name;
    if (name === old) throw new InvalidArgumentError("Renaming a container with the same name as its current name");
    this.#t.names.reserve(name, live.record.ID);
    live.record = { ...live.record, Name: name };
    try {
      this.#t.save(live);
    } catch (err) {
      this.#t.names.release(name, live.record.ID);
      live.record = { ...live.record, Name: old };
      throw err;
    }
    this.#t.names.release(old, live.record.ID);
    this.#t.events.container(live.record, "rename", { oldName: old });
  }

  /**
   * POST /containers/{id}/update: the resources and restart policy laid over HostConfig
   * (update.ts), written to the spec containerd keeps (the next start) and to the running task.
   */
  update(ref: string, body: unknown): Promise<{ Warnings: string[] }> {
    const req = decodeUpdate(body, this.#t.host);
    const live = this.#t.find(ref);
    return this.#t.serial(live, async () => {
      const r = live.record;
      if (live.removing) {
        throw new FailedPreconditionError(
          `Cannot update container ${r.ID}: container is marked for removal and cannot be "update"`,
        );
      }
      const hostConfig = applyUpdate(r.ID, r.HostConfig, req);
      const resources = resourcesFor(hostConfig, this.#t.host);
      const stored = await this.#t.conn.containers.get(r.ID);
      await this.#t.conn.containers.update(r.ID, { spec: specWithResources(stored.spec, resources) });
      if (r.State.Running && !r.State.Restarting) {
        await this.#t.conn.tasks.update(r.ID, resources);
      }
      live.record = { ...live.record, HostConfig: hostConfig };
      this.#t.save(live);
      this.#t.events.container(live.record, "update");
      return { Warnings: [] };
    });
  }

  /** POST /containers/{id}/pause: the task frozen (cgroup freezer). */
  pause(ref: string): Promise<void> {
    return pauseContainer(this.#t, ref);
  }

  /** POST /containers/{id}/unpause. */
  unpause(ref: string): Promise<void> {
    return unpauseContainer(this.#t, ref);
  }

  /** GET /containers/{id}/top: the host's ps reduced to the container's processes. */
  async top(ref: string, rawArgs: string | null): Promise<TopBody> {
    const args = psArgs(rawArgs);
    const live = this.#t.find(ref);
    if (!live.record.State.Running) {
      throw new FailedPreconditionError(`Container ${live.record.ID} is not running`);
    }
    const pids = new Set((await this.#t.conn.tasks.pids(live.record.ID)).map((p) => p.pid));
    const ps = await execCollect("ps", args, { maxStdout: 16 << 20 });
    if (ps.code !== 0) throw new BerthError("internal", `ps failed: ${ps.stderr.trim()}`);
    this.#t.events.container(live.record, "top");
    return parsePs(ps.stdout.toString("utf8"), pids);
  }

  /** `docker container prune`'s event (containers/prune.ts): what it freed. */
  reportPrune(reclaimed: number): void {
    this.#t.events.pruned("container", reclaimed);
  }

  /** An event about a container that another module serves (archive-path, extract-to-dir, export). */
  report(ref: string, action: string): void {
    this.#t.events.container(this.#t.find(ref).record, action);
  }

  /** POST /containers/{id}/resize. */
  async resize(ref: string, height: number, width: number): Promise<void> {
    const live = this.#t.find(ref);
    if (!live.record.State.Running) {
      throw new FailedPreconditionError(`Container ${live.record.ID} is not running`);
    }
    await this.#t.conn.tasks.resizePty(live.record.ID, { width, height });
    this.#t.events.container(live.record, "resize", { height: String(height), width: String(width) });
  }

  /** Whether the container's output reaches attached clients through berthd's fifos (else: its log). */
  outputThroughFifos(id: string): boolean {
    const live = this.#t.live.get(id);
    return live !== undefined && outputThroughFifos(live.record);
  }

  /** Attaches a client to the container's output (and stdin); the detach function. */
  attach(ref: string, a: Attachment): () => void {
    return attachClient(this.#t, ref, a);
  }

  /** Bytes from an attached client for the container's stdin (kept, bounded, until it starts). */
  writeStdin(id: string, data: Buffer): void {
    writeStdin(this.#t, id, data);
  }

  /** The attached client ended its stdin (streams.ts's closeStdin). */
  closeStdin(id: string): Promise<void> {
    return closeStdin(this.#t, id);
  }

  isRunning(id: string): boolean {
    const live = this.#t.live.get(id);
    return live !== undefined && (live.record.State.Running || live.task !== undefined);
  }

  counts(): { containers: number; running: number; paused: number; stopped: number } {
    let running = 0;
    let pausedN = 0;
    for (const l of this.#t.live.values()) {
      if (l.record.State.Paused) pausedN++;
      else if (l.record.State.Running) running++;
    }
    const containers = this.#t.live.size;
    return { containers, running, paused: pausedN, stopped: containers - running - pausedN };
  }
}
