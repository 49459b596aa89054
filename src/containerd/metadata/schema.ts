// The metadata database's schema: its tables, its version, and the migrations from older ones.
import { FailedPreconditionError } from "../../common/errors.ts";
import type { Connection } from "./connection.ts";

/**
 * The schema this code writes; a database from a newer berth is refused rather than misread.
 * 2: a snapshot's backend key is unique per snapshotter, not across them (each snapshotter
 * numbers its keys on its own sequence, so two of them unpacking one image met on one key).
 */
export const SCHEMA_VERSION = 2;

/** The snapshots table; `name` lets a migration build it beside the old one. */
const snapshotsTable = (name: string) => `
  CREATE TABLE IF NOT EXISTS ${name} (ns TEXT, snapshotter TEXT, key TEXT, backend_key TEXT NOT NULL,
    parent TEXT NOT NULL, kind TEXT NOT NULL, labels TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (ns, snapshotter, key), UNIQUE (snapshotter, backend_key));`;

/**
 * The tables and columns this schema has, for the start-up check (integrity.ts) and the repair
 * command, which must recognise a database of this daemon before trusting or salvaging it.
 */
export const META_TABLES: Readonly<Record<string, readonly string[]>> = {
  schema_version: ["version"],
  namespaces: ["name", "labels", "created"],
  images: ["ns", "name", "target", "labels", "created", "updated"],
  containers: ["ns", "id", "record", "created", "updated"],
  leases: ["ns", "id", "labels", "created"],
  lease_resources: ["ns", "lease", "type", "rid"],
  content: ["ns", "digest", "labels", "created", "updated"],
  snapshots: ["ns", "snapshotter", "key", "backend_key", "parent", "kind", "labels", "created", "updated"],
  sequence: ["name", "value"],
};

/** Makes the tables of an empty database, or brings an older one up to SCHEMA_VERSION. */
export function applySchema(conn: Connection): void {
  conn.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
  conn.exec(`
    CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS namespaces (name TEXT PRIMARY KEY, labels TEXT NOT NULL, created INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS images (ns TEXT, name TEXT, target TEXT NOT NULL, labels TEXT NOT NULL,
      created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (ns, name));
    CREATE TABLE IF NOT EXISTS containers (ns TEXT, id TEXT, record TEXT NOT NULL,
      created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (ns, id));
    CREATE TABLE IF NOT EXISTS leases (ns TEXT, id TEXT, labels TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (ns, id));
    CREATE TABLE IF NOT EXISTS lease_resources (ns TEXT, lease TEXT, type TEXT, rid TEXT, PRIMARY KEY (ns, lease, type, rid));
    CREATE TABLE IF NOT EXISTS content (ns TEXT, digest TEXT, labels TEXT NOT NULL,
      created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (ns, digest));
    ${snapshotsTable("snapshots")}
    CREATE TABLE IF NOT EXISTS sequence (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `);
  const v = conn.get("SELECT version FROM schema_version");
  if (!v) conn.run("INSERT INTO schema_version VALUES (?)", SCHEMA_VERSION);
  else if (Number(v.version) > SCHEMA_VERSION) {
    throw new FailedPreconditionError(
      `metadata database ${conn.path}: schema version ${v.version} is newer than this daemon's (${SCHEMA_VERSION})`,
    );
  } else if (Number(v.version) < 2) migrateToV2(conn);
}

/** Version 1 had backend_key unique across snapshotters: the table is rebuilt, rows kept. */
function migrateToV2(conn: Connection): void {
  conn.transaction(() => {
    conn.exec(`
      ${snapshotsTable("snapshots_v2")}
      INSERT INTO snapshots_v2 SELECT ns, snapshotter, key, backend_key, parent, kind, labels, created, updated FROM snapshots;
      DROP TABLE snapshots;
      ALTER TABLE snapshots_v2 RENAME TO snapshots;
      UPDATE schema_version SET version = 2;
    `);
  });
}
