// The long-lived shim: subreaper for its containers, ttrpc server of containerd.task.v2.Task on
// its socket, events publisher back to the daemon. It writes the bundle's `address` file (how a
// restarted daemon finds it again) and tells `start` it is ready on fd 3. Its own log goes to the
// bundle's `log`: a fifo the daemon reads (containerd makes one), or a plain file.
import { closeSync, constants, existsSync, fstatSync, openSync, rmSync, writeSync } from "node:fs";
import * as net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BerthError, errorMessage } from "../common/errors.ts";
import { DaemonLogger } from "../common/log.ts";
import { makeDir } from "../common/secure-fs.ts";
import { Task } from "../proto/gen/containerd/task/v2/shim_pb.js";
import { addTtrpcService, createTtrpcServer } from "../rpc/ttrpc/server.ts";
import { adoptTasks, bundlesNaming } from "./adopt.ts";
import { Bundle, READY_FD, readShimEnv } from "./bundle.ts";
import { EventPublisher } from "./publisher.ts";
import { Reaper } from "./reaper.ts";
import { TaskService } from "./service.ts";
import { type ShimArgs, SOCKET_DIR } from "./start.ts";

/** The OCI runtime when a task's options name none: $BERTH_SHIM_RUNTIME, else berth-runc. */
export function defaultRuntime(): string {
  const runtime = readShimEnv().runtime;
  if (runtime) return runtime;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, "berth-runc.mjs"), join(here, "..", "..", "dist", "berth-runc.mjs")]) {
    if (existsSync(p)) return p;
  }
  return "berth-runc";
}

/**
 * Where the runtime keeps its state (its --root, per namespace) when the options name none:
 * $BERTH_SHIM_RUNTIME_ROOT (berth-containerd points it into its --state, so daemons side by side
 * never share one), else /run/berth/runc.
 */
export function runtimeRootBase(): string {
  return readShimEnv().runtimeRoot ?? "/run/berth/runc";
}

/**
 * The shim's log: the bundle's `log` fifo when the daemon made one and reads it (containerd does),
 * else a `log` file in the bundle. Until it has a bundle (a spare), nowhere. A shared shim outlives
 * the bundle it started in: once that bundle's log is gone, it logs in the next task's bundle.
 */
class ShimLog {
  #fd: number | undefined;

  /** Logs in `bundle` unless the current log is still there. */
  follow(bundle: string): void {
    if (this.#fd !== undefined) {
      try {
        if (fstatSync(this.#fd).nlink > 0) return;
        closeSync(this.#fd);
      } catch {}
    }
    this.open(bundle);
  }

  open(bundle: string): void {
    try {
      // Non-blocking: a fifo nobody reads is no log, not a hang.
      this.#fd = openSync(
        new Bundle(bundle).shimLog,
        constants.O_WRONLY | constants.O_NONBLOCK | constants.O_APPEND | constants.O_CREAT,
        0o600,
      );
    } catch {
      this.#fd = undefined;
    }
  }

  /** Writes one formatted line (DaemonLogger's). */
  write = (line: string): void => {
    if (this.#fd === undefined) return;
    try {
      writeSync(this.#fd, line);
    } catch {
      // A full or closed log loses lines, never the container.
    }
  };
}

/**
 * How long a shared shim (a namespace's or a group's) outlives its last task when the daemon did
 * not say `now`: Debian's containerd runs `start` for a task of the group in another process,
 * which may have found the socket and be about to create the task here.
 */
const GROUP_GRACE_MS = 500;
/** How long a shared shim without tasks waits once a connection came in that grace. */
const ARRIVAL_GRACE_MS = 10_000;

/**
 * Calls `gone` once the pipe at `fd` reads EOF (or fails): its other end is held by the daemon
 * alone, so that is the daemon's end, whether it came before or after this process started.
 */
function watchParent(fd: number, gone: () => void): net.Socket {
  const pipe = new net.Socket({ fd, readable: true, writable: false });
  pipe.on("data", () => {}); // nothing is sent: reading is how the EOF is seen
  pipe.once("end", gone);
  pipe.once("error", gone);
  pipe.once("close", gone);
  pipe.unref();
  return pipe;
}

/**
 * Serves until Shutdown. A spare (`spare`: started ahead of need by berth-containerd) has no task,
 * namespace or bundle yet: its first Create gives them. A shim berth-containerd started itself
 * (a spare or not) gets `parentFd`: until its first Create arrives it exits when that pipe says
 * the daemon is gone, so no shim that no task reached outlives its daemon. (Comparing the ppid
 * with the parent noted at start-up could not do it: a daemon that died before Node had started
 * had already handed its child to init, and the noted "parent" was init.)
 */
export async function serveShim(
  a: ShimArgs & { socket: string; spare: boolean; adopt?: boolean; parentFd?: number | undefined },
): Promise<void> {
  const shimLog = new ShimLog();
  // Lines in containerd's logfmt; those of a call carry its trace id.
  const logger = new DaemonLogger(a.debug ? "debug" : "info", {}, shimLog.write);
  const log = (msg: string) => logger.info(msg);
  if (!a.spare) shimLog.open(a.bundle);
  // Nothing may go to stderr after start has returned: its reader is gone.
  process.stderr.on("error", () => {});
  process.on("uncaughtException", (err) => log(`uncaught: ${errorMessage(err)}`));
  process.on("unhandledRejection", (err) => log(`unhandled: ${errorMessage(err)}`));
  for (const sig of ["SIGINT", "SIGHUP", "SIGPIPE"] as const) process.on(sig, () => {});

  const reaper = new Reaper();
  reaper.start();
  const env = readShimEnv();
  const ttrpcAddress = env.ttrpcAddress ?? (a.address ? `${a.address}.ttrpc` : "");
  const events = new EventPublisher(ttrpcAddress);
  const server = createTtrpcServer({
    onListenerError: (err) => log(`accept failed: ${errorMessage(err)}`),
    // A connection while a shared shim waits to exit is a task on its way: `start` found the
    // socket (its probe is this connection) and its daemon dials next, which on a loaded machine
    // can take longer than the grace; the shim waits for it rather than vanish under the dial.
    onConnection: () => {
      if (closing) return;
      // A probe of a shared shim while its events are flushed on the way out: the shutdown is
      // called off after the flush (a `start` that found the socket has returned its address).
      if (stopping && grouped && !shutdownNow) arrivedWhileStopping = true;
      if (exitTimer === undefined || stopping) return;
      clearTimeout(exitTimer);
      exitTimer = setTimeout(() => void shutdown(), Math.max(env.idleExitMs ?? 0, ARRIVAL_GRACE_MS));
    },
  });
  const socket = a.socket || join(SOCKET_DIR, `${a.namespace}-${a.id}`);

  // A shim that serves a group (its namespace's, or one the containers name) may get new tasks
  // while it has none. A spare learns at its first Create: berth-containerd hands it the first
  // task of a namespace, or with one shim per container a task of its own.
  const grouped = a.spare ? !env.perContainer : (env.group ?? a.id) !== a.id;
  let exitTimer: NodeJS.Timeout | undefined;
  /** A shutdown is under way (its events are being flushed). */
  let stopping = false;
  /** Past the point of no return: a Create is refused, not started and then cut off. */
  let closing = false;
  /** Creates being served: a task that arrived while the events were flushed keeps the shim. */
  let creating = 0;
  /** A connection came while the events were flushed: a task may be on its way (see onConnection). */
  let arrivedWhileStopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    log("shutting down");
    await events.flush(2000);
    if (service.tasks.size > 0 || creating > 0 || arrivedWhileStopping) {
      // A task of the group found the socket meanwhile: this shim serves it. One that only
      // probed it gets the arrival grace, as a probe before the shutdown would have.
      stopping = false;
      if (service.tasks.size === 0 && creating === 0)
        exitTimer = setTimeout(() => void shutdown(), Math.max(env.idleExitMs ?? 0, ARRIVAL_GRACE_MS));
      arrivedWhileStopping = false;
      log("a task arrived: not shutting down");
      return;
    }
    closing = true;
    events.close();
    await server.close();
    rmSync(socket, { force: true });
    process.exit(0);
  };
  /** Whether the Shutdown being answered said `now` (berth-containerd: no task is on its way). */
  let shutdownNow = false;

  let adopted = !a.spare;
  let parent: net.Socket | undefined;
  /** A Create has arrived: from now on the daemon finds this shim through the bundle's address. */
  let reached = false;
  const service = new TaskService(
    {
      namespace: a.spare ? "" : a.namespace,
      defaultRuntime: defaultRuntime(),
      runtimeRootBase: runtimeRootBase(),
      linkedDefault: env.runtime === undefined,
      log: logger,
    },
    reaper,
    events,
    () => {
      log(`no task left${shutdownNow ? "; told to exit now" : ""}`);
      // A shared shim waits a moment before it exits unless told `now`: a task of its group may
      // have found its socket and be about to be created in it. berth-containerd keeping a
      // namespace's shim warm sets a longer wait: its own stop comes first while it lives.
      if (grouped && !shutdownNow) exitTimer ??= setTimeout(() => void shutdown(), env.idleExitMs ?? GROUP_GRACE_MS);
      else void shutdown();
    },
    (namespace, bundle) => {
      if (exitTimer) clearTimeout(exitTimer);
      exitTimer = undefined;
      if (!reached) {
        reached = true;
        parent?.destroy(); // not inherited by what the runtime starts
      }
      // The bundle's `address` is how a restarted daemon finds this shim for that task.
      const b = new Bundle(bundle);
      if (!existsSync(b.address)) b.writeAddress(`unix://${socket}`);
      shimLog.follow(bundle);
      if (adopted) return;
      adopted = true;
      log(`spare shim serving ${namespace} in ${bundle} on ${socket}`);
    },
  );
  const { create, shutdown: shutdownCall } = service.impl;
  service.impl.create = async (req, ctx) => {
    if (closing) throw new BerthError("unavailable", `shim ${socket}: shutting down`);
    creating++;
    try {
      return await create(req, ctx);
    } finally {
      creating--;
    }
  };
  service.impl.shutdown = (req, ctx) => {
    shutdownNow = req.now;
    return shutdownCall(req, ctx);
  };
  addTtrpcService(server, Task, service.impl, (method, err, ctx) =>
    logger.withTrace(ctx.trace).info(`${method}: ${errorMessage(err)}`),
  );
  // Its directory is made by whoever chose the socket (start.ts: 0711, root's alone); one made
  // here (a socket named by hand) gets 0711 too. The socket itself is 0600 (ttrpc/server.ts).
  makeDir(dirname(socket), 0o711);
  // The tasks of a shim that died on this socket are adopted before this one answers, so a
  // daemon's Connect finds them all (adopt.ts); a shim with tasks no longer watches its daemon.
  // Only when berth-containerd asks: Debian's containerd cleans up a dead shim's tasks itself.
  if (a.adopt && !a.spare) {
    const n = await adoptTasks(service, bundlesNaming(dirname(a.bundle), `unix://${socket}`), logger);
    if (n > 0 && a.parentFd !== undefined) {
      reached = true;
      try {
        closeSync(a.parentFd);
      } catch {}
    }
  }
  await server.listen(socket);
  if (a.parentFd !== undefined && !reached) {
    parent = watchParent(a.parentFd, () => {
      if (!reached) void shutdown();
    });
  }
  if (a.spare) {
    process.on("SIGTERM", () => {
      if (!adopted) void shutdown();
    });
  } else {
    new Bundle(a.bundle).writeAddress(`unix://${socket}`);
    log(`serving ${a.namespace}/${a.id} on ${socket}`);
  }
  try {
    writeSync(READY_FD, "ready\n");
    closeSync(READY_FD);
  } catch {
    // Not started by `start` (run by hand): nobody waits on READY_FD.
  }
}
