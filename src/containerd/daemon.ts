// berth-containerd assembled: the stores on disk under --root (stores.ts), the services over them
// (the table in services/index.ts), and the gRPC server on --address. Start-up first checks the
// databases against the disk (refusing a damaged or lost one: metadata/integrity.ts), then sweeps
// what a crash may have left (snapshot directories without rows, blobs without a namespace), then
// serves. startDaemon reads as the list of its steps, and stop() as the list of its own.
import { closeSync, constants, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type * as grpc from "@grpc/grpc-js";
import { FailedPreconditionError } from "../common/errors.ts";
import type { DaemonLogger } from "../common/log.ts";
import { listenUnix, makeDir, ownDir } from "../common/secure-fs.ts";
import { shimSys } from "../common/sys.ts";
import { bindUnix, createServer, messageLimits, shutdownServer } from "../rpc/grpc.ts";
import type { ErrorObserver } from "../rpc/service.ts";
import { createTtrpcServer, type TtrpcServer } from "../rpc/ttrpc/server.ts";
import { checkRoot, type RootReport, refusal } from "./metadata/integrity.ts";
import { ShimManager } from "./runtime/manager.ts";
import { DEFAULT_SHIMS } from "./runtime/shim-binary.ts";
import type { ServiceDeps } from "./services/deps.ts";
import { registerServices, registerShimServices } from "./services/index.ts";
import { publishDeadTask } from "./services/publish.ts";
import { openStores, sweepCrashLeftovers } from "./stores.ts";

export interface DaemonOptions {
  address: string;
  root: string;
  state: string;
  log: DaemonLogger;
  /** Runtime name → shim binary (see runtime/shim-binary.ts); defaults to DEFAULT_SHIMS. */
  shims?: ReadonlyMap<string, string>;
  /** Keep a spare berth-shim ready (default true). */
  spareShim?: boolean;
  /** A berth-shim per task that names no group, instead of one per namespace (default false). */
  shimPerContainer?: boolean;
  /** How long a namespace's berth-shim stays warm after its last task (ms; 0: it stops with it). */
  shimIdleMs?: number;
}

/** How long calls in progress may go on once the daemon is told to stop. */
export const SHUTDOWN_GRACE_MS = 1000;

export interface Daemon {
  deps: ServiceDeps;
  stop(): Promise<void>;
}

/**
 * Refuses a second daemon on the same root (two writers would corrupt each other's stores). The
 * root directory itself is locked (flock), so the kernel drops the lock the moment its holder
 * dies: a daemon killed with SIGKILL and not yet reaped (a zombie), or a pid reused since, never
 * holds the root, and two daemons starting together cannot both take it. The pid file only tells
 * who holds it. The fd stays open for the daemon's life.
 */
export function lockRoot(root: string): { pidFile: string; fd: number } {
  const pidFile = join(root, "berth-containerd.pid");
  // libuv opens every file O_CLOEXEC: the shims this daemon starts never inherit the lock.
  const fd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  if (!shimSys().tryLock(fd)) {
    closeSync(fd);
    let holder = "";
    try {
      holder = ` pid ${Number.parseInt(readFileSync(pidFile, "utf8"), 10)}`;
    } catch {}
    throw new FailedPreconditionError(`root ${root} is in use by berth-containerd${holder}`);
  }
  // A new file, not the old one rewritten: a pid file an older daemon left writable by others
  // (made under umask 000) must not stay so.
  rmSync(pidFile, { force: true });
  writeFileSync(pidFile, String(process.pid), { mode: 0o644, flag: "wx" });
  return { pidFile, fd };
}

/**
 * Starts berth-containerd, step by step: own --root and --state, lock the root, check the
 * databases against the disk (refusing a damaged or lost one), open the stores, sweep what a
 * crash left, serve the shims' events, reconnect to live shims, register the services, serve.
 */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { root, state, log } = opts;
  ownStateDirs([root, state], log);
  const lock = lockRoot(root);
  const check = checkRootOrRelease(root, lock);
  const stores = await openStores(opts);
  await sweepCrashLeftovers(stores, check, opts);
  const shimEvents = await serveShimEvents(`${opts.address}.ttrpc`, stores.deps, log);
  const shims = await startShims(opts, stores.deps, shimEvents.address);
  const server = createServer({ ...messageLimits });
  registerServices(server, { deps: stores.deps, shims }, logFailedRequest(log));
  makeDir(dirname(opts.address), 0o711);
  await listenUnix(opts.address, 0o660, (at) => bindUnix(server, at));
  log.info("serving", { address: opts.address, root, state });

  return {
    deps: stores.deps,
    stop: async () => {
      await stopServing(server, log);
      // Shims and their containers keep running: a restarted daemon reconnects to them.
      await shims.close();
      await shimEvents.close();
      await stores.close();
      rmSync(opts.address, { force: true });
      releaseRoot(lock);
      log.info("stopped");
    },
  };
}

/**
 * 0711 as containerd's: only root lists or changes them; whatever a container needs to reach
 * inside (a bundle's rootfs) is reached by its known path. Looser modes left by an earlier daemon
 * or an administrator are tightened; a directory another user owns is refused.
 */
function ownStateDirs(dirs: string[], log: DaemonLogger): void {
  for (const dir of dirs) {
    const had = ownDir(dir, 0o711);
    if (had !== undefined) log.warn("directory permissions tightened", { dir, from: had.toString(8), to: "711" });
  }
}

function releaseRoot(lock: { pidFile: string; fd: number }): void {
  rmSync(lock.pidFile, { force: true });
  closeSync(lock.fd);
}

/**
 * Before any store opens its file (which writes a schema into an empty one) and before the sweeps
 * delete whatever no row vouches for: a lost or damaged database must not make every blob and
 * layer look like garbage (metadata/integrity.ts). A refusal releases the root.
 */
function checkRootOrRelease(root: string, lock: { pidFile: string; fd: number }): RootReport {
  const check = checkRoot(root);
  if (check.fatal.length > 0) {
    releaseRoot(lock);
    throw new FailedPreconditionError(refusal(root, check.fatal));
  }
  return check;
}

/** Shims publish task events to <address>.ttrpc, as containerd's shims do to containerd. */
async function serveShimEvents(
  address: string,
  deps: ServiceDeps,
  log: DaemonLogger,
): Promise<{ address: string; close(): Promise<void> }> {
  const server: TtrpcServer = createTtrpcServer({
    onListenerError: (err) => log.warn("events socket: accept failed", { error: err.message }),
  });
  registerShimServices(server, deps);
  makeDir(dirname(address), 0o711);
  // 0660, as containerd's sockets: root and the socket's group (root's, here) may connect.
  await server.listen(address, 0o660);
  return {
    address,
    close: async () => {
      await server.close();
      rmSync(address, { force: true });
    },
  };
}

/** The runtime manager: live shims found again, dead ones cleaned up and reported, a spare warmed. */
async function startShims(opts: DaemonOptions, deps: ServiceDeps, ttrpcAddress: string): Promise<ShimManager> {
  const shims = new ShimManager({
    state: opts.state,
    grpcAddress: opts.address,
    ttrpcAddress,
    shims: opts.shims ?? DEFAULT_SHIMS,
    spare: opts.spareShim ?? true,
    perContainer: opts.shimPerContainer ?? false,
    shimIdleMs: opts.shimIdleMs ?? 0,
    log: opts.log.with({ module: "runtime" }),
    onDeadShim: (d) => publishDeadTask(deps, d),
  });
  await shims.load();
  shims.warmSpare();
  return shims;
}

/** A failed call at debug level, with the trace it belonged to. */
function logFailedRequest(log: DaemonLogger): ErrorObserver {
  return (method, err, ctx) =>
    log
      .withTrace(ctx.trace)
      .debug("request failed", { method, error: err instanceof Error ? err.message : String(err) });
}

/**
 * Streams stay open as long as their clients (ctr events, an attached ctr run's Wait): they get a
 * short grace, then are cancelled, as containerd ends its own within about a second.
 */
async function stopServing(server: grpc.Server, log: DaemonLogger): Promise<void> {
  const { forced } = await shutdownServer(server, SHUTDOWN_GRACE_MS);
  if (forced) log.info("calls still open at shutdown were cancelled", { graceMs: SHUTDOWN_GRACE_MS });
}
