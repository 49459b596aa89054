// The long-lived shim: subreaper for its containers, ttrpc server of containerd.task.v2.Task on
// its socket, events publisher back to the daemon. It writes the bundle's `address` file (how a
// restarted daemon finds it again) and tells `start` it is ready on fd 3. Its own log goes to the
// bundle's `log` fifo when the daemon reads one (containerd does), otherwise nowhere.
import { closeSync, constants, existsSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { errorMessage } from "../common/errors.ts";
import { Task } from "../proto/gen/containerd/task/v2/shim_pb.js";
import { EventPublisher } from "./publisher.ts";
import { Reaper } from "./reaper.ts";
import { TaskService } from "./service.ts";
import { type ShimArgs, writeAddress } from "./start.ts";
import { addTtrpcService, createTtrpcServer } from "./ttrpc/server.ts";

/** The OCI runtime when a task's options name none: $BERTH_SHIM_RUNTIME, else berth-runc. */
export function defaultRuntime(): string {
  if (process.env.BERTH_SHIM_RUNTIME) return process.env.BERTH_SHIM_RUNTIME;
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
  return process.env.BERTH_SHIM_RUNTIME_ROOT || "/run/berth/runc";
}

function openLog(bundle: string): (msg: string) => void {
  let fd: number | undefined;
  try {
    // Non-blocking: with no reader (a daemon that is not listening) there is no log, not a hang.
    fd = openSync(join(bundle, "log"), constants.O_WRONLY | constants.O_NONBLOCK | constants.O_APPEND);
  } catch {
    return () => {};
  }
  return (msg) => {
    try {
      writeSync(fd, `time="${new Date().toISOString()}" level=info msg=${JSON.stringify(msg)}\n`);
    } catch {
      // A full or closed log loses lines, never the container.
    }
  };
}

export async function serveShim(a: ShimArgs & { socket: string }): Promise<void> {
  const log = openLog(a.bundle);
  // Nothing may go to stderr after start has returned: its reader is gone.
  process.stderr.on("error", () => {});
  process.on("uncaughtException", (err) => log(`uncaught: ${errorMessage(err)}`));
  process.on("unhandledRejection", (err) => log(`unhandled: ${errorMessage(err)}`));
  for (const sig of ["SIGINT", "SIGHUP", "SIGPIPE"] as const) process.on(sig, () => {});

  const reaper = new Reaper();
  reaper.start();
  const ttrpcAddress = process.env.TTRPC_ADDRESS ?? (a.address ? `${a.address}.ttrpc` : "");
  const events = new EventPublisher(ttrpcAddress);
  const server = createTtrpcServer();
  const socket = a.socket || join("/run/berth/s", `${a.namespace}-${a.id}`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    log("shutting down");
    await events.flush(2000);
    events.close();
    await server.close();
    rmSync(socket, { force: true });
    process.exit(0);
  };

  const service = new TaskService(
    { namespace: a.namespace, defaultRuntime: defaultRuntime(), runtimeRootBase: runtimeRootBase() },
    reaper,
    events,
    () => void shutdown(),
  );
  addTtrpcService(server, Task, service.impl, (method, err) => log(`${method}: ${errorMessage(err)}`));
  mkdirSync(dirname(socket), { recursive: true, mode: 0o711 });
  await server.listen(socket);
  writeAddress(a.bundle, `unix://${socket}`);
  log(`serving ${a.namespace}/${a.id} on ${socket}`);
  try {
    writeSync(3, "ready\n");
    closeSync(3);
  } catch {
    // Not started by `start` (run by hand): nobody waits on fd 3.
  }
}
