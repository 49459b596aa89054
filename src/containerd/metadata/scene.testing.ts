// Test fixtures of the metadata folder, for tests only: a metadata database in a temp directory,
// and a whole scene of stores (the database, a content store, a memory snapshotter and the
// namespaced views over them). close() removes everything.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { LocalContentStore } from "../content/local-store.ts";
import { MetadataDB } from "./db.ts";
import { MemorySnapshotter } from "./memory-snapshotter.testing.ts";
import { NamespacedContent, NamespacedSnapshotter } from "./namespaced.ts";

export interface TempDb {
  dir: string;
  db: MetadataDB;
  close(): Promise<void>;
}

/** A new metadata database (`<dir>/meta.db`) in a new temp directory named after `prefix`. */
export async function tempDb(prefix: string): Promise<TempDb> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const db = new MetadataDB(join(dir, "meta.db"));
  return {
    dir,
    db,
    close: async () => {
      db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A temp database for the tests of one file: made before the first, removed after the last. Read
 * `dir` and `db` inside the tests (they are set once `before` has run).
 */
export function tempDbForFile(prefix: string): { readonly dir: string; readonly db: MetadataDB } {
  let t: TempDb | undefined;
  before(async () => {
    t = await tempDb(prefix);
  });
  after(() => t?.close());
  const current = () => {
    if (!t) throw new Error("tempDbForFile: read before the tests ran");
    return t;
  };
  return {
    get dir() {
      return current().dir;
    },
    get db() {
      return current().db;
    },
  };
}

/** An image target for tests that need an image: a manifest that need not exist. */
export const MANIFEST_TARGET = {
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  digest: `sha256:${"1".repeat(64)}`,
  size: 10,
  annotations: {},
};

export interface MetadataScene extends TempDb {
  store: LocalContentStore;
  /** The snapshotter behind `snapshots`, named "memory". */
  backend: MemorySnapshotter;
  content: NamespacedContent;
  snapshots: NamespacedSnapshotter;
}

export async function metadataScene(prefix: string): Promise<MetadataScene> {
  const t = await tempDb(prefix);
  try {
    const store = await LocalContentStore.open(join(t.dir, "content"));
    const backend = new MemorySnapshotter();
    return {
      ...t,
      store,
      backend,
      content: new NamespacedContent(t.db, store),
      snapshots: new NamespacedSnapshotter(t.db, backend),
    };
  } catch (err) {
    await t.close();
    throw err;
  }
}
