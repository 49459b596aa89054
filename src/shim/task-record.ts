// A task's record in its bundle (`task.json`): what a shim started after this one died needs to
// serve the task again that neither the keeper nor the runtime keeps (the runtime it was created
// with, its rootfs mounts, each process's stdio, state and an exec's spec, which exits were
// already published). The shim rewrites it whole (0600, atomically) at each change of state; the
// adopting shim reads it back checked: it is our own file, but every field is bounded and typed
// before anything is built from it. Pids and exits that happened meanwhile come from the keeper.
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../common/atomic-write.ts";
import { InvalidArgumentError } from "../common/errors.ts";
import { type Bundle, validateExecId } from "./bundle.ts";
import type { StdioConfig } from "./stdio.ts";
import type { ProcessState, ShimProcess, ShimTask } from "./task.ts";

export const TASK_RECORD_VERSION = 1;
/** Exec specs make most of it; 16 MiB is containerd's whole message. */
const MAX_RECORD_BYTES = 16 << 20;
/** The keeper knows at most 1024 names at a time (native/berth-keeper/README.md). */
const MAX_EXECS = 1023;
/** A path, a URI or an id: PATH_MAX, and a binary:// URI's arguments. */
const MAX_STRING = 4096;
/** Linux pids are below 2^22. */
const MAX_PID = 4_194_304;

/** How the task's runtime is reached (service.ts's choice at Create). */
export interface RuntimeChoice {
  /** berth-runc's library in-process; else `binary` through runc's command line. */
  linked: boolean;
  binary: string;
  root: string;
  noPivotRoot: boolean;
  noNewKeyring: boolean;
  systemdCgroup: boolean;
}

export interface ProcessRecord {
  /** "" for the init process. */
  execId: string;
  stdio: StdioConfig;
  /** An exec's process spec (runtime-spec Process JSON). */
  spec: string | undefined;
  state: ProcessState;
  pid: number;
  /** A published exit: its status and time (ms since the epoch). */
  exit: { status: number; at: number } | undefined;
}

export interface TaskRecord {
  version: number;
  id: string;
  namespace: string;
  runtime: RuntimeChoice;
  /** How many mounts the shim put on the bundle's rootfs (0: none). */
  rootfsMounts: number;
  oomKills: number;
  init: ProcessRecord;
  execs: ProcessRecord[];
}

function processRecord(p: ShimProcess): ProcessRecord {
  return {
    execId: p.execId,
    stdio: p.stdio,
    spec: p.spec,
    state: p.state,
    pid: p.pid,
    exit: p.state === "stopped" ? { status: p.exitStatus, at: p.exitedAt?.getTime() ?? 0 } : undefined,
  };
}

/** The record of `task` as it is now. Pure. */
export function recordOf(task: ShimTask, runtime: RuntimeChoice): TaskRecord {
  return {
    version: TASK_RECORD_VERSION,
    id: task.id,
    namespace: task.namespace,
    runtime,
    rootfsMounts: task.rootfsMounted ? task.rootfsMounts : 0,
    oomKills: task.oomKills,
    init: processRecord(task.init),
    execs: [...task.execs.values()].map(processRecord),
  };
}

/** Replaces the bundle's record (0600: it holds the execs' environments). */
export function writeTaskRecord(bundle: Bundle, record: TaskRecord): void {
  // Not flushed: the record serves a shim that died, not a machine that lost power (its
  // containers are gone then too).
  writeFileAtomic(bundle.taskRecord, JSON.stringify(record), { mode: 0o600, durable: false });
}

/** The bundle's record, checked; throws (ENOENT when there is none, InvalidArgumentError when bad). */
export function readTaskRecord(bundle: Bundle): TaskRecord {
  const text = readFileSync(bundle.taskRecord);
  if (text.length > MAX_RECORD_BYTES) throw bad("record", `${text.length} bytes`);
  return parseTaskRecord(text.toString("utf8"));
}

function bad(field: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`task record: ${field}: ${why}`);
}

type Json = Record<string, unknown>;

function object(v: unknown, field: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad(field, "not an object");
  return v as Json;
}

function string(v: unknown, field: string, max = MAX_STRING): string {
  if (typeof v !== "string" || v.length > max || v.includes("\0")) throw bad(field, "not a string within bounds");
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw bad(field, `not in ${min}..${max}`);
  return v;
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== "boolean") throw bad(field, "not a boolean");
  return v;
}

const STATES: readonly ProcessState[] = ["created", "running", "paused", "stopped"];

function parseProcess(v: unknown, field: string, init: boolean): ProcessRecord {
  const o = object(v, field);
  const execId = string(o.execId, `${field}.execId`, 76);
  if (init !== (execId === "")) throw bad(`${field}.execId`, init ? "the init has none" : "empty");
  if (!init) validateExecId(execId);
  const s = object(o.stdio, `${field}.stdio`);
  const stdio: StdioConfig = {
    stdin: string(s.stdin, `${field}.stdio.stdin`),
    stdout: string(s.stdout, `${field}.stdio.stdout`),
    stderr: string(s.stderr, `${field}.stdio.stderr`),
    terminal: bool(s.terminal, `${field}.stdio.terminal`),
  };
  const spec = o.spec === undefined ? undefined : string(o.spec, `${field}.spec`, MAX_RECORD_BYTES);
  if (typeof o.state !== "string" || !STATES.includes(o.state as ProcessState)) throw bad(`${field}.state`, "unknown");
  const state = o.state as ProcessState;
  const pid = int(o.pid, `${field}.pid`, 0, MAX_PID);
  let exit: ProcessRecord["exit"];
  if (o.exit !== undefined) {
    const e = object(o.exit, `${field}.exit`);
    exit = { status: int(e.status, `${field}.exit.status`, 0, 255), at: int(e.at, `${field}.exit.at`, 0, 2 ** 53 - 1) };
  }
  if ((state === "stopped") !== (exit !== undefined)) throw bad(`${field}.exit`, `does not match state ${state}`);
  return { execId, stdio, spec, state, pid, exit };
}

/** A record from its JSON, every field checked. Pure. */
export function parseTaskRecord(text: string): TaskRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad("record", "not JSON");
  }
  const o = object(parsed, "record");
  const version = int(o.version, "version", TASK_RECORD_VERSION, TASK_RECORD_VERSION);
  const id = string(o.id, "id", 255);
  const namespace = string(o.namespace, "namespace", 255);
  if (id === "" || namespace === "") throw bad(id === "" ? "id" : "namespace", "empty");
  const r = object(o.runtime, "runtime");
  const runtime: RuntimeChoice = {
    linked: bool(r.linked, "runtime.linked"),
    binary: string(r.binary, "runtime.binary"),
    root: string(r.root, "runtime.root"),
    noPivotRoot: bool(r.noPivotRoot, "runtime.noPivotRoot"),
    noNewKeyring: bool(r.noNewKeyring, "runtime.noNewKeyring"),
    systemdCgroup: bool(r.systemdCgroup, "runtime.systemdCgroup"),
  };
  if (!Array.isArray(o.execs) || o.execs.length > MAX_EXECS) throw bad("execs", `not a list of at most ${MAX_EXECS}`);
  const execs = o.execs.map((e, i) => parseProcess(e, `execs[${i}]`, false));
  if (new Set(execs.map((e) => e.execId)).size !== execs.length) throw bad("execs", "an exec id twice");
  return {
    version,
    id,
    namespace,
    runtime,
    rootfsMounts: int(o.rootfsMounts, "rootfsMounts", 0, 1024),
    oomKills: int(o.oomKills, "oomKills", 0, 2 ** 53 - 1),
    init: parseProcess(o.init, "init", true),
    execs,
  };
}

/** The keeper writes `<pid> <status> <sec> <nsec>\n`: well under this. */
const MAX_EXIT_FILE = 64;

/**
 * How a process exited, from the exit file its keeper wrote before it reported the exit; undefined
 * when there is none or it is not the keeper's format. Read for a keeper that died: the exit it
 * recorded first is the process's own.
 */
export function readExitFile(bundle: Bundle, execId: string): { status: number; exitedAt: Date } | undefined {
  let text: string;
  try {
    const buf = readFileSync(bundle.exitFile(execId));
    if (buf.length > MAX_EXIT_FILE) return undefined;
    text = buf.toString("latin1");
  } catch {
    return undefined;
  }
  return parseExitFile(text);
}

/** An exit file's content (native/berth-keeper/README.md, EXIT). Pure. */
export function parseExitFile(text: string): { status: number; exitedAt: Date } | undefined {
  const m = /^([1-9]\d{0,6}) (\d{1,3}) (\d{1,12}) (\d{1,9})\n$/.exec(text);
  if (!m) return undefined;
  const status = Number(m[2]);
  if (Number(m[1]) > MAX_PID || status > 255) return undefined;
  return { status, exitedAt: new Date(Number(m[3]) * 1000 + Math.floor(Number(m[4]) / 1e6)) };
}
