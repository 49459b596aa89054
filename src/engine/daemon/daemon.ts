// berthd's start-up and shutdown as a list of steps, each undone if a later one fails: claim the
// pid file, make the roots, load the engine id, reach containerd (the one given, or its own
// berth-containerd), build the API, listen. stop() undoes them in reverse: stop serving, stop
// the supervised berth-containerd (shims and containers outlive it: live restore), remove the
// sockets and the pid file.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ContainerdConnection } from "../../client/connection.ts";
import { FailedPreconditionError } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { ownDir } from "../../common/secure-fs.ts";
import { ApiServer } from "../api/server.ts";
import { addSystemRoutes, type EngineIdentity, type SystemFacts } from "../api/system-routes.ts";
import { ArchiveService } from "../containers/archive/service.ts";
import { sweepSpooledBodies, sweepTempMounts } from "../containers/archive/sweep.ts";
import { addArchiveRoutes } from "../containers/archive-routes.ts";
import { ContainerManager } from "../containers/manager.ts";
import { addContainerPruneRoute } from "../containers/prune.ts";
import { addContainerRoutes } from "../containers/routes.ts";
import { EventBus } from "../events/bus.ts";
import { busEvents } from "../events/emit.ts";
import { addEventRoutes } from "../events/routes.ts";
import { addExecRoutes } from "../exec/routes.ts";
import { ExecService } from "../exec/service.ts";
import { addCommitRoute } from "../images/commit-route.ts";
import { addImageRoutes } from "../images/routes.ts";
import { ImageService } from "../images/service.ts";
import { containerImageUsers } from "../images/users.ts";
import { addStatsRoutes } from "../stats/routes.ts";
import { StatsService } from "../stats/service.ts";
import { addSystemExtraRoutes } from "../system/routes.ts";
import { containerSizer } from "../system/sizes.ts";
import { ENGINE_VERSION } from "../version.ts";
import type { BuiltinRuntimes, DaemonConfig } from "./config.ts";
import {
  ContainerdSupervisor,
  ContainerdVersionProbe,
  containerdVersion,
  locateCommand,
} from "./containerd-supervisor.ts";
import { loadEngineId } from "./engine-id.ts";
import { readHostFacts } from "./host.ts";
import { type Listening, listenAll } from "./listeners.ts";
import { claimPidfile, releasePidfile } from "./pidfile.ts";

/** The runtimes berthd knows without configuration (berth-runc beside berthd, else on PATH). */
export function builtinRuntimes(): BuiltinRuntimes {
  return { "berth-runc": { path: locateCommand("berth-runc") }, runc: { path: "runc" }, crun: { path: "crun" } };
}

/** The host's tini, bound into containers run with --init (Debian's docker-init). */
const DOCKER_INIT = "/usr/bin/docker-init";

export interface Daemon {
  /** The containerd socket in use. */
  containerdAddress: string;
  listening: Listening[];
  stop(): Promise<void>;
}

function engineIdentity(): EngineIdentity {
  let buildTime = "";
  try {
    // The bundle's own time: the build wrote it.
    buildTime = statSync(fileURLToPath(import.meta.url)).mtime.toISOString();
  } catch {}
  return {
    version: ENGINE_VERSION.version,
    gitCommit: ENGINE_VERSION.gitCommit,
    buildTime,
    runtimeVersion: `n/a (node ${process.version})`,
  };
}

export async function startDaemon(config: DaemonConfig, log: DaemonLogger): Promise<Daemon> {
  const undo: (() => Promise<void> | void)[] = [];
  const unwind = async () => {
    for (const step of undo.reverse()) await step();
  };
  try {
    claimPidfile(config.pidfile);
    undo.push(() => releasePidfile(config.pidfile));
    ownDir(config.dataRoot, 0o711);
    ownDir(config.execRoot, 0o711);
    const id = loadEngineId(config.dataRoot);

    let containerdAddress: string;
    if (config.containerd !== undefined) {
      containerdAddress = config.containerd;
      let socket = false;
      try {
        socket = statSync(containerdAddress).isSocket();
      } catch {}
      if (!socket) throw new FailedPreconditionError(`containerd: ${containerdAddress} is not a socket`);
      if (!(await containerdVersion(containerdAddress, 5_000))) {
        throw new FailedPreconditionError(`containerd: nothing answers on ${containerdAddress}`);
      }
    } else {
      const supervisor = new ContainerdSupervisor({
        dataRoot: config.dataRoot,
        execRoot: config.execRoot,
        logLevel: config.logLevel,
        log,
      });
      undo.push(() => supervisor.stop());
      await supervisor.start();
      containerdAddress = supervisor.address;
    }

    const probe = new ContainerdVersionProbe(containerdAddress);
    undo.push(() => probe.close());
    const conn = new ContainerdConnection(containerdAddress, { namespace: config.containerdNamespace });
    undo.push(() => conn.close());
    // The engine's events (GET /events): containers and images report to it.
    const bus = new EventBus();
    const events = busEvents(bus);
    const containers = new ContainerManager({
      events,
      conn,
      dataRoot: config.dataRoot,
      execRoot: config.execRoot,
      runtimes: config.runtimes,
      defaultRuntime: config.defaultRuntime,
      log,
      ...(existsSync(DOCKER_INIT) ? { initBinary: DOCKER_INIT } : {}),
    });
    const execs = new ExecService({ conn, containers, execRoot: config.execRoot, log, events });
    containers.setExecHooks(execs.hooks());
    // Before any operation: temp mounts of containers' snapshots a killed berthd left.
    await sweepTempMounts(config.dataRoot, log);
    await containers.open();
    undo.push(() => containers.close());
    // Loaded archives spool on the data root's disk, as dockerd's <data-root>/tmp.
    const spoolDir = join(config.dataRoot, "tmp");
    ownDir(spoolDir, 0o700);
    sweepSpooledBodies(spoolDir); // docker cp bodies a killed berthd left
    const images = new ImageService({
      events,
      conn,
      log,
      spoolDir,
      users: containerImageUsers(
        () => containers.all(),
        (id) => containers.isRunning(id),
      ),
    });
    containers.setImageNames((s) => images.storeName(s));

    const facts: SystemFacts = {
      engine: engineIdentity(),
      host: readHostFacts(),
      id,
      dataRoot: config.dataRoot,
      debug: config.logLevel === "debug" || config.logLevel === "trace",
      liveRestore: config.liveRestore,
      runtimes: config.runtimes,
      defaultRuntime: config.defaultRuntime,
      containerdAddress,
      containerdNamespace: config.containerdNamespace,
      containerd: () => probe.version(),
      counts: async () => ({ ...containers.counts(), images: await images.count() }),
      eventListeners: () => bus.listeners,
      openFds: () => {
        try {
          return readdirSync("/proc/self/fd").length;
        } catch {
          return 0;
        }
      },
    };
    const api = new ApiServer(log, { server: `Berth/${ENGINE_VERSION.version} (linux)`, experimental: false });
    addSystemRoutes(api, facts);
    const sizer = containerSizer(
      () => images.list(),
      (id) => conn.snapshots().usage(id),
    );
    addContainerRoutes(api, containers, sizer);
    addContainerPruneRoute(api, containers, sizer);
    addArchiveRoutes(api, new ArchiveService(containers, { spoolDir }));
    addImageRoutes(api, images);
    addCommitRoute(api, images, containers);
    addExecRoutes(api, execs);
    addStatsRoutes(api, new StatsService(conn, containers, log));
    addEventRoutes(api, bus);
    addSystemExtraRoutes(api, { images: () => images.list(), containers: () => containers.all(), sizer });
    undo.push(() => api.close());
    const listening = await listenAll(api, config);
    undo.push(() => {
      for (const l of listening) l.cleanup();
    });
    for (const l of listening) {
      log.info("API listen on", {
        address: l.address.kind === "unix" ? l.address.path : `${l.address.host}:${l.address.port}`,
      });
    }
    log.info("berthd has completed initialization", { version: ENGINE_VERSION.version, containerd: containerdAddress });
    let stopped: Promise<void> | undefined;
    return {
      containerdAddress,
      listening,
      stop: () => {
        stopped ??= unwind();
        return stopped;
      },
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
