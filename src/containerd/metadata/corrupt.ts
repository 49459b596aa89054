// What "corrupt" means for a row of meta.db or of a snapshotter's database, and the errors that
// say so. Pure and free of the stores, so the stores' own reads, the start-up check
// (integrity.ts) and the repair command agree on it.
import { BerthError } from "../../common/errors.ts";
import { sqliteStorageError } from "../../common/storage-errors.ts";
import { LEASE_RESOURCE_TYPE, SHA256_DIGEST, splitBackendKey } from "./validate.ts";

/** Data on disk that cannot be what it claims (a damaged file, a row that does not parse). */
export class CorruptDataError extends BerthError {
  constructor(message: string) {
    super("internal", message);
  }
}

// SQLite's result codes for a damaged file: SQLITE_CORRUPT and SQLITE_NOTADB.
const CORRUPT_CODES = new Set([11, 26]);

/**
 * An error from node:sqlite on `path`: a damaged file is named, and so is a full disk ("write
 * <path>: no space left on device", see sqliteStorageError); anything else passes through.
 */
export function sqliteFault(path: string, err: unknown): unknown {
  const code = (err as { errcode?: number }).errcode;
  if (code !== undefined && CORRUPT_CODES.has(code & 0xff)) {
    return new CorruptDataError(`database ${path}: ${(err as Error).message}; see berth-containerd repair`);
  }
  return sqliteStorageError(err, path);
}

// ---------------------------------------------------------------------------------------------
// Rows: pure checks, so the daemon's reads, the start-up check and repair agree on "corrupt".

const KINDS = new Set(["active", "view", "committed"]);

function parsed(text: unknown): { value?: unknown; problem?: string } {
  if (typeof text !== "string") return { problem: `is ${text === null ? "null" : typeof text}, not text` };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { problem: "is not JSON" };
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

function labelsProblem(text: unknown): string | undefined {
  const p = parsed(text);
  if (p.problem) return p.problem;
  if (!isObject(p.value) || Object.values(p.value).some((v) => typeof v !== "string"))
    return "is not an object of strings";
  return undefined;
}

/** The row's identity for a message: "(default, sha256:…)". */
export function rowKey(table: string, r: Record<string, unknown>): string {
  const keys: Record<string, string[]> = {
    schema_version: [],
    namespaces: ["name"],
    images: ["ns", "name"],
    containers: ["ns", "id"],
    leases: ["ns", "id"],
    lease_resources: ["ns", "lease", "type", "rid"],
    content: ["ns", "digest"],
    snapshots: ["ns", "snapshotter", "key"],
    sequence: ["name"],
  };
  const cols = (keys[table] ?? ["id", "name"]).filter((c) => c in r);
  return `(${cols.map((c) => String(r[c])).join(", ")})`;
}

/**
 * What is wrong with a meta.db row, or undefined. Only the columns present are checked, so a
 * partial SELECT can be checked too.
 */
export function metaRowProblem(table: string, r: Record<string, unknown>): string | undefined {
  const col = (name: string, problem: string | undefined) => (problem ? `${name} ${problem}` : undefined);
  const text = (name: string) =>
    name in r && (typeof r[name] !== "string" || r[name] === "") ? `${name} is not a non-empty text` : undefined;
  const checks: (string | undefined)[] = [];
  if ("labels" in r) checks.push(col("labels", labelsProblem(r.labels)));
  switch (table) {
    case "namespaces":
      checks.push(text("name"));
      break;
    case "images": {
      checks.push(text("ns"), text("name"));
      if ("target" in r) {
        const p = parsed(r.target);
        const t = p.value as { mediaType?: unknown; digest?: unknown; size?: unknown } | undefined;
        if (p.problem) checks.push(`target ${p.problem}`);
        else if (!isObject(t) || typeof t.mediaType !== "string" || typeof t.size !== "number")
          checks.push("target is not a descriptor");
        else if (typeof t.digest !== "string" || !SHA256_DIGEST.test(t.digest))
          checks.push(`target digest ${JSON.stringify(String(t.digest).slice(0, 80))} is not sha256:<64 hex>`);
      }
      break;
    }
    case "containers": {
      checks.push(text("ns"), text("id"));
      if ("record" in r) {
        const p = parsed(r.record);
        const o = p.value as { runtime?: { name?: unknown }; labels?: unknown } | undefined;
        if (p.problem) checks.push(`record ${p.problem}`);
        else if (!isObject(o) || !isObject(o.runtime) || typeof o.runtime.name !== "string" || !isObject(o.labels))
          checks.push("record is not a container record");
      }
      break;
    }
    case "leases":
      checks.push(text("ns"), text("id"));
      break;
    case "lease_resources":
      checks.push(text("ns"), text("lease"), text("rid"));
      if ("type" in r && !LEASE_RESOURCE_TYPE.test(String(r.type)))
        checks.push(`type ${JSON.stringify(r.type)} is unknown`);
      break;
    case "content":
      checks.push(text("ns"));
      if ("digest" in r && !SHA256_DIGEST.test(String(r.digest)))
        checks.push(`digest ${JSON.stringify(String(r.digest).slice(0, 80))} is not sha256:<64 hex>`);
      break;
    case "snapshots":
      checks.push(text("ns"), text("snapshotter"), text("key"));
      if ("kind" in r && !KINDS.has(String(r.kind))) checks.push(`kind ${JSON.stringify(r.kind)} is unknown`);
      if ("parent" in r && typeof r.parent !== "string") checks.push("parent is not text");
      if ("backend_key" in r) {
        const b = String(r.backend_key);
        const parts = splitBackendKey(b);
        if (!parts || ("ns" in r && parts.ns !== r.ns))
          checks.push(`backend_key ${JSON.stringify(b.slice(0, 120))} is not "<namespace>/<seq>/<key>"`);
      }
      break;
  }
  for (const c of ["created", "updated"])
    if (c in r && typeof r[c] !== "number" && typeof r[c] !== "bigint") checks.push(`${c} is not a number`);
  return checks.find((c) => c !== undefined);
}

/** What is wrong with a snapshotter's row (store.ts), or undefined. */
export function snapshotterRowProblem(r: Record<string, unknown>): string | undefined {
  if (typeof r.name !== "string" || r.name === "") return "name is not a non-empty text";
  if ("kind" in r && !KINDS.has(String(r.kind))) return `kind ${JSON.stringify(r.kind)} is unknown`;
  if ("labels" in r) {
    const p = labelsProblem(r.labels);
    if (p) return `labels ${p}`;
  }
  if ("parent_id" in r && r.parent_id !== null && typeof r.parent_id !== "number" && typeof r.parent_id !== "bigint")
    return "parent_id is not a number";
  return undefined;
}

/** The error a read of a corrupt row gives: the file, the table, the row and what is wrong. */
export function corruptRow(path: string, table: string, r: Record<string, unknown>, problem: string): CorruptDataError {
  return new CorruptDataError(
    `metadata database ${path}: ${table} row ${rowKey(table, r)} is corrupt: ${problem}; see berth-containerd repair`,
  );
}
