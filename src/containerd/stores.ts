// berth-containerd's stores under --root: the content store, the snapshotters, the metadata
// database over them and what the services share (services/deps.ts); and the start-up sweep of
// what a crash left behind.
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { DaemonLogger } from "../common/log.ts";
import { ownDir } from "../common/secure-fs.ts";
import { LocalContentStore } from "./content/local-store.ts";
import { LocalDiffService } from "./diff/local.ts";
import { Exchange } from "./events/exchange.ts";
import { GarbageCollector } from "./metadata/collector.ts";
import { MetadataDB } from "./metadata/db.ts";
import type { RootReport } from "./metadata/integrity.ts";
import { NamespacedContent, NamespacedSnapshotter } from "./metadata/namespaced.ts";
import type { ServiceDeps } from "./services/deps.ts";
import { NativeSnapshotter } from "./snapshots/native.ts";
import { OverlaySnapshotter } from "./snapshots/overlay.ts";
import type { Snapshotter } from "./snapshots/snapshotter.ts";

export interface StoreOptions {
  root: string;
  state: string;
  log: DaemonLogger;
}

export interface Stores {
  deps: ServiceDeps;
  backends: Map<string, Snapshotter>;
  close(): Promise<void>;
}

/** The content store, the snapshotters, the metadata database and what the services share. */
export async function openStores(opts: StoreOptions): Promise<Stores> {
  const { root, state, log } = opts;
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
  const deps: ServiceDeps = {
    db,
    content: new NamespacedContent(db, store),
    snapshotters: new Map([...backends].map(([name, b]) => [name, new NamespacedSnapshotter(db, b)])),
    diff: new LocalDiffService(),
    gc: new GarbageCollector(db, store, backends, log.with({ module: "gc" })),
    events: new Exchange(),
    log,
    root,
    state,
  };
  return {
    deps,
    backends,
    close: async () => {
      for (const b of backends.values()) await b.close();
      db.close();
    },
  };
}

/**
 * What a crash may have left: snapshot directories without rows, layers a killed pull was
 * extracting ahead of their chain (transfer/local-ports.ts), blobs without a namespace. When rows
 * name files that are gone, the files no row vouches for are kept until the root is repaired.
 */
export async function sweepCrashLeftovers(stores: Stores, check: RootReport, opts: StoreOptions): Promise<void> {
  const { root, log } = opts;
  const { backends, deps } = stores;
  if (check.suspect.length === 0) {
    for (const b of backends.values()) await b.cleanup();
  } else {
    for (const problem of check.suspect) log.warn("metadata disagrees with the disk", { problem });
    const reason = `rows name files that are gone: run berth-containerd repair --root ${root}`;
    log.warn("keeping every file no row vouches for", { reason });
    deps.gc.keepFiles(reason);
  }
  rmSync(join(backends.get("overlayfs")!.root, "staging"), { recursive: true, force: true });
  await deps.gc.collect();
}
