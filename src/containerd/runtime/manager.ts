// The runtime manager: berth-shim serves every task of a namespace that names no group (one shim
// per namespace; with --shim-per-container one per task), other shims are started with the shim v2
// `start` protocol; each task's shim is reached over ttrpc at its address. A task's bundle lives in
// <state>/io.containerd.runtime.v2.task/<namespace>/<id> with config.json, the shim's `address`
// and `shim-binary` (its layout and how a shim is started: src/shim/bundle.ts); on start-up the manager reconnects to every shim whose bundle it finds, and
// cleans up after shims that died (their `delete` action, then the bundle) and after shims that
// live but hold no task (the daemon died during the task's create or delete): after a restart a
// task is live or gone, whatever point of create or delete the daemon died at.
import { constants, existsSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from "node:fs";
import * as net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromBinary } from "@bufbuild/protobuf";
import { AlreadyExistsError, BerthError, errorMessage, NotFoundError } from "../../common/errors.ts";
import { describeExit, ExecError, type ExecResult, execChecked, execCollect } from "../../common/exec.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { mountsOn, unmountAll } from "../../common/mount/mounter.ts";
import { makeDir } from "../../common/secure-fs.ts";
import { writeFileNamed } from "../../common/storage-errors.ts";
import { DeleteResponseSchema, Task } from "../../proto/gen/containerd/task/v2/shim_pb.js";
import type { TraceContext } from "../../rpc/trace.ts";
import { createTtrpcClient, type TtrpcClient } from "../../rpc/ttrpc/client.ts";
import {
  Bundle,
  deleteArgs,
  groupEnv,
  type ShimIdentity,
  shimEnv,
  shimFlags,
  startArgs,
  TASK_BUNDLES,
  taskBundle,
} from "../../shim/bundle.ts";
import {
  canConnect,
  groupOf,
  NAMESPACE_GROUP,
  SOCKET_DIR,
  spawnShim,
  startShim,
  startSpare,
} from "../../shim/start.ts";
import { planRevival, REVIVAL_WINDOW_MS } from "./revival-policy.ts";
import { BERTH_SHIM, shimBinaryFor } from "./shim-binary.ts";

export type ShimClient = TtrpcClient<typeof Task>;

export interface ShimHandle {
  namespace: string;
  id: string;
  bundle: string;
  binary: string;
  address: string;
  task: ShimClient;
  /** The pipe to a shim this daemon started, held until its Create arrived (ShimLaunch.holdParent). */
  parent?: net.Socket | undefined;
}

/** Handles whose connection the manager closes on purpose (release, abandon): not a dead shim. */
const letGo = new WeakSet<ShimHandle>();

export interface ManagerOptions {
  /** The daemon's --state. */
  state: string;
  /** The daemon's gRPC socket path (shims get it as -address). */
  grpcAddress: string;
  /** The daemon's ttrpc socket for shim events (TTRPC_ADDRESS). */
  ttrpcAddress: string;
  shims: ReadonlyMap<string, string>;
  log: DaemonLogger;
  /**
   * Keep one berth-shim started ahead of need, so a task's Create does not wait for Node to start:
   * for the first task of a namespace (or with perContainer, for every task that names no group).
   */
  spare: boolean;
  /** berth-shim: a task that names no group gets a shim of its own instead of its namespace's. */
  perContainer: boolean;
  /**
   * How long a namespace's berth-shim stays after its last task is deleted, ready for the next
   * one (0 or unset: it stops with its last task). Tasks created back to back then find a shim
   * whose code is loaded and warm, instead of a new Node process each (berthd sets it).
   */
  shimIdleMs?: number;
  /** Called when a dead shim's task is cleaned up: the daemon publishes exit and delete. */
  onDeadShim(h: { namespace: string; id: string; pid: number; exitStatus: number; exitedAt: Date }): void;
}

const START_TIMEOUT_MS = 30_000;
/** How long a shim asked to shut down may take to go (it flushes its events for up to 2 s). */
const SHIM_EXIT_MS = 5000;
/**
 * A shim kept warm is also told to exit by itself this long after its idle time: the daemon's own
 * stop comes first while it lives; the shim's is for a daemon that died meanwhile (nothing else
 * would ever stop a shim without tasks, which no bundle names).
 */
const IDLE_EXIT_MARGIN_MS = 20_000;
/**
 * Connect at start-up: a shim answers once a Create or Delete it is in the middle of has settled
 * (the daemon died during it), which may take a runtime's create on a loaded machine.
 */
const LOAD_CONNECT_MS = 15_000;

/** Resolves when `p` settles or `ms` have passed. */
function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(
      () => {},
      () => {},
    ),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** berth-shim beside this bundle (the build's dist/) when there, else on PATH. */
function berthShimPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, "berth-shim.mjs"), join(here, "..", "..", "..", "dist", "berth-shim.mjs")]) {
    if (existsSync(p)) return p;
  }
  return BERTH_SHIM;
}

export class ShimManager {
  readonly #o: ManagerOptions;
  readonly #shims = new Map<string, ShimHandle>();
  /** Handles whose Create is not answered yet: a shim dying then is the creator's to clean up. */
  readonly #creating = new Map<ShimHandle, { settled: Promise<void>; settle: () => void }>();
  readonly root: string;
  #spare: Promise<{ address: string; pid: number; parent: net.Socket | undefined } | undefined> | undefined;
  /**
   * Shared berth-shims (a namespace's, a group's; sharedKey) and their addresses, once started or
   * found. Joining one, starting it and letting it go take turns (#inTurn): a burst of creates
   * starts one shim, and no task joins a shim that its last task's release is stopping.
   */
  readonly #sharedShims = new Map<string, string>();
  readonly #sharedTurns = new Map<string, Promise<unknown>>();
  /** Handles whose shared shim was asked to shut down: no longer among its tasks. */
  readonly #leaving = new WeakSet<ShimHandle>();
  /** Shims being started again after they died, by address (#reviveShimOf). */
  readonly #revivals = new Map<string, Promise<void>>();
  /** When each address's shim was started again (revival-policy.ts), by address. */
  readonly #restarts = new Map<string, number[]>();
  /** Namespaces' shims kept warm without tasks: the timer that stops each, by sharedKey. */
  readonly #idleStops = new Map<string, NodeJS.Timeout>();

  constructor(o: ManagerOptions) {
    this.#o = o;
    this.root = join(o.state, TASK_BUNDLES);
  }

  get(ns: string, id: string): ShimHandle {
    const h = this.#shims.get(`${ns}/${id}`);
    if (!h) throw new NotFoundError(`no running task found: task ${id} not found`);
    return h;
  }

  /**
   * get(), once a restart of its shim in progress has ended (#revive): a call that comes while a
   * berth-shim that died is being started again is served by the new shim rather than refused
   * (unavailable) by the dead one's closed connection. A task whose shim was not started again is
   * not found, as after any dead shim's clean-up.
   */
  async ready(ns: string, id: string): Promise<ShimHandle> {
    // A revival ends with the task connected again, or cleaned up (get() then throws not found).
    // Bounded: a shim that dies again at once is revived again (revival-policy.ts) at most so often.
    for (let i = 0; i < 3; i++) {
      const revival = this.#revivals.get(this.get(ns, id).address);
      if (!revival) break;
      await revival.catch(() => {});
    }
    return this.get(ns, id);
  }

  /** Once every restart of a shim in progress has ended: a task list then shows their tasks. */
  async revivalsSettled(): Promise<void> {
    await Promise.all([...this.#revivals.values()].map((r) => r.catch(() => {})));
  }

  has(ns: string, id: string): boolean {
    return this.#shims.has(`${ns}/${id}`);
  }

  list(ns: string): ShimHandle[] {
    return [...this.#shims.values()].filter((h) => h.namespace === ns);
  }

  #binary(runtime: string, runtimePath: string): string {
    const b = runtimePath || shimBinaryFor(runtime, this.#o.shims);
    return b === BERTH_SHIM ? berthShimPath() : b;
  }

  /** Starts a spare berth-shim unless one is ready or starting (see src/shim/serve.ts). */
  warmSpare(): void {
    const script = berthShimPath();
    if (!this.#o.spare || this.#spare || !script.endsWith(".mjs")) return;
    const env = this.#shimEnv(undefined);
    let parent: net.Socket | undefined;
    const holdParent = (end: net.Socket) => {
      parent = end;
    };
    this.#spare = startSpare({ script, env, holdParent }, this.#o.grpcAddress).then(
      (s) => ({ ...s, parent }),
      (err: unknown) => {
        this.#o.log.warn("no spare shim", { error: errorMessage(err) });
        return undefined;
      },
    );
  }

  /** Takes the spare (if one is ready soon) and starts the next. */
  async #takeSpare(): Promise<{ address: string; parent: net.Socket | undefined } | undefined> {
    // Taken before the first await: two creates at once must never get the same spare. The next
    // one is started once this task is created (warmSpare), not now: on a small machine a Node
    // start-up would compete with the task's own creation.
    const spare = this.#spare;
    this.#spare = undefined;
    return await spare;
  }

  /**
   * The task's Create has been answered (or failed): the shim no longer needs this daemon's pipe
   * (it ignores the pipe once a Create arrived; see src/shim/serve.ts).
   */
  settled(h: ShimHandle): void {
    h.parent?.destroy();
    h.parent = undefined;
    this.#creating.get(h)?.settle();
    this.#creating.delete(h);
  }

  /** Stops the spare (tasks' shims keep running; one kept warm exits by itself later). */
  async close(): Promise<void> {
    for (const t of this.#idleStops.values()) clearTimeout(t);
    this.#idleStops.clear();
    const spare = await this.#spare;
    this.#spare = undefined;
    if (spare) {
      spare.parent?.destroy();
      try {
        process.kill(spare.pid, "SIGTERM");
      } catch {}
    }
  }

  /** Makes the bundle and starts the shim; the caller then calls its Create. */
  async start(
    ns: string,
    id: string,
    spec: Uint8Array,
    runtime: string,
    runtimePath: string,
    options: Uint8Array | undefined,
  ): Promise<ShimHandle> {
    const key = `${ns}/${id}`;
    const b = taskBundle(this.#o.state, ns, id);
    const bundle = b.dir;
    if (this.#shims.has(key) || existsSync(bundle)) throw new AlreadyExistsError(`task ${id}: already exists`);
    const binary = this.#binary(runtime, runtimePath);
    makeDir(bundle, 0o711);
    // Reserve the key before the first await: a concurrent create of the same id is refused.
    const pending: ShimHandle = {
      namespace: ns,
      id,
      bundle,
      binary,
      address: "",
      task: undefined as unknown as ShimClient,
    };
    this.#shims.set(key, pending);
    try {
      // Modes set here, not left to the umask: the spec carries the container's environment
      // (secrets, often), and nothing but root may change what the shim and runtime will read.
      // A full --state is answered naming the file ("write <bundle>/config.json: no space left on device").
      writeFileNamed(b.config, spec, { mode: 0o600 });
      writeFileNamed(b.shimBinary, binary, { mode: 0o644 });
      let address: string | undefined;
      if (binary.endsWith("berth-shim.mjs")) {
        // Our own shim (no `start` process: it reads the runtime options from Create, not from
        // `start`'s stdin): its namespace's, or the spare for a task of its own, else started in-process.
        const group = groupOf(bundle, id, this.#o.perContainer);
        if (group !== id) address = await this.#sharedShim(pending, group);
        else {
          const spare = await this.#takeSpare();
          pending.parent = spare?.parent;
          address = spare?.address ?? (await this.#startBerthShim(pending, group));
        }
      } else {
        await this.#openShimLog(ns, id, bundle);
        address = (await this.#runShim(binary, ns, bundle, startArgs(this.#identity(ns, id)), options)).toString();
      }
      const h: ShimHandle = { ...pending, address: address.trim(), task: this.#connect(address.trim(), ns) };
      let settle = () => {};
      const settled = new Promise<void>((r) => {
        settle = r;
      });
      this.#creating.set(h, { settled, settle });
      this.#shims.set(key, h);
      this.#watch(h);
      return h;
    } catch (err) {
      this.settled(pending);
      this.#shims.delete(key);
      await this.#removeBundle(bundle);
      throw err;
    }
  }

  /** berth-shim started in-process for `h`'s task in `group` (joined when that group's shim runs). */
  #startBerthShim(h: ShimHandle, group: string): Promise<string> {
    return startShim(
      { namespace: h.namespace, id: h.id, address: this.#o.grpcAddress, bundle: h.bundle, debug: false },
      shimFlags(this.#identity(h.namespace, h.id)),
      {
        script: h.binary,
        env: this.#shimEnv(h.namespace),
        holdParent: (end) => {
          h.parent = end;
        },
      },
      group,
    );
  }

  /**
   * The address of the berth-shim serving `h`'s group: the one already serving it, else (for a
   * namespace) the spare, else one started now. `h.address` is set in the turn, so a release
   * taking its turn next sees that the shim has one more task.
   */
  #sharedShim(h: ShimHandle, group: string): Promise<string> {
    const key = sharedKey(h.namespace, group);
    return this.#inTurn(key, async () => {
      const known = this.#sharedShims.get(key);
      if (known !== undefined && (await canConnect(socketOf(known) ?? known))) {
        new Bundle(h.bundle).writeAddress(known);
        h.address = known;
        return known;
      }
      // The spare is for the first task of a namespace; a group's shim is started for its group.
      const spare = group === NAMESPACE_GROUP ? await this.#takeSpare() : undefined;
      h.parent = spare?.parent;
      // A spare writes the address into the bundle of its first Create, as any shim does.
      h.address = spare?.address ?? (await this.#startBerthShim(h, group));
      this.#sharedShims.set(key, h.address);
      return h.address;
    });
  }

  /** Runs `fn` once every earlier turn of shared shim `key` has settled. */
  #inTurn<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const turn = (this.#sharedTurns.get(key) ?? Promise.resolve()).then(fn);
    const settled = turn.catch(() => {});
    this.#sharedTurns.set(key, settled);
    void settled.then(() => {
      if (this.#sharedTurns.get(key) === settled) this.#sharedTurns.delete(key);
    });
    return turn;
  }

  /**
   * Asks `h`'s shim to shut down (after its task's delete, or a failed create): a shim of the
   * task's own exits, and is waited for (until it has closed its socket the same id cannot have
   * a new shim); a shared berth-shim is told `now` when `h` was its last task here, in its turn,
   * and is waited for then, so the next task of its group starts a new one; until then it stays.
   */
  async #shutdownShim(h: ShimHandle, now: boolean, trace?: TraceContext): Promise<void> {
    const group = groupOf(h.bundle, h.id, this.#o.perContainer);
    const ask = async (now: boolean, wait: boolean) => {
      try {
        await h.task.shutdown({ id: h.id, now }, { timeoutMs: 5000, trace });
        if (wait) await settleWithin(h.task.closed, SHIM_EXIT_MS);
      } catch {
        // A shim that already exited answers nothing; that is what we asked for.
      }
    };
    if (group === h.id) return ask(now, true);
    if (!h.binary.endsWith("berth-shim.mjs")) return ask(now, false);
    await this.#inTurn(sharedKey(h.namespace, group), async () => {
      // Marked in the turn: the task's handle is forgotten only later, after turns that follow.
      this.#leaving.add(h);
      const last = ![...this.#shims.values()].some((o) => !this.#leaving.has(o) && o.address === h.address);
      if (last && group === NAMESPACE_GROUP && (this.#o.shimIdleMs ?? 0) > 0) {
        // Kept warm for the namespace's next task (#sharedShim joins it); without `now` the shim
        // arms its own, later exit (IDLE_EXIT_MARGIN_MS), for a daemon that dies meanwhile.
        await ask(false, false);
        this.#stopWhenIdle(h.namespace, h.address);
        return;
      }
      if (last) this.#o.log.debug("stopping a shared shim: its last task is gone", { id: h.id, address: h.address });
      await ask(last, last);
    });
  }

  /**
   * Stops namespace `ns`'s shim at `address` after shimIdleMs unless a task joined it by then. In
   * the namespace's turn, as a join is: a task either joined before (the shim stays) or comes
   * after, finds the shim gone and gets the spare or a new one.
   */
  #stopWhenIdle(ns: string, address: string): void {
    const key = sharedKey(ns, NAMESPACE_GROUP);
    clearTimeout(this.#idleStops.get(key));
    const timer = setTimeout(() => {
      this.#idleStops.delete(key);
      void this.#inTurn(key, async () => {
        if (this.#sharedShims.get(key) !== address) return;
        if ([...this.#shims.values()].some((o) => !this.#leaving.has(o) && o.address === address)) return;
        this.#sharedShims.delete(key);
        this.#o.log.debug("stopping a shared shim: idle", { namespace: ns, address });
        const task = this.#connect(address, ns);
        try {
          await task.shutdown({ id: "", now: true }, { timeoutMs: 5000 });
          await settleWithin(task.closed, SHIM_EXIT_MS);
        } catch {
          // Gone already (it exited by itself): what was asked.
        } finally {
          task.close();
        }
      }).catch(() => {});
    }, this.#o.shimIdleMs);
    timer.unref();
    this.#idleStops.set(key, timer);
  }

  /** Whether `h`'s task has a shim of its own (not its namespace's or a group's). */
  #ownShim(h: { bundle: string; id: string }): boolean {
    return groupOf(h.bundle, h.id, this.#o.perContainer) === h.id;
  }

  /**
   * A shim's connection that ends without the manager asking means the shim died. A berth-shim
   * is started again for the tasks whose keeper lives (#revive); any other task is cleaned up as
   * at start-up (the container is killed by the runtime's delete --force, as containerd does when
   * a shim dies), and exit and delete are published.
   */
  #watch(h: ShimHandle): void {
    const task = h.task;
    void task.closed.then(async () => {
      // During its Create the failed call's handler abandons the shim (tasks.ts); once it is
      // answered, a shim that died meanwhile is cleaned up here.
      await this.#creating.get(h)?.settled;
      // Let go of, or connected again to a new shim already (its connections all ended at once).
      if (letGo.has(h) || this.#shims.get(`${h.namespace}/${h.id}`) !== h || h.task !== task) return;
      if (isBerthShim(h.binary)) return this.#reviveShimOf(h);
      await this.#forgetDead(h);
      // A shared shim's socket may have a new shim behind it by now.
      await removeDeadSocket(h.address);
    });
  }

  /** A task whose shim is gone for good: cleaned up, its exit and delete published. */
  async #forgetDead(h: ShimHandle): Promise<void> {
    this.#shims.delete(`${h.namespace}/${h.id}`);
    this.#o.log.warn("shim died; cleaning up its task", { namespace: h.namespace, id: h.id });
    await this.#cleanupDead(h.namespace, h.id, h.bundle, h.binary);
  }

  /** #revive for the shim `h` was served by, once however many of its handles saw it die. */
  #reviveShimOf(h: ShimHandle): Promise<void> {
    let revival = this.#revivals.get(h.address);
    if (!revival) {
      const address = h.address;
      revival = (async () => {
        // Creates in flight there settle first: a failed one is abandoned, an answered one served again.
        const creating = [...this.#creating].filter(([o]) => o.address === address).map(([, c]) => c.settled);
        await Promise.all(creating);
        const group = groupOf(h.bundle, h.id, this.#o.perContainer);
        const key = group === h.id ? `own\0${address}` : sharedKey(h.namespace, group);
        await this.#inTurn(key, () =>
          this.#revive(
            address,
            [...this.#shims.values()].filter((o) => o.address === address && !letGo.has(o)),
          ),
        );
      })().finally(() => this.#revivals.delete(address));
      this.#revivals.set(address, revival);
    }
    return revival;
  }

  /**
   * The berth-shim at `address` is gone (its connections ended unasked, or a restarted daemon
   * found nothing behind its socket). Tasks whose keeper still answers keep running: a new shim
   * is started on the same socket and adopts them (src/shim/adopt.ts), and each handle is
   * connected to it again. The others, and any the new shim does not serve, are cleaned up and
   * reported as a dead shim's (#forgetDead). Callers hold the shim's turn: no task joins it meanwhile.
   */
  async #revive(address: string, handles: ShimHandle[]): Promise<void> {
    const alive: ShimHandle[] = [];
    for (const h of handles) {
      if (await keeperAnswers(h.bundle)) alive.push(h);
      else await this.#forgetDead(h);
    }
    const socket = socketOf(address);
    const first = alive[0];
    if (!first || !socket) return void (await removeDeadSocket(address));
    try {
      // A shim still listening there (it dropped its connections but lives) is connected to again.
      if (!(await canConnect(socket))) {
        const previous = this.#restarts.get(address) ?? [];
        const plan = planRevival(previous, Date.now());
        if (plan.giveUp) {
          throw new BerthError(
            "unavailable",
            `it died ${plan.restarts + 1} times within ${REVIVAL_WINDOW_MS / 1000} s: not started again`,
          );
        }
        if (plan.delayMs > 0) await new Promise((r) => setTimeout(r, plan.delayMs));
        this.#recordRestart(address);
        await this.#respawn(first, socket);
      }
    } catch (err) {
      this.#o.log.warn("shim not restarted", { address, error: errorMessage(err) });
      for (const h of alive) await this.#forgetDead(h);
      return void (await removeDeadSocket(address));
    }
    this.#o.log.warn("shim restarted for its tasks", { address, tasks: alive.length });
    const served = await Promise.all(alive.map((h) => this.#reconnect(h)));
    for (const [i, h] of alive.entries()) if (!served[i]) await this.#forgetDead(h);
    if (!served.includes(true)) {
      // It adopted none of them: it has nothing to serve.
      const task = this.#connect(address, first.namespace);
      await task.shutdown({ id: first.id, now: true }, { timeoutMs: 5000 }).catch(() => {});
      await settleWithin(task.closed, SHIM_EXIT_MS);
      task.close();
    }
  }

  /** Remembers a restart at `address`; restarts older than the window are forgotten, everywhere. */
  #recordRestart(address: string): void {
    const now = Date.now();
    for (const [a, times] of this.#restarts) {
      const recent = times.filter((t) => now - t < REVIVAL_WINDOW_MS);
      if (recent.length > 0) this.#restarts.set(a, recent);
      else this.#restarts.delete(a);
    }
    this.#restarts.set(address, [...(this.#restarts.get(address) ?? []), now]);
  }

  /** berth-shim started anew on `socket` in `h`'s bundle, where it adopts the tasks naming it. */
  async #respawn(h: ShimHandle, socket: string): Promise<void> {
    const group = groupOf(h.bundle, h.id, this.#o.perContainer);
    await spawnShim(
      { script: h.binary, env: this.#shimEnv(h.namespace) },
      ["-socket", socket, "-adopt", ...shimFlags(this.#identity(h.namespace, h.id))],
      h.bundle,
      group === h.id ? {} : groupEnv(group),
    );
  }

  /** `h` connected again to its shim: whether that shim serves its task. */
  async #reconnect(h: ShimHandle): Promise<boolean> {
    h.task?.close();
    h.task = this.#connect(h.address, h.namespace);
    try {
      const { taskPid } = await h.task.connect({ id: h.id }, { timeoutMs: LOAD_CONNECT_MS });
      if (taskPid === 0) return false;
    } catch {
      return false;
    }
    this.#shims.set(`${h.namespace}/${h.id}`, h);
    this.#remember(h);
    this.#watch(h);
    return true;
  }

  /** A shared berth-shim found serving `h`: the next task of its group joins it. */
  #remember(h: ShimHandle): void {
    const group = groupOf(h.bundle, h.id, this.#o.perContainer);
    if (isBerthShim(h.binary) && group !== h.id) this.#sharedShims.set(sharedKey(h.namespace, group), h.address);
  }

  /** After the task is deleted: asks the shim to exit, forgets it, removes the bundle. */
  async release(h: ShimHandle, trace?: TraceContext): Promise<void> {
    letGo.add(h);
    await this.#shutdownShim(h, false, trace);
    h.task.close();
    this.#shims.delete(`${h.namespace}/${h.id}`);
    // A shim killed between answering Delete and Shutdown leaves its socket (one that exits
    // removes its own); a shared shim's socket stays while its shim still listens.
    await removeDeadSocket(h.address);
    await this.#removeBundle(h.bundle);
  }

  /** A shim that failed its Create: stop it and clean up after it. */
  async abandon(h: ShimHandle, trace?: TraceContext): Promise<void> {
    letGo.add(h);
    const own = this.#ownShim(h);
    await this.#shutdownShim(h, true, trace);
    h.task.close();
    // A shim killed outright leaves its socket (a shared one stays while its shim lives on).
    const socket = socketOf(h.address);
    if (own && socket) rmSync(socket, { force: true });
    else await removeDeadSocket(h.address);
    await this.#runShim(h.binary, h.namespace, h.bundle, this.#deleteArgs(h)).catch(() => undefined);
    this.#shims.delete(`${h.namespace}/${h.id}`);
    await this.#removeBundle(h.bundle);
  }

  /** Start-up: reconnects to every live shim, cleans up after dead ones. */
  async load(): Promise<void> {
    await sweepDeadSpares();
    if (!existsSync(this.root)) return;
    /** Tasks of berth-shims that did not answer, by address: revived once all are known. */
    const unanswered = new Map<string, ShimHandle[]>();
    for (const ns of readdirSync(this.root)) {
      for (const id of readdirSync(join(this.root, ns))) {
        const b = new Bundle(join(this.root, ns, id));
        const bundle = b.dir;
        let binary = berthShimPath();
        let address = "";
        try {
          binary = this.#binary("", readFileSync(b.shimBinary, "utf8"));
          address = b.readAddress();
          const task = this.#connect(address, ns);
          let taskPid: number;
          try {
            ({ taskPid } = await task.connect({ id }, { timeoutMs: LOAD_CONNECT_MS }));
          } catch (err) {
            task.close();
            throw err;
          }
          if (taskPid === 0) {
            // The shim lives but holds no such task: the daemon died after the shim was started
            // and before its Create succeeded, or while it deleted the task. What the daemon
            // would have done next (stop the shim, clean up, remove the bundle) is done now.
            this.#o.log.warn("shim holds no task; cleaning up", { namespace: ns, id });
            await this.#stopTaskless({ namespace: ns, id, bundle, binary, address, task });
            continue;
          }
          const h: ShimHandle = { namespace: ns, id, bundle, binary, address, task };
          this.#shims.set(`${ns}/${id}`, h);
          this.#watch(h);
          this.#remember(h);
          this.#o.log.info("reconnected to shim", { namespace: ns, id });
        } catch (err) {
          if (isBerthShim(binary) && socketOf(address)) {
            const dead = { namespace: ns, id, bundle, binary, address, task: undefined as unknown as ShimClient };
            unanswered.set(address, [...(unanswered.get(address) ?? []), dead]);
            continue;
          }
          this.#o.log.warn("shim is gone; cleaning up", { namespace: ns, id, error: errorMessage(err) });
          await this.#cleanupDead(ns, id, bundle, binary);
          // The dead shim's socket (a unix socket outlives its server).
          await removeDeadSocket(address);
          continue;
        }
        // Only once the shim answered: nothing but an unreachable shim may lead to a cleanup.
        await this.#openShimLog(ns, id, bundle, false).catch(() => {});
      }
    }
    for (const [address, handles] of unanswered) {
      this.#o.log.warn("shim is gone", { address, tasks: handles.length });
      await this.#revive(address, handles);
    }
  }

  /**
   * A shim found at start-up without the task of its bundle: asked to exit (a group's shim stays
   * for its other tasks), then what is left of the task (runtime state, rootfs mount, bundle) goes.
   * No events: the task either never existed or its delete was published by the shim.
   */
  async #stopTaskless(h: ShimHandle): Promise<void> {
    letGo.add(h);
    await this.#shutdownShim(h, true);
    h.task.close();
    await this.#runShim(h.binary, h.namespace, h.bundle, this.#deleteArgs(h)).catch((err) =>
      this.#o.log.warn("shim delete failed", { namespace: h.namespace, id: h.id, error: errorMessage(err) }),
    );
    await this.#removeBundle(h.bundle);
  }

  async #cleanupDead(ns: string, id: string, bundle: string, binary: string): Promise<void> {
    let pid = 0;
    let exitStatus = 137;
    let exitedAt = new Date();
    try {
      const out = await this.#runShim(binary, ns, bundle, this.#deleteArgs({ namespace: ns, id, bundle }));
      const r = fromBinary(DeleteResponseSchema, out);
      pid = r.pid;
      exitStatus = r.exitStatus;
      if (r.exitedAt) exitedAt = new Date(Number(r.exitedAt.seconds) * 1000 + r.exitedAt.nanos / 1e6);
    } catch (err) {
      this.#o.log.warn("shim delete failed", { namespace: ns, id, error: errorMessage(err) });
    }
    await this.#removeBundle(bundle);
    if (existsSync(bundle)) return;
    this.#o.onDeadShim({ namespace: ns, id, pid, exitStatus, exitedAt });
  }

  #connect(address: string, ns: string): ShimClient {
    return createTtrpcClient(Task, address, { namespace: ns });
  }

  /**
   * Never removes anything through a mounted rootfs: that would delete the container's files. The
   * rootfs is unmounted, then removed with rmdir (as containerd does), which fails on a mount point
   * or a directory that still holds files; only then is the rest of the bundle removed.
   */
  async #removeBundle(bundle: string): Promise<void> {
    const rootfs = new Bundle(bundle).rootfs;
    try {
      if (existsSync(rootfs) && (await mountsOn(rootfs)) > 0) await unmountAll(rootfs);
      removeEmptyDir(rootfs);
      rmSync(bundle, { recursive: true, force: true });
      // Not recursive: a task of this namespace may be making its bundle right now.
      removeEmptyDir(dirname(bundle), true);
    } catch (err) {
      this.#o.log.warn("bundle left behind", { bundle, error: errorMessage(err) });
    }
  }

  /** The shim's log fifo, as containerd makes it: the shim writes its log there, we log it. */
  async #openShimLog(ns: string, id: string, bundle: string, create = true): Promise<void> {
    const path = new Bundle(bundle).shimLog;
    if (create) await execChecked("mkfifo", ["-m", "0700", path], { stdio: ["ignore", "ignore", "pipe"] });
    // berth-shim keeps a plain log file in the bundle instead; only a fifo is read here.
    let fd: number;
    try {
      if (!statSync(path).isFIFO()) return;
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch {
      return;
    }
    const sock = new net.Socket({ fd, readable: true, writable: false });
    let buf = "";
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      buf += d;
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        this.#o.log.debug("shim", { namespace: ns, id, line: buf.slice(0, nl) });
        buf = buf.slice(nl + 1);
        nl = buf.indexOf("\n");
      }
    });
    sock.on("error", () => {});
    sock.unref();
  }

  /** Who a shim serves, as containerd tells it. */
  #identity(ns: string, id: string): ShimIdentity {
    return { namespace: ns, id, address: this.#o.grpcAddress, publishBinary: process.execPath };
  }

  /** `delete` for the task of `h`'s bundle. */
  #deleteArgs(h: { namespace: string; id: string; bundle: string }): string[] {
    return deleteArgs(this.#identity(h.namespace, h.id), h.bundle);
  }

  /** The environment containerd gives a shim (none for a spare), and where berth-shim's runtime keeps its state. */
  #shimEnv(ns: string | undefined): NodeJS.ProcessEnv {
    return shimEnv(process.env, {
      ttrpcAddress: this.#o.ttrpcAddress,
      grpcAddress: this.#o.grpcAddress,
      namespace: ns,
      runtimeRoot: join(this.#o.state, "runc"),
      perContainer: this.#o.perContainer,
      idleExitMs: this.#o.shimIdleMs ? this.#o.shimIdleMs + IDLE_EXIT_MARGIN_MS : undefined,
    });
  }

  /** Runs the shim binary once (start or delete) the way containerd does; resolves its stdout. */
  async #runShim(binary: string, ns: string, bundle: string, args: string[], stdin?: Uint8Array): Promise<Buffer> {
    const failed = (how: string, said: string) =>
      new BerthError("internal", `failed to start shim: ${binary} ${args.at(-1)}: ${how}${said ? `: ${said}` : ""}`);
    let r: ExecResult;
    try {
      r = await execCollect(binary, args, {
        cwd: bundle,
        env: this.#shimEnv(ns),
        input: stdin ?? Buffer.alloc(0),
        timeoutMs: START_TIMEOUT_MS,
      });
    } catch (err) {
      if (err instanceof ExecError && err.timedOut)
        throw failed(`timed out after ${START_TIMEOUT_MS} ms`, err.stderr.trim());
      throw new BerthError(
        "internal",
        `shim ${binary}: ${errorMessage(err instanceof ExecError ? (err.cause ?? err) : err)}`,
      );
    }
    if (r.code !== 0) throw failed(describeExit(r.code, r.signal), (r.stderr || r.stdout.toString()).trim());
    return r.stdout;
  }
}

/** Our own shim, which can be started again for its tasks (its keepers keep them meanwhile). */
function isBerthShim(binary: string): boolean {
  return binary.endsWith("berth-shim.mjs");
}

/** Whether the keeper a bundle names listens (a keeper is its container's parent). */
async function keeperAnswers(bundle: string): Promise<boolean> {
  try {
    return await canConnect(new Bundle(bundle).readKeeper());
  } catch {
    return false; // no keeper file: none was started, or it ended
  }
}

/** A shared shim's key: its namespace and group (neither holds a NUL). */
function sharedKey(namespace: string, group: string): string {
  return `${namespace}\0${group}`;
}

/** The socket path of a `unix://` address; undefined for any other. */
function socketOf(address: string): string | undefined {
  return address.startsWith("unix://") ? address.slice("unix://".length) : undefined;
}

/**
 * Removes the socket of a shim that was killed (one that exits removes its own) when nothing
 * listens on it: a shared shim's socket may have a live shim behind it, or a new one by now.
 */
async function removeDeadSocket(address: string): Promise<void> {
  const socket = socketOf(address);
  if (socket && existsSync(socket) && !(await canConnect(socket))) rmSync(socket, { force: true });
}

/**
 * Sockets of spare shims that were killed outright (a spare that exits removes its own), and the
 * private directories of shims killed while they were binding their socket (common/secure-fs.ts).
 */
async function sweepDeadSpares(): Promise<void> {
  if (!existsSync(SOCKET_DIR)) return;
  for (const name of readdirSync(SOCKET_DIR)) {
    const path = join(SOCKET_DIR, name);
    if (!name.startsWith("spare-") && !name.startsWith(".sock-")) continue;
    // Only old ones: another daemon's spare may be between bind and listen right now.
    let age: number;
    try {
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      continue;
    }
    if (age <= 60_000) continue;
    if (name.startsWith(".sock-")) rmSync(path, { recursive: true, force: true });
    else if (!(await canConnect(path))) rmSync(path, { force: true });
  }
}

/** rmdir: gone already is fine; a mount point (EBUSY) or, unless `ifEmpty`, a non-empty directory throws. */
function removeEmptyDir(path: string, ifEmpty = false): void {
  try {
    rmdirSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || (ifEmpty && (code === "ENOTEMPTY" || code === "EEXIST"))) return;
    throw err;
  }
}
