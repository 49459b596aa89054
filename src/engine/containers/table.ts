// The containers berthd knows, as every part of the manager reaches them: each one's live entry
// (live.ts) by id, the record store and the name index, containerd's connection, the events,
// and the steps every verb shares: finding a container by reference, running its operations one
// at a time, saving its record, signalling its task, thawing it, waiting for its next exit.
import { join } from "node:path";
import type { ContainerdConnection } from "../../client/connection.ts";
import { NotFoundError } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { makeDir } from "../../common/secure-fs.ts";
import { type EngineEvents, NO_EVENTS } from "../events/emit.ts";
import { FifoLogger } from "./fifo-logger.ts";
import { specHostFacts } from "./host-facts.ts";
import type { Live } from "./live.ts";
import { NameIndex } from "./names.ts";
import { type ContainerRecord, paused } from "./record.ts";
import { resolveContainer } from "./resolve.ts";
import { ContainerStore } from "./store.ts";
import { hasReadableLog, logConfigOf } from "./task-output.ts";

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
  /** Where container events go (GET /events); none: nowhere. */
  events?: EngineEvents;
}

/** What berthd's exec service (../exec) hears of the containers: its processes' exits, removals. */
export interface ExecHooks {
  exit(containerId: string, execId: string, exitStatus: number, exitedAt: Date | undefined): void;
  /** The container's init exited (its exec'd processes die with it). */
  containerExited(containerId: string): void;
  removed(containerId: string): void;
  /** The event stream is live again: exits may have been missed. */
  live(): Promise<void>;
}

export class ContainerTable {
  readonly conn: ContainerdConnection;
  readonly opts: ManagerOptions;
  readonly log: DaemonLogger;
  readonly store: ContainerStore;
  readonly names = new NameIndex();
  readonly live = new Map<string, Live>();
  readonly host = specHostFacts();
  readonly events: EngineEvents;
  /** Where the tasks' fifos are made. */
  readonly fifoParent: string;
  /** Where health probes' fifos are made (apart from the tasks', which reconcile reopens). */
  readonly probeFifos: string;
  /** berthd is shutting down: no restart policy starts anything. */
  closing = false;
  execHooks: ExecHooks | undefined;

  constructor(opts: ManagerOptions) {
    this.opts = opts;
    this.conn = opts.conn;
    this.log = opts.log;
    this.store = new ContainerStore(opts.dataRoot);
    this.events = opts.events ?? NO_EVENTS;
    this.fifoParent = join(opts.execRoot, "fifos");
    makeDir(this.fifoParent, 0o700);
    this.probeFifos = join(opts.execRoot, "probes");
    makeDir(this.probeFifos, 0o700);
  }

  find(ref: string): Live {
    return resolveContainer(
      [...this.live.values()].map((l) => ({ ID: l.record.ID, Name: l.record.Name, live: l })),
      ref,
      (name) => {
        const id = this.names.holder(name);
        const live = id === undefined ? undefined : this.live.get(id);
        return live ? { ID: id!, Name: name, live } : undefined;
      },
    ).live;
  }

  serial<T>(live: Live, fn: () => Promise<T>): Promise<T> {
    const run = live.queue.then(fn, fn);
    live.queue = run.catch(() => {});
    return run;
  }

  save(live: Live): void {
    this.store.save(live.record);
  }

  /** A promise of the next exit of `live` (registered now, before anything is sent). */
  nextExit(live: Live): Promise<number> {
    return new Promise((resolve) => live.exitWaiters.add(resolve));
  }

  async signal(id: string, signal: number): Promise<void> {
    try {
      await this.conn.tasks.kill(id, signal);
    } catch (err) {
      // Gone, or exited just now (the runtime's "not running", ESRCH): its exit is on its way.
      if (!(err instanceof NotFoundError) && !(await this.#taskEnded(id))) throw err;
    }
    const live = this.live.get(id);
    if (live) this.events.container(live.record, "kill", { signal: String(signal) });
  }

  async #taskEnded(id: string): Promise<boolean> {
    try {
      return (await this.conn.tasks.get(id)).status === "stopped";
    } catch (err) {
      return err instanceof NotFoundError;
    }
  }

  async thaw(live: Live): Promise<void> {
    if (!live.record.State.Paused) return;
    await this.conn.tasks.resume(live.record.ID);
    live.record = { ...live.record, State: paused(live.record.State, false) };
    this.save(live);
  }

  /** The berth-logger berthd feeds a fifo container's output to (none for the none driver). */
  fifoLogger(r: ContainerRecord): FifoLogger | undefined {
    if (!hasReadableLog(r)) return undefined;
    return FifoLogger.spawn(logConfigOf(r), (why) => this.log.warn("a container's logger failed", { id: r.ID, why }));
  }
}
