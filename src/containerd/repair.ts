// `berth-containerd repair --root R [--dry-run]`: brings a root whose databases are damaged, lost
// or disagree with the disk back to a state the daemon starts on, deleting nothing. It holds the
// root's lock (so it never runs beside a daemon), then, snapshotters first (meta.db names their
// snapshots):
//
// - a damaged or unreadable database file is moved aside into <root>/lost+found/<time>/ with its
//   WAL, and a new one is written with every row that could still be read and parses;
// - a snapshotter row whose directory is gone is dropped (with its descendants), and a directory
//   no row owns is moved into lost+found (a layer nothing can vouch for is not trusted, but kept);
// - a meta.db row naming a blob or backend snapshot that is gone is dropped;
// - blobs and backend snapshots no meta.db row names are adopted: content and snapshot rows are
//   rebuilt (the namespace and key are read from the backend name "<ns>/<seq>/<key>") and held by
//   a lease "berth-repair-<time>" per namespace, so the collector keeps them and a re-pull or
//   re-import reuses them; deleting that lease lets the collector have what nothing else uses.
//
// Images, containers and leases that were only in a lost database cannot be rebuilt: they are
// re-pulled or re-imported (their blobs and layers are found again).
import { closeSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { InvalidArgumentError } from "../common/errors.ts";
import { bool, parseFlags, str, usageText } from "../common/flags.ts";
import { lockRoot } from "./daemon.ts";
import { metaRowProblem, rowKey, snapshotterRowProblem } from "./metadata/corrupt.ts";
import { MetadataDB } from "./metadata/db.ts";
import {
  blobsOnDisk,
  META_DB,
  openChecked,
  SNAPSHOTTER_TABLES,
  SNAPSHOTTERS,
  snapshotDirs,
  snapshotterDir,
} from "./metadata/integrity.ts";
import { META_TABLES } from "./metadata/schema.ts";
import { backendSequence } from "./metadata/snapshots-table.ts";
import { splitBackendKey } from "./metadata/validate.ts";
import { SNAPSHOT_COLUMNS, SnapshotStore } from "./snapshots/store.ts";

type Row = Record<string, unknown>;

export interface RepairOptions {
  root: string;
  dryRun: boolean;
  /** Names the lost+found directory and the lease; the clock by default. */
  now?: Date;
}

export interface RepairResult {
  /** What was done (or, in a dry run, would be), one sentence each. */
  actions: string[];
  /** The lost+found directory of this run (made only if something was moved). */
  lostFound: string;
}

/** Rows of `table` that can still be read, even from a damaged file (reading stops at the damage). */
function readRows(path: string, table: string): { rows: Row[]; error?: string } {
  const rows: Row[] = [];
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    for (const r of db.prepare(`SELECT * FROM ${table}`).iterate()) rows.push({ ...(r as Row) });
    return { rows };
  } catch (err) {
    return { rows, error: (err as Error).message };
  } finally {
    if (db?.isOpen) db.close();
  }
}

function insertRows(db: DatabaseSync, table: string, columns: readonly string[], rows: Row[]): void {
  const stmt = db.prepare(
    `INSERT OR IGNORE INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
  );
  for (const r of rows) stmt.run(...columns.map((c) => (r[c] ?? null) as SQLInputValue));
}

export function repairRoot(opts: RepairOptions): RepairResult {
  const { root, dryRun } = opts;
  const now = opts.now ?? new Date();
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const lostFound = join(root, "lost+found", stamp);
  const lease = `berth-repair-${stamp}`;
  const actions: string[] = [];
  const say = (s: string) => actions.push(s);

  /** Moves `from` to the same place under lost+found (never across filesystems: it is under root). */
  const moveAside = (from: string) => {
    const to = join(lostFound, relative(root, from));
    say(`${dryRun ? "would move" : "moved"} ${from} to ${to}`);
    if (dryRun) return;
    mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
    renameSync(from, to);
  };
  const moveDbAside = (path: string) => {
    for (const suffix of ["", "-wal", "-shm"]) if (existsSync(`${path}${suffix}`)) moveAside(`${path}${suffix}`);
  };

  // ---- Snapshotters: their rows, checked against their directories.
  const backends = new Map<string, Map<string, Row>>();
  for (const name of SNAPSHOTTERS) {
    const sroot = join(root, snapshotterDir(name));
    if (!existsSync(sroot)) continue;
    const path = join(sroot, "metadata.db");
    const st = openChecked(path, SNAPSHOTTER_TABLES);
    let rows: Row[] = [];
    let rebuild = false;
    if (st.state === "ok") {
      st.db.close();
      rows = readRows(path, "snapshots").rows;
    } else if (st.state === "damaged") {
      const read = readRows(path, "snapshots");
      rows = read.rows;
      rebuild = true;
      say(`${path} is damaged (${st.problem}); ${rows.length} rows could still be read`);
    } else {
      rebuild = st.state === "empty";
      if (snapshotDirs(sroot).length > 0) say(`${path} is ${st.state}: its snapshot directories have no rows`);
    }
    const valid = rows.filter((r) => {
      const problem = snapshotterRowProblem(r);
      if (problem) {
        say(`${path}: dropped snapshots row id ${r.id}: ${problem}`);
        rebuild = true;
      }
      return !problem;
    });
    // Parents are made before their children, so ids ascend along every chain.
    valid.sort((a, b) => Number(a.id) - Number(b.id));
    const dirs = new Set(snapshotDirs(sroot));
    const kept = new Map<number, Row>();
    const dropped: Row[] = [];
    for (const r of valid) {
      const parentOk = r.parent_id === null || kept.has(Number(r.parent_id));
      if (dirs.has(Number(r.id)) && parentOk) kept.set(Number(r.id), r);
      else {
        dropped.push(r);
        say(
          `${path}: dropped snapshot ${r.name} (id ${r.id}): ${dirs.has(Number(r.id)) ? "its parent was dropped" : "its directory is gone"}`,
        );
      }
    }
    for (const id of [...dirs].sort((a, b) => a - b)) {
      if (!kept.has(id)) moveAside(join(sroot, "snapshots", String(id)));
    }
    if (!dryRun) {
      if (rebuild) {
        moveDbAside(path);
        new SnapshotStore(path).close();
        const db = new DatabaseSync(path);
        db.exec("BEGIN");
        insertRows(db, "snapshots", SNAPSHOT_COLUMNS, [...kept.values()]);
        db.exec("COMMIT");
        db.close();
        say(`wrote ${path} anew with ${kept.size} snapshots`);
      } else if (dropped.length > 0) {
        const db = new DatabaseSync(path);
        db.exec("BEGIN");
        // Children first.
        for (const r of [...dropped].reverse()) db.prepare("DELETE FROM snapshots WHERE id = ?").run(Number(r.id));
        db.exec("COMMIT");
        db.close();
      }
    } else if (rebuild) {
      moveDbAside(path);
      say(`would write ${path} anew with ${kept.size} snapshots`);
    }
    backends.set(name, new Map([...kept.values()].map((r) => [String(r.name), r])));
  }

  // ---- meta.db: its rows, checked against the blobs and the snapshotters.
  const metaPath = join(root, META_DB);
  const m = openChecked(metaPath, META_TABLES);
  let rebuild = m.state !== "ok";
  if (m.state === "ok") m.db.close();
  if (m.state === "damaged") say(`${metaPath} is damaged (${m.problem})`);
  if (m.state === "missing" || m.state === "empty") say(`${metaPath} is ${m.state}`);
  const tables = new Map<string, Row[]>();
  const unreadable = new Map<string, string>();
  for (const table of Object.keys(META_TABLES)) {
    const read = m.state === "missing" || m.state === "empty" ? { rows: [] } : readRows(metaPath, table);
    if (read.error) unreadable.set(table, read.error);
    tables.set(
      table,
      read.rows.filter((r) => {
        const problem = metaRowProblem(table, r);
        if (problem) {
          say(`${metaPath}: dropped ${table} row ${rowKey(table, r)}: ${problem}`);
          rebuild = true;
        }
        return !problem;
      }),
    );
  }
  const errors = new Set(unreadable.values());
  if (unreadable.size === Object.keys(META_TABLES).length && errors.size === 1)
    say(`${metaPath}: no table could be read (${[...errors][0]})`);
  else
    for (const [table, error] of unreadable)
      say(`${metaPath}: table ${table} could be read only up to the damage (${error})`);
  const rowsOf = (t: string) => tables.get(t)!;
  const drop: { table: string; row: Row }[] = [];
  const blobs = new Set(blobsOnDisk(root));
  tables.set(
    "content",
    rowsOf("content").filter((r) => {
      if (blobs.has(String(r.digest))) return true;
      say(`${metaPath}: dropped content row ${rowKey("content", r)}: its blob is gone`);
      drop.push({ table: "content", row: r });
      return false;
    }),
  );
  tables.set(
    "snapshots",
    rowsOf("snapshots").filter((r) => {
      if (backends.get(String(r.snapshotter))?.has(String(r.backend_key))) return true;
      say(`${metaPath}: dropped snapshots row ${rowKey("snapshots", r)}: backend snapshot ${r.backend_key} is gone`);
      drop.push({ table: "snapshots", row: r });
      return false;
    }),
  );

  // Adoption: what is on disk and no row names, held by the repair lease.
  const at = now.getTime();
  const adopted: { table: string; row: Row }[] = [];
  const leaseNamespaces = new Set<string>();
  const hold = (ns: string, type: string, rid: string) => {
    leaseNamespaces.add(ns);
    adopted.push({ table: "lease_resources", row: { ns, lease, type, rid } });
  };
  const sequences = new Map<string, number>();
  const snapshotNamespaces = new Set<string>();
  const named = new Set(rowsOf("snapshots").map((r) => `${r.snapshotter}\0${r.backend_key}`));
  const keys = new Set(rowsOf("snapshots").map((r) => `${r.ns}\0${r.snapshotter}\0${r.key}`));
  for (const [name, rows] of backends) {
    const byId = new Map([...rows.values()].map((r) => [Number(r.id), r]));
    for (const r of rows.values()) {
      const b = splitBackendKey(String(r.name));
      if (b) sequences.set(name, Math.max(sequences.get(name) ?? 0, b.seq));
      if (b) snapshotNamespaces.add(b.ns);
    }
    for (const r of rows.values()) {
      if (named.has(`${name}\0${r.name}`)) continue;
      const b = splitBackendKey(String(r.name));
      if (!b || keys.has(`${b.ns}\0${name}\0${b.key}`)) {
        say(`left ${name} snapshot ${r.name} without a namespace row: its name gives no free namespace key`);
        continue;
      }
      const parentRow = r.parent_id === null ? undefined : byId.get(Number(r.parent_id));
      const parent = parentRow ? splitBackendKey(String(parentRow.name)) : undefined;
      keys.add(`${b.ns}\0${name}\0${b.key}`);
      adopted.push({
        table: "snapshots",
        row: {
          ns: b.ns,
          snapshotter: name,
          key: b.key,
          backend_key: r.name,
          parent: parent && parent.ns === b.ns ? parent.key : "",
          kind: r.kind,
          labels: "{}",
          created: r.created,
          updated: r.updated,
        },
      });
      hold(b.ns, `snapshots/${name}`, b.key);
      say(`adopted ${name} snapshot ${r.name} as ${b.key} in namespace ${b.ns}`);
    }
  }
  // Which namespace saw which blob is lost with the rows: an unnamed blob goes to the namespaces
  // that had layers (or had rows, or "default").
  const known = new Set(rowsOf("content").map((r) => String(r.digest)));
  const blobNamespaces = snapshotNamespaces.size
    ? snapshotNamespaces
    : new Set(rowsOf("namespaces").map((r) => String(r.name)));
  if (blobNamespaces.size === 0) blobNamespaces.add("default");
  for (const digest of [...blobs].sort()) {
    if (known.has(digest)) continue;
    for (const ns of blobNamespaces) {
      adopted.push({ table: "content", row: { ns, digest, labels: "{}", created: at, updated: at } });
      hold(ns, "content", digest);
    }
    say(`adopted blob ${digest} in namespace(s) ${[...blobNamespaces].join(", ")}`);
  }
  const haveNs = new Set(rowsOf("namespaces").map((r) => String(r.name)));
  for (const ns of leaseNamespaces) {
    if (!haveNs.has(ns)) adopted.push({ table: "namespaces", row: { name: ns, labels: "{}", created: at } });
    adopted.push({ table: "leases", row: { ns, id: lease, labels: "{}", created: at } });
    say(`lease ${lease} in namespace ${ns} holds what was adopted (delete it to let the collector have it)`);
  }
  for (const c of rowsOf("containers")) {
    const rec = JSON.parse(String(c.record)) as { snapshotter?: string; snapshotKey?: string };
    if (rec.snapshotKey && !keys.has(`${c.ns}\0${rec.snapshotter}\0${rec.snapshotKey}`))
      say(
        `container ${c.id} (namespace ${c.ns}) names snapshot ${rec.snapshotKey}, which is gone: remove the container`,
      );
  }

  if (!dryRun) {
    if (rebuild) {
      moveDbAside(metaPath);
      mkdirSync(dirname(metaPath), { recursive: true, mode: 0o700 });
      new MetadataDB(metaPath).close();
    }
    const db = new DatabaseSync(metaPath);
    db.exec("BEGIN IMMEDIATE");
    if (rebuild) {
      for (const [table, rows] of tables)
        if (table !== "schema_version") insertRows(db, table, META_TABLES[table]!, rows);
    } else {
      for (const d of drop) {
        const where = d.table === "content" ? "ns = ? AND digest = ?" : "ns = ? AND snapshotter = ? AND key = ?";
        const args = d.table === "content" ? [d.row.ns, d.row.digest] : [d.row.ns, d.row.snapshotter, d.row.key];
        db.prepare(`DELETE FROM ${d.table} WHERE ${where}`).run(...(args as SQLInputValue[]));
      }
    }
    for (const a of adopted) insertRows(db, a.table, META_TABLES[a.table]!, [a.row]);
    for (const [name, seq] of sequences) {
      db.prepare(
        "INSERT INTO sequence VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
      ).run(backendSequence(name), seq);
    }
    db.exec("COMMIT");
    db.close();
    if (rebuild) say(`wrote ${metaPath} anew from what could be read and what is on disk`);
  } else if (rebuild) {
    moveDbAside(metaPath);
    say(`would write ${metaPath} anew from what could be read and what is on disk`);
  }
  return { actions, lostFound };
}

const FLAGS = {
  root: { kind: "string", usage: "root directory to repair (default /var/lib/berth/containerd)" },
  "dry-run": { kind: "bool", usage: "say what would be done and change nothing" },
  help: { kind: "bool", aliases: ["h"], usage: "show help" },
} as const;

/** The `repair` command line; returns the exit code. */
export function repairCommand(argv: string[], out: (s: string) => void): number {
  const p = parseFlags(argv, FLAGS);
  if (bool(p, "help")) {
    out(`berth-containerd repair: make a root with damaged or lost databases usable again\n\n${usageText(FLAGS)}`);
    return 0;
  }
  if (p.positionals.length > 0) throw new InvalidArgumentError(`repair takes no arguments: ${p.positionals[0]}`);
  const root = str(p, "root") ?? "/var/lib/berth/containerd";
  const dryRun = bool(p, "dry-run");
  if (!existsSync(root)) throw new InvalidArgumentError(`root ${root} does not exist`);
  // The daemon's own lock: repair never runs beside a daemon (or another repair) on this root.
  const lock = lockRoot(root);
  try {
    const r = repairRoot({ root, dryRun });
    if (dryRun) out("dry run: nothing was changed\n");
    for (const a of r.actions) out(`${a}\n`);
    if (r.actions.length === 0) out(`${root}: the databases and the disk agree; nothing to repair\n`);
    else if (!dryRun) {
      const aside = existsSync(r.lostFound) ? `; what was moved aside is in ${r.lostFound}` : "";
      out(`${root} repaired: start berth-containerd (nothing was deleted${aside})\n`);
    }
    return 0;
  } finally {
    rmSync(lock.pidFile, { force: true });
    closeSync(lock.fd);
  }
}
