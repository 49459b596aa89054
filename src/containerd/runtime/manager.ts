// The runtime manager: one shim per task, started with the shim v2 `start` protocol, reached over
// ttrpc at the address it prints. A task's bundle lives in
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
  type ShimIdentity,
  shimEnv,
  shimFlags,
  startArgs,
  TASK_BUNDLES,
  taskBundle,
} from "../../shim/bundle.ts";
import { canConnect, groupOf, SOCKET_DIR, startShim, startSpare } from "../../shim/start.ts";
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
  /** Keep one berth-shim started ahead of need, so a task's Create does not wait for Node to start. */
  spare: boolean;
  /** Called when a dead shim's task is cleaned up: the daemon publishes exit and delete. */
  onDeadShim(h: { namespace: string; id: string; pid: number; exitStatus: number; exitedAt: Date }): void;
}

const START_TIMEOUT_MS = 30_000;
/** How long a shim asked to shut down may take to go (it flushes its events for up to 2 s). */
const SHIM_EXIT_MS = 5000;
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

  constructor(o: ManagerOptions) {
    this.#o = o;
    this.root = join(o.state, TASK_BUNDLES);
  }

  get(ns: string, id: string): ShimHandle {
    const h = this.#shims.get(`${ns}/${id}`);
    if (!h) throw new NotFoundError(`no running task found: task ${id} not found`);
    return h;
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

  /** Stops the spare (tasks' shims keep running). */
  async close(): Promise<void> {
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
        // Our own shim: a spare taken over, or started in-process (no `start` process either way);
        // it reads the runtime options from Create, not from `start`'s stdin.
        const spare = groupOf(bundle, id) === id ? await this.#takeSpare() : undefined;
        address = spare?.address;
        pending.parent = spare?.parent;
        address ??= await startShim(
          { namespace: ns, id, address: this.#o.grpcAddress, bundle, debug: false },
          shimFlags(this.#identity(ns, id)),
          {
            script: binary,
            env: this.#shimEnv(ns),
            holdParent: (end) => {
              pending.parent = end;
            },
          },
        );
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

  /**
   * A shim's connection that ends without the manager asking means the shim died: its task is
   * cleaned up as at start-up (the container is killed by the runtime's delete --force, as
   * containerd does when a shim dies), and exit and delete are published.
   */
  #watch(h: ShimHandle): void {
    void h.task.closed.then(async () => {
      // During its Create the failed call's handler abandons the shim (tasks.ts); once it is
      // answered, a shim that died meanwhile is cleaned up here.
      await this.#creating.get(h)?.settled;
      if (letGo.has(h) || this.#shims.get(`${h.namespace}/${h.id}`) !== h) return;
      this.#shims.delete(`${h.namespace}/${h.id}`);
      this.#o.log.warn("shim died; cleaning up its task", { namespace: h.namespace, id: h.id });
      await this.#cleanupDead(h.namespace, h.id, h.bundle, h.binary);
      if (h.address.startsWith("unix://")) rmSync(h.address.slice("unix://".length), { force: true });
    });
  }

  /** After the task is deleted: asks the shim to exit, forgets it, removes the bundle. */
  async release(h: ShimHandle, trace?: TraceContext): Promise<void> {
    letGo.add(h);
    try {
      await h.task.shutdown({ id: h.id }, { timeoutMs: 5000, trace });
      // Until it has closed its socket the same id cannot have a new shim ("already running"):
      // the shim flushes its events first. A group's shim stays for the group's other tasks.
      if (groupOf(h.bundle, h.id) === h.id) await settleWithin(h.task.closed, SHIM_EXIT_MS);
    } catch {
      // A shim that already exited answers nothing; that is what we asked for.
    }
    h.task.close();
    this.#shims.delete(`${h.namespace}/${h.id}`);
    // A shim killed between answering Delete and Shutdown leaves its socket (one that exits
    // removes its own); a group's socket stays while its shim still listens.
    const socket = h.address.startsWith("unix://") ? h.address.slice("unix://".length) : undefined;
    if (socket && existsSync(socket) && !(await canConnect(socket))) rmSync(socket, { force: true });
    await this.#removeBundle(h.bundle);
  }

  /** A shim that failed its Create: stop it and clean up after it. */
  async abandon(h: ShimHandle, trace?: TraceContext): Promise<void> {
    letGo.add(h);
    const own = groupOf(h.bundle, h.id) === h.id;
    try {
      await h.task.shutdown({ id: h.id, now: true }, { timeoutMs: 5000, trace });
      if (own) await settleWithin(h.task.closed, SHIM_EXIT_MS);
    } catch {}
    h.task.close();
    // A shim killed outright leaves its socket (a group's stays: the group's shim may live on).
    if (own && h.address.startsWith("unix://")) rmSync(h.address.slice("unix://".length), { force: true });
    await this.#runShim(h.binary, h.namespace, h.bundle, this.#deleteArgs(h)).catch(() => undefined);
    this.#shims.delete(`${h.namespace}/${h.id}`);
    await this.#removeBundle(h.bundle);
  }

  /** Start-up: reconnects to every live shim, cleans up after dead ones. */
  async load(): Promise<void> {
    await sweepDeadSpares();
    if (!existsSync(this.root)) return;
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
          this.#o.log.info("reconnected to shim", { namespace: ns, id });
        } catch (err) {
          this.#o.log.warn("shim is gone; cleaning up", { namespace: ns, id, error: errorMessage(err) });
          await this.#cleanupDead(ns, id, bundle, binary);
          // The dead shim's socket (a unix socket outlives its server).
          if (address.startsWith("unix://")) rmSync(address.slice("unix://".length), { force: true });
          continue;
        }
        // Only once the shim answered: nothing but an unreachable shim may lead to a cleanup.
        await this.#openShimLog(ns, id, bundle, false).catch(() => {});
      }
    }
  }

  /**
   * A shim found at start-up without the task of its bundle: asked to exit (a group's shim stays
   * for its other tasks), then what is left of the task (runtime state, rootfs mount, bundle) goes.
   * No events: the task either never existed or its delete was published by the shim.
   */
  async #stopTaskless(h: ShimHandle): Promise<void> {
    letGo.add(h);
    try {
      await h.task.shutdown({ id: h.id, now: true }, { timeoutMs: 5000 });
      if (groupOf(h.bundle, h.id) === h.id) await settleWithin(h.task.closed, SHIM_EXIT_MS);
    } catch {}
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
