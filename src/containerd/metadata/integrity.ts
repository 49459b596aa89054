// Checks that run before the daemon trusts its databases: each SQLite file is opened read-only and
// given SQLite's integrity check and a schema check, every row must parse, and the rows are held
// against the disk (blobs, snapshot directories). The start-up clean-up and collection delete what
// no row vouches for, so they may only run when this finds nothing wrong: a lost or damaged
// database would otherwise turn every blob and layer into "garbage".
//
// Findings come in two weights. Fatal: a file damaged, of another schema, with rows that do not
// parse, or disagreeing wholesale with the disk (an empty or missing database beside blobs or
// snapshot directories, most references dangling) — the daemon refuses to start and names the
// repair command. Suspect: a few dangling references (a row whose blob or directory is gone) — the
// daemon starts, but deletes no file nothing vouches for until the root is repaired.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SNAPSHOT_COLUMNS } from "../snapshots/store.ts";
import { metaRowProblem, rowKey, snapshotterRowProblem } from "./corrupt.ts";
import { META_TABLES } from "./schema.ts";

export const CONTENT_DIR = "io.containerd.content.v1.content";
export const META_DB = join("io.containerd.metadata.v1.sqlite", "meta.db");
export const SNAPSHOTTERS = ["overlayfs", "native"] as const;
export const snapshotterDir = (name: string) => `io.containerd.snapshotter.v1.${name}`;
export const SNAPSHOTTER_TABLES = { snapshots: SNAPSHOT_COLUMNS };

/** What a database file is, looked at read-only. */
export type DbState =
  | { state: "missing" }
  | { state: "empty" }
  | { state: "damaged"; problem: string }
  | { state: "ok"; db: DatabaseSync };

/**
 * Opens `path` read-only and checks it: SQLite's full integrity check (a few milliseconds for
 * thousands of rows; quick_check would miss a row that disagrees with its index, which is what a
 * few changed bytes in a row look like) and the tables and columns `tables` names.
 */
export function openChecked(path: string, tables: Readonly<Record<string, readonly string[]>>): DbState {
  if (!existsSync(path)) return { state: "missing" };
  if (statSync(path).size === 0) return { state: "empty" };
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const verdict = (db.prepare("PRAGMA integrity_check(20)").all() as { integrity_check: string }[]).map(
      (r) => r.integrity_check,
    );
    if (verdict.length !== 1 || verdict[0] !== "ok") {
      db.close();
      return { state: "damaged", problem: `SQLite's integrity check failed: ${verdict.slice(0, 3).join("; ")}` };
    }
    const present = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      ),
    );
    if (!Object.keys(tables).some((t) => present.has(t))) {
      db.close();
      return { state: "empty" };
    }
    for (const [table, columns] of Object.entries(tables)) {
      if (!present.has(table)) {
        db.close();
        return { state: "damaged", problem: `table ${table} is missing` };
      }
      const have = new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((r) => r.name));
      const lacking = columns.filter((c) => !have.has(c));
      if (lacking.length > 0) {
        db.close();
        return { state: "damaged", problem: `table ${table} lacks column(s) ${lacking.join(", ")}` };
      }
    }
    return { state: "ok", db };
  } catch (err) {
    if (db?.isOpen) db.close();
    return { state: "damaged", problem: (err as Error).message };
  }
}

// ---------------------------------------------------------------------------------------------
// The whole root

export interface RootReport {
  /** Reasons to refuse to start, each naming its file. */
  fatal: string[];
  /** Dangling references: start, but delete nothing nothing vouches for. */
  suspect: string[];
}

/** Blob digests in the content store. */
export function blobsOnDisk(root: string): string[] {
  const dir = join(root, CONTENT_DIR, "blobs", "sha256");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^[a-f0-9]{64}$/.test(n))
    .map((n) => `sha256:${n}`);
}

/** Snapshot directory ids of a snapshotter (numbered; "new-*" and "rm-*" are in-flight leftovers). */
export function snapshotDirs(snapshotterRoot: string): number[] {
  const dir = join(snapshotterRoot, "snapshots");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number);
}

const most = (dangling: number, of: number) => dangling >= 2 && dangling * 2 > of;
const LIST = 10;
const listed = (items: string[]) =>
  items.length > LIST ? [...items.slice(0, LIST), `… and ${items.length - LIST} more`] : items;

/**
 * Checks the databases of `root` against each other and the disk, reading only. Nothing under
 * `root` is changed (the files are opened read-only).
 */
export function checkRoot(root: string): RootReport {
  const fatal: string[] = [];
  const suspect: string[] = [];
  const blobs = blobsOnDisk(root);
  // Backend snapshot names per snapshotter, when its database could be read.
  const backends = new Map<string, Set<string>>();
  let backendCount = 0;
  let dirCount = 0;

  for (const name of SNAPSHOTTERS) {
    const sroot = join(root, snapshotterDir(name));
    if (!existsSync(sroot)) continue;
    const path = join(sroot, "metadata.db");
    const dirs = snapshotDirs(sroot);
    dirCount += dirs.length;
    const s = openChecked(path, SNAPSHOTTER_TABLES);
    if (s.state === "missing" || s.state === "empty") {
      if (dirs.length > 0)
        fatal.push(
          `${path} is ${s.state} while ${join(sroot, "snapshots")} holds ${dirs.length} snapshot directories: none of them can be vouched for`,
        );
      backends.set(name, new Set());
      continue;
    }
    if (s.state === "damaged") {
      fatal.push(`${path}: ${s.problem}`);
      continue;
    }
    try {
      const rows = s.db.prepare("SELECT id, name, parent_id, kind, labels FROM snapshots").all() as Record<
        string,
        unknown
      >[];
      const ids = new Set(rows.map((r) => Number(r.id)));
      const have = new Set(dirs);
      const names = new Set<string>();
      const noDir: string[] = [];
      for (const r of rows) {
        const problem = snapshotterRowProblem(r);
        if (problem) {
          fatal.push(`${path}: snapshots row id ${r.id} is corrupt: ${problem}`);
          continue;
        }
        names.add(String(r.name));
        if (!have.has(Number(r.id))) noDir.push(`${path}: snapshot ${r.name} has no directory snapshots/${r.id}`);
        if (r.parent_id !== null && !ids.has(Number(r.parent_id)))
          suspect.push(`${path}: snapshot ${r.name} names parent id ${r.parent_id}, which has no row`);
      }
      backendCount += rows.length;
      if (most(noDir.length, rows.length))
        fatal.push(`${path}: ${noDir.length} of its ${rows.length} snapshots have no directory`);
      else suspect.push(...noDir);
      backends.set(name, names);
    } catch (err) {
      fatal.push(`${path}: ${(err as Error).message}`);
    } finally {
      s.db.close();
    }
  }

  const path = join(root, META_DB);
  const m = openChecked(path, META_TABLES);
  if (m.state === "missing" || m.state === "empty") {
    if (blobs.length + backendCount + dirCount > 0)
      fatal.push(
        `${path} is ${m.state} while the content store holds ${blobs.length} blobs and the snapshotters ${Math.max(backendCount, dirCount)} snapshots: the database cannot vouch for any of them`,
      );
  } else if (m.state === "damaged") {
    fatal.push(`${path}: ${m.problem}`);
  } else {
    try {
      // Every write makes its namespace first (and a namespace goes only once empty): a database
      // without one is new, whatever the disk holds.
      const namespaces = Number((m.db.prepare("SELECT COUNT(*) AS n FROM namespaces").get() as { n: number }).n);
      if (namespaces === 0 && blobs.length + backendCount > 0)
        fatal.push(
          `${path} is a new database (no namespace) while the content store holds ${blobs.length} blobs and the snapshotters ${backendCount} snapshots: the database cannot vouch for any of them`,
        );
      const onDisk = new Set(blobs);
      const rowsOf = (table: string) => m.db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
      for (const table of Object.keys(META_TABLES)) {
        for (const r of rowsOf(table)) {
          const problem = metaRowProblem(table, r);
          if (problem) fatal.push(`${path}: ${table} row ${rowKey(table, r)} is corrupt: ${problem}`);
        }
      }
      const content = rowsOf("content");
      const noBlob = content
        .filter((r) => !onDisk.has(String(r.digest)))
        .map((r) => `${path}: content row ${rowKey("content", r)} has no blob in the content store`);
      if (most(noBlob.length, content.length))
        fatal.push(`${path}: ${noBlob.length} of its ${content.length} content rows have no blob on disk`);
      else suspect.push(...noBlob);
      const snapshots = rowsOf("snapshots");
      const noBackend = snapshots
        .filter((r) => backends.get(String(r.snapshotter))?.has(String(r.backend_key)) === false)
        .map(
          (r) =>
            `${path}: snapshots row ${rowKey("snapshots", r)} names backend snapshot ${JSON.stringify(r.backend_key)}, which the ${r.snapshotter} snapshotter does not have`,
        );
      if (most(noBackend.length, snapshots.length))
        fatal.push(`${path}: ${noBackend.length} of its ${snapshots.length} snapshot rows name no backend snapshot`);
      else suspect.push(...noBackend);
    } catch (err) {
      fatal.push(`${path}: ${(err as Error).message}`);
    } finally {
      m.db.close();
    }
  }
  return { fatal: listed(fatal), suspect: listed(suspect) };
}

/** The refusal: what is wrong, that nothing was deleted, and the command that repairs it. */
export function refusal(root: string, fatal: string[]): string {
  return [
    `the metadata under ${root} cannot be trusted, so nothing was cleaned up or deleted:`,
    ...fatal.map((f) => `  ${f}`),
    `run \`berth-containerd repair --root ${root}\` (with --dry-run first to see what it would do): it moves damaged files and what they cannot vouch for into ${join(root, "lost+found")} and rebuilds what the disk still holds`,
  ].join("\n");
}
