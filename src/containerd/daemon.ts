// berth-containerd assembled: the stores on disk under --root, the services over them, and the gRPC
// server on --address. Start-up first checks the databases against the disk (refusing a damaged
// or lost one: metadata/integrity.ts), then sweeps what a crash may have left (snapshot
// directories without rows, blobs without a namespace), then serves.
import { closeSync, constants, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { FailedPreconditionError, InvalidArgumentError } from "../common/errors.ts";
import type { DaemonLogger } from "../common/log.ts";
import { listenUnix, makeDir, ownDir } from "../common/secure-fs.ts";
import { shimSys } from "../common/sys.ts";
import { Transfer } from "../proto/gen/berth/transfer/v1/transfer_pb.js";
import { TaskDeleteSchema, TaskExitSchema } from "../proto/gen/containerd/events/task_pb.js";
import { Containers } from "../proto/gen/containerd/services/containers/v1/containers_pb.js";
import { Content } from "../proto/gen/containerd/services/content/v1/content_pb.js";
import { Diff } from "../proto/gen/containerd/services/diff/v1/diff_pb.js";
import { Events } from "../proto/gen/containerd/services/events/v1/events_pb.js";
import { Images } from "../proto/gen/containerd/services/images/v1/images_pb.js";
import { Introspection } from "../proto/gen/containerd/services/introspection/v1/introspection_pb.js";
import { Leases } from "../proto/gen/containerd/services/leases/v1/leases_pb.js";
import { Namespaces } from "../proto/gen/containerd/services/namespaces/v1/namespace_pb.js";
import { Snapshots } from "../proto/gen/containerd/services/snapshots/v1/snapshots_pb.js";
import { Tasks } from "../proto/gen/containerd/services/tasks/v1/tasks_pb.js";
import { Events as TtrpcEvents } from "../proto/gen/containerd/services/ttrpc/events/v1/events_pb.js";
import { Version } from "../proto/gen/containerd/services/version/v1/version_pb.js";
import { addService, createServer, messageLimits, shutdownServer } from "../rpc/grpc.ts";
import { addTtrpcService, createTtrpcServer } from "../rpc/ttrpc/server.ts";
import { LocalContentStore } from "./content/local-store.ts";
import { LocalDiffService } from "./diff/local.ts";
import { Exchange } from "./events/exchange.ts";
import { GarbageCollector } from "./metadata/collector.ts";
import { MetadataDB } from "./metadata/db.ts";
import { checkRoot, refusal } from "./metadata/integrity.ts";
import { NamespacedContent, NamespacedSnapshotter } from "./metadata/namespaced.ts";
import { ShimManager } from "./runtime/manager.ts";
import { DEFAULT_SHIMS } from "./runtime/shim-binary.ts";
import { containersService } from "./services/containers.ts";
import { contentService } from "./services/content.ts";
import type { ServiceDeps } from "./services/deps.ts";
import { ts } from "./services/deps.ts";
import { diffService } from "./services/diff.ts";
import { eventsService } from "./services/events.ts";
import { imagesService } from "./services/images.ts";
import { introspectionService } from "./services/introspection.ts";
import { leasesService } from "./services/leases.ts";
import { namespacesService } from "./services/namespaces.ts";
import { publish } from "./services/publish.ts";
import { snapshotsService } from "./services/snapshots.ts";
import { tasksService } from "./services/tasks.ts";
import { transferService } from "./services/transfer.ts";
import { versionService } from "./services/version.ts";
import { NativeSnapshotter } from "./snapshots/native.ts";
import { OverlaySnapshotter } from "./snapshots/overlay.ts";
import type { Snapshotter } from "./snapshots/snapshotter.ts";

export interface DaemonOptions {
  address: string;
  root: string;
  state: string;
  log: DaemonLogger;
  /** Runtime name → shim binary (see runtime/shim-binary.ts); defaults to DEFAULT_SHIMS. */
  shims?: ReadonlyMap<string, string>;
  /** Keep a spare berth-shim ready (default true). */
  spareShim?: boolean;
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

export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const { root, state, log } = opts;
  // 0711 as containerd's: only root lists or changes them; whatever a container needs to reach
  // inside (a bundle's rootfs) is reached by its known path. Looser modes left by an earlier
  // daemon or an administrator are tightened; a directory another user owns is refused.
  for (const dir of [root, state]) {
    const had = ownDir(dir, 0o711);
    if (had !== undefined) log.warn("directory permissions tightened", { dir, from: had.toString(8), to: "711" });
  }
  const lock = lockRoot(root);
  // Before any store opens its file (which writes a schema into an empty one) and before the sweeps
  // below delete whatever no row vouches for: a lost or damaged database must not make every blob
  // and layer look like garbage (metadata/integrity.ts).
  const check = checkRoot(root);
  if (check.fatal.length > 0) {
    rmSync(lock.pidFile, { force: true });
    closeSync(lock.fd);
    throw new FailedPreconditionError(refusal(root, check.fatal));
  }

  const store = await LocalContentStore.open(join(root, "io.containerd.content.v1.content"));
  const backends = new Map<string, Snapshotter>([
    ["overlayfs", await OverlaySnapshotter.open(join(root, "io.containerd.snapshotter.v1.overlayfs"))],
    ["native", await NativeSnapshotter.open(join(root, "io.containerd.snapshotter.v1.native"))],
  ]);
  const dbDir = join(root, "io.containerd.metadata.v1.sqlite");
  // The database files are made with SQLite's own modes (0644 minus the umask): the directory
  // keeps them private.
  ownDir(dbDir, 0o700);
  const db = new MetadataDB(join(dbDir, "meta.db"));
  const gc = new GarbageCollector(db, store, backends, log.with({ module: "gc" }));
  const deps: ServiceDeps = {
    db,
    content: new NamespacedContent(db, store),
    snapshotters: new Map([...backends].map(([name, b]) => [name, new NamespacedSnapshotter(db, b)])),
    diff: new LocalDiffService(),
    gc,
    events: new Exchange(),
    log,
    root,
    state,
  };
  if (check.suspect.length === 0) {
    // What a crash left: snapshot directories without rows.
    for (const b of backends.values()) await b.cleanup();
  } else {
    for (const problem of check.suspect) log.warn("metadata disagrees with the disk", { problem });
    const reason = `rows name files that are gone: run berth-containerd repair --root ${root}`;
    log.warn("keeping every file no row vouches for", { reason });
    gc.keepFiles(reason);
  }
  // Layers a killed pull was extracting ahead of their chain (transfer/local-ports.ts).
  rmSync(join(backends.get("overlayfs")!.root, "staging"), { recursive: true, force: true });
  await gc.collect();

  const server = createServer({ ...messageLimits });
  const onError = (method: string, err: unknown) =>
    log.debug("request failed", { method, error: err instanceof Error ? err.message : String(err) });
  addService(server, Version, versionService(), onError);
  addService(server, Namespaces, namespacesService(deps), onError);
  addService(server, Content, contentService(deps), onError);
  addService(server, Images, imagesService(deps), onError);
  addService(server, Leases, leasesService(deps), onError);
  addService(server, Snapshots, snapshotsService(deps), onError);
  addService(server, Diff, diffService(deps), onError);
  addService(server, Events, eventsService(deps), onError);
  addService(server, Containers, containersService(deps), onError);
  addService(server, Transfer, transferService(deps), onError);

  // Shims publish task events to <address>.ttrpc, as containerd's shims do to containerd.
  const ttrpcAddress = `${opts.address}.ttrpc`;
  const ttrpc = createTtrpcServer({
    onListenerError: (err) => log.warn("events socket: accept failed", { error: err.message }),
  });
  addTtrpcService(ttrpc, TtrpcEvents, {
    forward: async (req) => {
      const e = req.envelope;
      if (!e?.event) throw new InvalidArgumentError("forward: the envelope carries no event");
      deps.events.publish(e.namespace, e.topic, { typeUrl: e.event.typeUrl, value: e.event.value });
      return {};
    },
  });
  makeDir(dirname(ttrpcAddress), 0o711);
  // 0660, as containerd's sockets: root and the socket's group (root's, here) may connect.
  await ttrpc.listen(ttrpcAddress, 0o660);
  const shims = new ShimManager({
    state,
    grpcAddress: opts.address,
    ttrpcAddress,
    shims: opts.shims ?? DEFAULT_SHIMS,
    spare: opts.spareShim ?? true,
    log: log.with({ module: "runtime" }),
    onDeadShim: (d) => {
      const exitedAt = ts(d.exitedAt);
      publish(deps, d.namespace, "/tasks/exit", TaskExitSchema, {
        containerId: d.id,
        id: d.id,
        pid: d.pid,
        exitStatus: d.exitStatus,
        exitedAt,
      });
      publish(deps, d.namespace, "/tasks/delete", TaskDeleteSchema, {
        containerId: d.id,
        id: d.id,
        pid: d.pid,
        exitStatus: d.exitStatus,
        exitedAt,
      });
    },
  });
  await shims.load();
  shims.warmSpare();
  addService(server, Tasks, tasksService(deps, shims), onError);
  const names = [
    "version",
    "namespaces",
    "content",
    "images",
    "leases",
    "snapshots",
    "diff",
    "events",
    "containers",
    "tasks",
    "introspection",
  ];
  addService(server, Introspection, introspectionService(deps, names), onError);

  makeDir(dirname(opts.address), 0o711);
  await listenUnix(
    opts.address,
    0o660,
    (at) =>
      new Promise<void>((resolve, reject) =>
        server.bindAsync(`unix://${at}`, grpc.ServerCredentials.createInsecure(), (err) =>
          err ? reject(err) : resolve(),
        ),
      ),
  );
  log.info("serving", { address: opts.address, root, state });

  return {
    deps,
    stop: async () => {
      // Streams stay open as long as their clients (ctr events, an attached ctr run's Wait): they
      // get a short grace, then are cancelled, as containerd ends its own within about a second.
      const { forced } = await shutdownServer(server, SHUTDOWN_GRACE_MS);
      if (forced) log.info("calls still open at shutdown were cancelled", { graceMs: SHUTDOWN_GRACE_MS });
      // Shims and their containers keep running: a restarted daemon reconnects to them.
      await shims.close();
      await ttrpc.close();
      rmSync(ttrpcAddress, { force: true });
      for (const b of backends.values()) await b.close();
      db.close();
      rmSync(opts.address, { force: true });
      rmSync(lock.pidFile, { force: true });
      closeSync(lock.fd);
      log.info("stopped");
    },
  };
}
