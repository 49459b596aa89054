// The metadata database: every namespaced record of the daemon in one SQLite file (WAL, one
// transaction per change), the role containerd's bolt database plays. Blobs and snapshot
// directories live in the content store and snapshotters; this holds which namespace sees them,
// their labels, images, containers and leases. One file per table (`*-table.ts`) over one
// connection (connection.ts) and one schema (schema.ts); this composes them.

import { Connection } from "./connection.ts";
import { ContainersTable } from "./containers-table.ts";
import { ContentTable } from "./content-table.ts";
import { sqliteFault } from "./corrupt.ts";
import type { GcGraphInput } from "./gc.ts";
import { ImagesTable } from "./images-table.ts";
import { LeasesTable } from "./leases-table.ts";
import { NamespacesTable } from "./namespaces-table.ts";
import { applySchema } from "./schema.ts";
import { SnapshotsTable } from "./snapshots-table.ts";

export class MetadataDB {
  readonly #conn: Connection;
  readonly namespaces: NamespacesTable;
  readonly images: ImagesTable;
  readonly containers: ContainersTable;
  readonly leases: LeasesTable;
  /** Which namespace sees which blob. */
  readonly content: ContentTable;
  /** Which namespace's snapshot key is which backend snapshot. */
  readonly snapshots: SnapshotsTable;

  constructor(path: string) {
    const conn = new Connection(path);
    try {
      applySchema(conn);
    } catch (err) {
      if (conn.isOpen) conn.close();
      throw sqliteFault(path, err);
    }
    this.#conn = conn;
    this.namespaces = new NamespacesTable(conn);
    this.images = new ImagesTable(conn, this.namespaces);
    this.containers = new ContainersTable(conn, this.namespaces);
    this.leases = new LeasesTable(conn, this.namespaces);
    this.content = new ContentTable(conn, this.namespaces, this.leases);
    this.snapshots = new SnapshotsTable(conn, this.namespaces, this.leases);
  }

  /** The file, for messages: a damaged file or a corrupt row is named. */
  get path(): string {
    return this.#conn.path;
  }

  close(): void {
    this.#conn.close();
  }

  /**
   * Runs `fn` in one transaction (nested calls join the outer one). A full disk is answered as
   * "write <this file>: no space left on device" (see sqliteTransaction).
   */
  transaction<T>(fn: () => T): T {
    return this.#conn.transaction(fn);
  }

  /** The whole graph GC needs, read in one transaction (ingests come from the content store). */
  gcSnapshot(): GcGraphInput {
    return this.transaction(() => ({
      namespaces: this.namespaces.gcRows(),
      images: this.images.gcRows(),
      containers: this.containers.gcRows(),
      leases: this.leases.gcRows(),
      leaseResources: this.leases.gcResourceRows(),
      content: this.content.gcRows(),
      snapshots: this.snapshots.gcRows(),
      ingests: [],
    }));
  }
}
