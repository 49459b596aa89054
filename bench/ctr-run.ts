// Bench: whole containers through `ctr`, two stacks side by side in one run:
//   berth       berth-containerd → berth-shim → berth-runc      (a private copy of dist/)
//   containerd  containerd 1.6 → containerd-shim-runc-v2 → runc (Debian's, /usr/sbin/runc)
// Both daemons get private roots, state dirs and sockets in temp dirs, and the same busybox image.
//
// 1. Latency: `ctr run --rm IMAGE ID true` wall time, round-robin between the stacks (the starting
//    stack alternates each round), warm-up rounds discarded.
// 2. Burst memory: N containers (`ctr run -d IMAGE ID sleep 3600`, C at a time) on each stack in
//    turn; once all run, the proportional set size (Pss, /proc/PID/smaps_rollup) summed over the
//    stack's shim processes, and the daemon's own Pss before and after. Then every task is killed
//    and deleted and the bench checks that nothing is left (shims, sockets, mounts, runtime state,
//    cgroups).
//
//   node bench/ctr-run.ts [--runs N (30)] [--warmup N (3)] [--burst N (50)] [--burst-rounds N (1)]
//                         [--concurrency N (5)] [--settle-ms N (2000)] [--dist DIR] [--shim-node-flags "FLAGS"]
//                         [--group NAME]   (burst containers share one shim: io.containerd.runc.v2.group=NAME)
//                         [--extra-berth NAME=DIST]...   (another berth build, e.g. dist/ of an older commit,
//                                                         benched in the same rounds: before/after in one run)
//
// --runs 0 or --burst 0 skips that part. Must run as root. Prints tables and writes everything,
// raw samples included, to bench/results/ctr-run-<date>.json.

import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { open, readFile, rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { socketPathFor } from "../src/shim/start.ts";
import { makeTempDir } from "../test/fixtures/busybox.ts";
import { writeImageArchive } from "../test/fixtures/oci-image.ts";
import { pidsWithArgument, unmountUnder } from "../test/helpers/peers.ts";
import {
  checkInterrupted,
  firstLine,
  hostInfo,
  isInterrupted,
  mountsUnder,
  pool,
  smapsRollup,
  snapshotDist,
} from "./lib/host.ts";
import { eachFlag, intFlag } from "./lib/options.ts";
import { type TimedRun, timedSpawn } from "./lib/spawn.ts";
import { formatTable, median, type Summary, summarize } from "./lib/stats.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CTR = "/usr/bin/ctr";
const CONTAINERD = "/usr/bin/containerd";
const RUNC = "/usr/sbin/runc";
const CONTAINERD_SHIM = "containerd-shim-runc-v2";
/** Where containerd 1.6 puts shim sockets and where its runc shim keeps runc's state (not configurable per daemon). */
const CONTAINERD_SOCKET_DIR = "/run/containerd/s";
const CONTAINERD_RUNC_ROOT = "/run/containerd/runc";
/** ctr's default --fifo-dir: the client makes each task's stdio fifos there, whichever daemon it talks to. */
const CTR_FIFO_DIR = "/run/containerd/fifo";
const NS = "bench";
const IMAGE = "docker.io/library/berth-bench-busybox:latest";
/** Both daemons (and so their shims and runtimes) see this PATH: `runc` resolves to /usr/sbin/runc. */
const DAEMON_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";
const ID_PREFIX = `ctrrun-${process.pid}-`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  runs: number;
  warmup: number;
  burst: number;
  burstRounds: number;
  concurrency: number;
  settleMs: number;
  dist: string;
  /** BERTH_SHIM_NODE_FLAGS for berth's shims; undefined: the shim's built-in V8 flags. */
  shimNodeFlags: string | undefined;
  /** Burst containers share one shim per stack (the io.containerd.runc.v2.group annotation both shims read). */
  group: string | undefined;
  /** Other berth builds run as further stacks in the same rounds. */
  extraBerth: { name: string; dist: string }[];
}

function usage(msg?: string): never {
  if (msg) console.error(`ctr-run: ${msg}`);
  console.error(
    'usage: node bench/ctr-run.ts [--runs N (30)] [--warmup N (3)] [--burst N (50)] [--burst-rounds N (1)] [--concurrency N (5)] [--settle-ms N (2000)] [--dist DIR] [--shim-node-flags "FLAGS"] [--group NAME] [--extra-berth NAME=DIST]...',
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    runs: 30,
    warmup: 3,
    burst: 50,
    burstRounds: 1,
    concurrency: 5,
    settleMs: 2000,
    dist: join(REPO, "dist"),
    shimNodeFlags: undefined,
    group: undefined,
    extraBerth: [],
  };
  const int = (flag: string, v: string | undefined, min: number) => intFlag(usage, flag, v, min);
  eachFlag(argv, (flag, value, a) => {
    if (flag === "--runs") o.runs = int(flag, value(), 0);
    else if (flag === "--warmup") o.warmup = int(flag, value(), 0);
    else if (flag === "--burst") o.burst = int(flag, value(), 0);
    else if (flag === "--burst-rounds") o.burstRounds = int(flag, value(), 1);
    else if (flag === "--concurrency") o.concurrency = int(flag, value(), 1);
    else if (flag === "--group") o.group = value();
    else if (flag === "--settle-ms") o.settleMs = int(flag, value(), 0);
    else if (flag === "--dist") o.dist = resolve(value() ?? usage("--dist needs a directory"));
    else if (flag === "--extra-berth") o.extraBerth.push(extraBerth(value()));
    else if (flag === "--shim-node-flags") o.shimNodeFlags = value() ?? usage("--shim-node-flags needs a value");
    else if (flag === "-h" || flag === "--help") usage();
    else usage(`unknown argument ${a}`);
  });
  return o;
}

function extraBerth(spec: string | undefined): { name: string; dist: string } {
  const eq = spec?.indexOf("=") ?? -1;
  if (spec === undefined || eq <= 0) usage(`--extra-berth wants NAME=DIST, got ${JSON.stringify(spec)}`);
  const name = spec.slice(0, eq);
  if (!/^[a-z0-9-]+$/.test(name) || name === "berth" || name === "containerd") usage(`--extra-berth: bad name ${name}`);
  return { name, dist: resolve(spec.slice(eq + 1)) };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const mib = (kb: number) => fmt(kb / 1024);

/** The interpreter a script's #! line names (the Node berth's commands run on). */
function shebangNode(script: string): string {
  const first = readFileSync(script, "utf8").split("\n", 1)[0] ?? "";
  return first.startsWith("#!") ? (first.slice(2).trim().split(/\s+/)[0] ?? process.execPath) : process.execPath;
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return [];
  }
}

function envPath(pid: number): string | undefined {
  try {
    const vars = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    return vars.find((v) => v.startsWith("PATH="))?.slice("PATH=".length);
  } catch {
    return undefined;
  }
}

interface Memory {
  processes: number;
  rssKb: number;
  pssKb: number;
  /** Private_Clean + Private_Dirty. */
  privateKb: number;
}

function memoryOf(pids: readonly number[]): Memory {
  const m: Memory = { processes: 0, rssKb: 0, pssKb: 0, privateKb: 0 };
  for (const pid of pids) {
    const f = smapsRollup(pid);
    if (f === undefined) continue;
    m.processes += 1;
    m.rssKb += f.Rss ?? 0;
    m.pssKb += f.Pss ?? 0;
    m.privateKb += (f.Private_Clean ?? 0) + (f.Private_Dirty ?? 0);
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// The stacks

interface Stack {
  /** "berth", "containerd", or an --extra-berth name. */
  name: string;
  chain: string;
  dir: string;
  /** The daemon's gRPC socket (what ctr -a gets, and what its shims get as -address). */
  address: string;
  logPath: string;
  child: ChildProcess;
  exited: Promise<void>;
  version: string;
  /** Is this argv (of a process that has `address` among its arguments) one of this daemon's shims? */
  isShim(argv: readonly string[]): boolean;
  /** Where the shim of task `id` listens. */
  shimSocket(id: string): string;
  /** The OCI runtime the shims run and the --root they give it, for force-deleting leftovers. */
  runtime: string;
  runtimeRoot: string;
  /** Where the daemon keeps task bundles of namespace NS. */
  bundles: string;
}

async function spawnDaemon(bin: string, args: string[], logPath: string, env: NodeJS.ProcessEnv) {
  const log = await open(logPath, "a");
  try {
    const child = spawn(bin, args, { stdio: ["ignore", log.fd, log.fd], env });
    const exited = new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.once("error", () => resolve());
    });
    return { child, exited };
  } finally {
    await log.close();
  }
}

function alive(s: Pick<Stack, "child">): boolean {
  return s.child.exitCode === null && s.child.signalCode === null && s.child.pid !== undefined;
}

function ctr(s: Pick<Stack, "address">, args: string[], timeoutMs = 60_000): Promise<TimedRun> {
  return timedSpawn([CTR, "--address", s.address, "--namespace", NS, ...args], { output: "capture", timeoutMs });
}

/** ctr that never rejects: a timeout becomes a failed run with the error as its output. */
async function ctrSafe(s: Pick<Stack, "address">, args: string[], timeoutMs = 60_000): Promise<TimedRun> {
  try {
    return await ctr(s, args, timeoutMs);
  } catch (e) {
    return { ms: Number.NaN, code: null, signal: null, output: (e as Error).message };
  }
}

async function waitReady(s: Stack): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && alive(s)) {
    if (existsSync(s.address) && (await ctrSafe(s, ["version"], 5_000)).code === 0) return;
    await sleep(100);
  }
  const log = await readFile(s.logPath, "utf8").catch(() => "");
  throw new Error(`${s.name} daemon did not become ready:\n${log.split("\n").slice(-30).join("\n")}`);
}

/** The daemons' environment: ours with a fixed PATH and no BERTH_* settings (berth-shim must pick berth-runc). */
function daemonEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: DAEMON_PATH };
  for (const k of Object.keys(env)) if (k.startsWith("BERTH_")) delete env[k];
  return { ...env, ...extra };
}

/** Spawns berth-containerd (not waiting for it: see waitReady). */
async function startBerth(name: string, dir: string, dist: string, shimNodeFlags: string | undefined): Promise<Stack> {
  const address = join(dir, "containerd.sock");
  const state = join(dir, "state");
  const bin = join(dist, "berth-containerd.mjs");
  const shim = join(dist, "berth-shim.mjs");
  const logPath = join(dir, "daemon.log");
  const env = daemonEnv(shimNodeFlags === undefined ? {} : { BERTH_SHIM_NODE_FLAGS: shimNodeFlags });
  const d = await spawnDaemon(
    bin,
    ["--root", join(dir, "root"), "--state", state, "--address", address, "--log-level", "info"],
    logPath,
    env,
  );
  return {
    name,
    chain: "berth-containerd → berth-shim → berth-runc",
    dir,
    address,
    logPath,
    ...d,
    version: firstLine([bin, "--version"]) ?? "?",
    isShim: (argv) => argv.includes(shim),
    shimSocket: (id) => socketPathFor(address, NS, id),
    runtime: join(dist, "berth-runc.mjs"),
    runtimeRoot: join(state, "runc", NS),
    bundles: join(state, "io.containerd.runtime.v2.task", NS),
  };
}

/** Spawns containerd with a private config (not waiting for it: see waitReady). */
async function startReference(dir: string): Promise<Stack> {
  const address = join(dir, "containerd.sock");
  const state = join(dir, "state");
  const config = [
    "version = 2",
    `root = ${JSON.stringify(join(dir, "root"))}`,
    `state = ${JSON.stringify(state)}`,
    // CRI would want CNI and a sandbox image; ctr needs none of it.
    'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
    "[grpc]",
    `  address = ${JSON.stringify(address)}`,
    "[ttrpc]",
    `  address = ${JSON.stringify(`${address}.ttrpc`)}`,
    "[debug]",
    `  address = ${JSON.stringify(join(dir, "debug.sock"))}`,
    '  level = "info"',
    "[metrics]",
    '  address = ""',
    // The opt plugin puts <path>/bin first on the PATH the shims get (default /opt/containerd):
    // a private empty dir, so `runc` can only be the one on DAEMON_PATH.
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${JSON.stringify(join(dir, "opt"))}`,
    "",
  ].join("\n");
  const configPath = join(dir, "config.toml");
  writeFileSync(configPath, config);
  const logPath = join(dir, "daemon.log");
  const d = await spawnDaemon(CONTAINERD, ["--config", configPath], logPath, daemonEnv());
  return {
    name: "containerd",
    chain: "containerd 1.6 → containerd-shim-runc-v2 → runc",
    dir,
    address,
    logPath,
    ...d,
    version: firstLine([CONTAINERD, "--version"]) ?? "?",
    isShim: (argv) => (argv[0] ?? "").endsWith(CONTAINERD_SHIM),
    // containerd 1.6's shim.SocketAddress: sha256 of <address>/<namespace>/<id>.
    shimSocket: (id) =>
      join(
        CONTAINERD_SOCKET_DIR,
        createHash("sha256")
          .update(join(address, NS, id))
          .digest("hex"),
      ),
    runtime: RUNC,
    runtimeRoot: join(CONTAINERD_RUNC_ROOT, NS),
    bundles: join(state, "io.containerd.runtime.v2.task", NS),
  };
}

function shimPids(s: Stack): number[] {
  return pidsWithArgument(s.address).filter((pid) => pid !== s.child.pid && s.isShim(cmdline(pid)));
}

function daemonMemory(s: Stack): Memory {
  return memoryOf(s.child.pid !== undefined && alive(s) ? [s.child.pid] : []);
}

async function stopDaemon(s: Stack): Promise<void> {
  if (!alive(s)) return;
  s.child.kill("SIGTERM");
  const timer = setTimeout(() => s.child.kill("SIGKILL"), 10_000);
  await s.exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// Deleting tasks and checking what is left

let idSeq = 0;
const nextId = (s: Stack) => `${ID_PREFIX}${s.name.slice(0, 6)}${++idSeq}`;

function describe(r: TimedRun): string {
  return `exit ${r.code ?? r.signal ?? "?"}: ${r.output.trim()}`;
}

/** Kills (SIGKILL) and deletes task `id` and removes its container; returns the errors it met. */
async function removeContainer(s: Stack, id: string): Promise<string[]> {
  const errors: string[] = [];
  const killed = await ctrSafe(s, ["task", "kill", "-s", "SIGKILL", id]);
  if (killed.code !== 0 && !/not found/.test(killed.output)) errors.push(`task kill ${id}: ${describe(killed)}`);
  // `task delete` refuses while the task is still running; the kill is asynchronous.
  let deleted = killed;
  for (let t = 0; t < 100; t++) {
    deleted = await ctrSafe(s, ["task", "delete", id]);
    if (deleted.code === 0 || /not found/.test(deleted.output)) break;
    await sleep(100);
  }
  if (deleted.code !== 0 && !/not found/.test(deleted.output)) errors.push(`task delete ${id}: ${describe(deleted)}`);
  const removed = await ctrSafe(s, ["containers", "rm", id]);
  if (removed.code !== 0 && !/not found/.test(removed.output)) errors.push(`containers rm ${id}: ${describe(removed)}`);
  return errors;
}

async function listed(s: Stack, what: "task" | "containers"): Promise<string[]> {
  const r = await ctrSafe(s, [what, "ls", "-q"]);
  return r.code === 0 ? r.output.split("\n").filter((l) => l.trim().length > 0) : [];
}

/** cgroup dirs of our containers (ctr puts a task in /<namespace>/<id> of every hierarchy). */
function ourCgroups(): string[] {
  const found: string[] = [];
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const parent = join("/sys/fs/cgroup", h, NS);
    try {
      for (const e of readdirSync(parent)) if (e.startsWith(ID_PREFIX)) found.push(join(parent, e));
    } catch {
      // no such hierarchy dir
    }
  }
  return found;
}

/** Stdio fifos ctr left for `ids` (files <id>-stdin/-stdout/-stderr in a per-task dir). */
function ourFifos(ids: readonly string[]): string[] {
  const found: string[] = [];
  const wanted = new Set(ids);
  let dirs: string[] = [];
  try {
    dirs = readdirSync(CTR_FIFO_DIR);
  } catch {
    return found;
  }
  for (const d of dirs) {
    try {
      for (const f of readdirSync(join(CTR_FIFO_DIR, d))) {
        if (wanted.has(f.replace(/-(stdin|stdout|stderr)$/, ""))) found.push(join(CTR_FIFO_DIR, d, f));
      }
    } catch {
      // removed meanwhile
    }
  }
  return found;
}

/**
 * Everything of `ids` still around on this stack; empty when clean. `serving`: the shims that served
 * those tasks (idle spare shims are the daemon's business and are counted by the caller).
 */
async function leftovers(s: Stack, ids: readonly string[], serving: ReadonlySet<number>): Promise<string[]> {
  const left: string[] = [];
  if (alive(s)) {
    for (const id of await listed(s, "task")) if (id.startsWith(ID_PREFIX)) left.push(`task ${id}`);
    for (const id of await listed(s, "containers")) if (id.startsWith(ID_PREFIX)) left.push(`container ${id}`);
  }
  // Shims exit once their task is deleted; give them a moment.
  const stillServing = () => shimPids(s).filter((p) => serving.has(p));
  let shims = stillServing();
  for (let t = 0; t < 50 && shims.length > 0; t++) {
    await sleep(100);
    shims = stillServing();
  }
  for (const pid of shims) left.push(`shim pid ${pid}: ${cmdline(pid).join(" ")}`);
  for (const id of ids) if (existsSync(s.shimSocket(id))) left.push(`shim socket ${s.shimSocket(id)} (${id})`);
  for (const mp of mountsUnder(s.dir)) left.push(`mount ${mp}`);
  for (const f of ourFifos(ids)) left.push(`ctr fifo ${f}`);
  for (const dir of [s.bundles, s.runtimeRoot]) {
    const entries = existsSync(dir) ? readdirSync(dir).filter((e) => e.startsWith(ID_PREFIX)) : [];
    for (const e of entries) left.push(`state ${join(dir, e)}`);
  }
  for (const cg of ourCgroups()) {
    const id = cg.slice(cg.lastIndexOf("/") + 1);
    if (ids.includes(id)) left.push(`cgroup ${cg}`);
  }
  return left;
}

function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Kills what is in our containers' cgroups and removes the cgroup dirs. */
async function removeOurCgroups(): Promise<void> {
  for (const cg of ourCgroups()) {
    for (let t = 0; t < 20; t++) {
      try {
        const pids = readFileSync(join(cg, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number);
        killPids(pids);
        rmdirSync(cg);
        break;
      } catch {
        await sleep(100);
      }
    }
  }
}

/** Takes a stack down whatever state it is in: tasks, daemon, shims, runtime state, mounts, its dir. */
async function teardown(s: Stack, ids: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  try {
    if (alive(s)) {
      const tasks = (await listed(s, "task")).filter((id) => id.startsWith(ID_PREFIX));
      const containers = (await listed(s, "containers")).filter((id) => id.startsWith(ID_PREFIX));
      const all = [...new Set([...tasks, ...containers])];
      found.push(...all.map((id) => `${s.name}: container ${id} at teardown`));
      await pool(all, 5, async (id) => {
        await removeContainer(s, id);
      });
    }
    await stopDaemon(s);
    // Task shims outlive their daemon by design (spares should not: they poll for it, every second);
    // these are the ones told to call back to our socket and still there after 3 s.
    let shims = shimPids(s);
    for (let t = 0; t < 30 && shims.length > 0; t++) {
      await sleep(100);
      shims = shimPids(s);
    }
    found.push(
      ...shims.map(
        (pid) => `${s.name}: shim pid ${pid} still running 3 s after its daemon stopped: ${cmdline(pid).join(" ")}`,
      ),
    );
    killPids(shims);
    if (existsSync(s.runtimeRoot)) {
      for (const id of readdirSync(s.runtimeRoot).filter((e) => e.startsWith(ID_PREFIX))) {
        found.push(`${s.name}: runtime state of ${id} at teardown`);
        await timedSpawn([s.runtime, "--root", s.runtimeRoot, "delete", "--force", id], { timeoutMs: 30_000 }).catch(
          () => undefined,
        );
      }
    }
    for (const id of ids) rmSync(s.shimSocket(id), { force: true });
    for (const f of ourFifos(ids)) {
      found.push(`${s.name}: ctr fifo ${f} at teardown`);
      rmSync(f, { force: true });
      try {
        rmdirSync(dirname(f));
      } catch {
        // more fifos in it, or gone already
      }
    }
  } finally {
    await removeOurCgroups();
    await unmountUnder(s.dir);
    await rm(s.dir, { recursive: true, force: true });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// 1. Latency

interface Latency {
  stack: Stack;
  samples: number[];
  failures: string[];
  /** Set when the stack could not run a single container (the smoke run). */
  error?: string;
}

async function runTrue(s: Stack, ids: string[]): Promise<TimedRun> {
  const id = nextId(s);
  ids.push(id);
  const r = await ctrSafe(s, ["run", "--rm", IMAGE, id, "true"]);
  // ctr leaves the container (and maybe the task) behind when the run fails.
  if (r.code !== 0) await removeContainer(s, id);
  return r;
}

async function measureLatency(stacks: Stack[], o: Options, ids: Map<Stack, string[]>): Promise<Latency[]> {
  const results: Latency[] = stacks.map((stack) => ({ stack, samples: [], failures: [] }));
  const active: Latency[] = [];
  for (const r of results) {
    const first = await runTrue(r.stack, ids.get(r.stack)!);
    if (first.code === 0) active.push(r);
    else {
      r.error = describe(first);
      console.error(`${r.stack.name}: ctr run --rm failed, not timed: ${r.error}`);
    }
  }
  const total = o.warmup + o.runs;
  for (let round = 0; round < total; round++) {
    for (let k = 0; k < active.length; k++) {
      checkInterrupted();
      const r = active[(round + k) % active.length]!;
      const run = await runTrue(r.stack, ids.get(r.stack)!);
      if (round < o.warmup) {
        if (run.code !== 0) r.failures.push(`warm-up: ${describe(run)}`);
        continue;
      }
      if (run.code === 0) r.samples.push(run.ms);
      else r.failures.push(describe(run));
    }
    process.stderr.write(`\r${round < o.warmup ? "warm-up" : "run"} ${round + 1}/${total}   `);
  }
  process.stderr.write("\n");
  return results;
}

// ---------------------------------------------------------------------------------------------
// 2. Burst memory

interface Burst {
  stack: string;
  round: number;
  requested: number;
  started: number;
  running: number;
  failures: string[];
  /** Wall time from the first `ctr run -d` to the last one's exit. */
  startWallMs: number;
  /** Wall time of each `ctr run -d`. */
  runMs: number[];
  /** All shim processes of the daemon with the burst running (serving + idle). */
  shims: Memory;
  /** Shims that are the parent of a running task's init (the shim is its subreaper). */
  servingShims: Memory;
  /** Shims without a task of ours: spares a daemon keeps ready (berth-containerd keeps one). */
  idleShims: Memory;
  /** Idle shims before the burst and after its teardown (settled). */
  idleBefore: number;
  idleAfterTeardown: number;
  /** Most running tasks served by one shim (1 unless tasks share shims). */
  maxTasksPerShim: number;
  /** One serving shim's command line, to show how it was started (V8 flags etc.), and its PATH. */
  shimArgv: string[];
  shimEnvPath: string | undefined;
  daemonBefore: Memory;
  daemonAfter: Memory;
  daemonAfterTeardown: Memory;
  teardownWallMs: number;
  teardownErrors: string[];
  leftovers: string[];
}

/** Running tasks of `ids` with their init's pid, from `ctr task ls`. */
async function runningTasks(s: Stack, ids: readonly string[]): Promise<Map<string, number>> {
  const wanted = new Set(ids);
  const tasks = new Map<string, number>();
  for (const line of (await ctrSafe(s, ["task", "ls"])).output.split("\n")) {
    const [id, pid, status] = line.trim().split(/\s+/);
    if (id !== undefined && wanted.has(id) && status === "RUNNING") tasks.set(id, Number(pid));
  }
  return tasks;
}

function parentPid(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Shims of the daemon not serving one of our tasks, once their number has stopped changing. */
async function settledIdleShims(s: Stack, serving: ReadonlySet<number>): Promise<number[]> {
  let idle = shimPids(s).filter((p) => !serving.has(p));
  for (let t = 0; t < 20; t++) {
    await sleep(250);
    const now = shimPids(s).filter((p) => !serving.has(p));
    if (now.length === idle.length) return now;
    idle = now;
  }
  return idle;
}

async function burst(s: Stack, round: number, o: Options, ids: string[]): Promise<Burst> {
  const mine = Array.from({ length: o.burst }, () => nextId(s));
  ids.push(...mine);
  const idleBefore = (await settledIdleShims(s, new Set())).length;
  const daemonBefore = daemonMemory(s);
  const failures: string[] = [];
  const runMs: number[] = [];
  const t0 = process.hrtime.bigint();
  await pool(mine, o.concurrency, async (id) => {
    if (isInterrupted()) return;
    const group = o.group ? ["--annotation", `io.containerd.runc.v2.group=${o.group}`] : [];
    const r = await ctrSafe(s, ["run", "-d", ...group, IMAGE, id, "sleep", "3600"]);
    if (r.code === 0) runMs.push(r.ms);
    else failures.push(`${id}: ${describe(r)}`);
  });
  const startWallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  checkInterrupted();

  await sleep(o.settleMs);
  const tasks = await runningTasks(s, mine);
  const all = shimPids(s);
  const perShim = new Map<number, number>();
  for (const pid of tasks.values()) {
    const parent = parentPid(pid);
    if (parent !== undefined && all.includes(parent)) perShim.set(parent, (perShim.get(parent) ?? 0) + 1);
  }
  const serving = [...perShim.keys()];
  const idle = all.filter((p) => !perShim.has(p));
  const shims = memoryOf(all);
  const servingShims = memoryOf(serving);
  const idleShims = memoryOf(idle);
  const shimArgv = serving.length > 0 ? cmdline(serving[0]!) : [];
  const shimEnvPath = serving.length > 0 ? envPath(serving[0]!) : undefined;
  const daemonAfter = daemonMemory(s);
  process.stderr.write(
    `${s.name}: ${tasks.size}/${o.burst} running, ${serving.length} serving + ${idle.length} idle shims, Pss ${mib(shims.pssKb)} MiB\n`,
  );

  const teardownErrors: string[] = [];
  const t1 = process.hrtime.bigint();
  await pool(mine, o.concurrency, async (id) => {
    teardownErrors.push(...(await removeContainer(s, id)));
  });
  const teardownWallMs = Number(process.hrtime.bigint() - t1) / 1e6;
  const left = await leftovers(s, mine, new Set(serving));
  const idleAfterTeardown = (await settledIdleShims(s, new Set())).length;
  if (idleAfterTeardown > idleBefore) {
    left.push(`${idleAfterTeardown - idleBefore} more idle shims than before the burst (${idleBefore})`);
  }
  return {
    stack: s.name,
    round,
    requested: o.burst,
    started: runMs.length,
    running: tasks.size,
    failures,
    startWallMs,
    runMs,
    shims,
    servingShims,
    idleShims,
    idleBefore,
    idleAfterTeardown,
    maxTasksPerShim: Math.max(0, ...perShim.values()),
    shimArgv,
    shimEnvPath,
    daemonBefore,
    daemonAfter,
    daemonAfterTeardown: daemonMemory(s),
    teardownWallMs,
    teardownErrors,
    leftovers: left,
  };
}

// ---------------------------------------------------------------------------------------------
// Report

function latencyTable(results: Latency[]): string {
  const ref = results.find((r) => r.stack.name === "containerd");
  const refMedian = ref && ref.samples.length > 0 ? median(ref.samples) : Number.NaN;
  const rows = results.map((r) => {
    const s = summarize(r.samples);
    return [
      `${r.stack.name} (${r.stack.chain})`,
      `${s.n}${r.failures.length > 0 ? ` (+${r.failures.length} failed)` : ""}`,
      fmt(s.median),
      fmt(s.p90),
      fmt(s.mean),
      fmt(s.min),
      Number.isFinite(refMedian) && s.n > 0 ? `${(s.median / refMedian).toFixed(2)}x` : "-",
    ];
  });
  return formatTable(["stack", "runs", "median ms", "p90 ms", "mean ms", "min ms", "vs containerd"], rows);
}

function burstTable(results: Burst[], o: Options): string {
  const rows = results.map((b) => {
    const per = (kb: number) => (b.running > 0 ? mib(kb / b.running) : "-");
    return [
      o.burstRounds > 1 ? `${b.stack} #${b.round}` : b.stack,
      `${b.running}/${b.requested}`,
      `${b.servingShims.processes}+${b.idleShims.processes}`,
      fmt(b.startWallMs / 1000, 2),
      mib(b.shims.pssKb),
      per(b.shims.pssKb),
      per(b.shims.privateKb),
      per(b.shims.rssKb),
      mib(b.daemonBefore.pssKb),
      mib(b.daemonAfter.pssKb),
      mib(b.daemonAfterTeardown.pssKb),
      b.leftovers.length === 0 ? "none" : String(b.leftovers.length),
    ];
  });
  return formatTable(
    [
      "stack",
      "running",
      "shims (serving+idle)",
      "start s",
      "shim Pss MiB",
      "Pss/ctr MiB",
      "private/ctr",
      "Rss/ctr",
      "daemon Pss: before",
      "with burst",
      "after rm",
      "left",
    ],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage("must run as root (containers need it)");
  for (const bin of [CTR, CONTAINERD, RUNC, `/usr/bin/${CONTAINERD_SHIM}`]) {
    if (!existsSync(bin)) usage(`${bin} not found`);
  }
  const runcOnPath = firstLine(["sh", "-c", `PATH=${DAEMON_PATH} command -v runc`]);
  if (runcOnPath !== RUNC) usage(`runc on the daemons' PATH is ${runcOnPath}, not ${RUNC}`);

  const started = new Date();
  const loadBefore = loadavg();
  const snap = await snapshotDist(o.dist);
  const extraSnaps = await Promise.all(o.extraBerth.map(async (x) => ({ ...x, ...(await snapshotDist(x.dist)) })));
  const tools = {
    ctr: firstLine([CTR, "--version"]),
    runc: firstLine([RUNC, "--version"]),
    berthNode: firstLine([shebangNode(join(snap.dir, "berth-containerd.mjs")), "--version"]),
  };
  const work = await makeTempDir("berth-bench-ctr-");
  const archive = join(work, "busybox.tar");
  await writeImageArchive(archive, { name: IMAGE });

  const stacks: Stack[] = [];
  const ids = new Map<Stack, string[]>();
  // Directories named after the namespace that the stacks create outside their own dirs (cgroup
  // parents of ctr's tasks, the runc shim's runc root); removed at the end when new and empty.
  const sharedDirs = [
    ...readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h, NS)),
    join(CONTAINERD_RUNC_ROOT, NS),
  ];
  const sharedDirsBefore = new Set(sharedDirs.filter((d) => existsSync(d)));
  const imports: Record<string, number> = {};
  let latency: Latency[] = [];
  const bursts: Burst[] = [];
  const teardownFound: string[] = [];
  let failure: Error | undefined;
  try {
    // Each stack is in `stacks` as soon as its daemon is spawned, so the finally below takes it down.
    stacks.push(await startBerth("berth", await makeTempDir("berth-bench-ctr-berth-"), snap.dir, o.shimNodeFlags));
    for (const x of extraSnaps) {
      stacks.push(await startBerth(x.name, await makeTempDir(`berth-bench-ctr-${x.name}-`), x.dir, o.shimNodeFlags));
    }
    stacks.push(await startReference(await makeTempDir("berth-bench-ctr-containerd-")));
    for (const s of stacks) {
      ids.set(s, []);
      await waitReady(s);
      const r = await ctrSafe(s, ["images", "import", archive], 120_000);
      if (r.code !== 0) throw new Error(`${s.name}: ctr images import failed: ${describe(r)}`);
      imports[s.name] = r.ms;
    }
    if (o.runs > 0) latency = await measureLatency(stacks, o, ids);
    if (o.burst > 0) {
      // One burst per stack per round, the stack going first alternating between rounds.
      for (let round = 0; round < o.burstRounds; round++) {
        for (const s of round % 2 === 0 ? stacks : [...stacks].reverse()) {
          checkInterrupted();
          bursts.push(await burst(s, round + 1, o, ids.get(s)!));
        }
      }
    }
  } catch (e) {
    failure = e as Error;
  } finally {
    for (const s of stacks) {
      try {
        teardownFound.push(...(await teardown(s, ids.get(s) ?? [])));
      } catch (e) {
        teardownFound.push(`${s.name}: teardown failed: ${(e as Error).message}`);
      }
    }
    for (const d of sharedDirs) {
      if (sharedDirsBefore.has(d)) continue;
      try {
        rmdirSync(d);
      } catch {
        // absent, or in use by someone else
      }
    }
    await rm(work, { recursive: true, force: true });
    await rm(snap.dir, { recursive: true, force: true });
    for (const x of extraSnaps) await rm(x.dir, { recursive: true, force: true });
  }

  if (latency.length > 0) {
    console.log(`ctr run --rm IMAGE ID true (${o.runs} runs after ${o.warmup} warm-up rounds, interleaved)\n`);
    console.log(latencyTable(latency));
    console.log("");
  }
  if (bursts.length > 0) {
    console.log(`${o.burst} x ctr run -d IMAGE ID sleep 3600, ${o.concurrency} at a time; memory in MiB\n`);
    console.log(burstTable(bursts, o));
    console.log("");
  }
  for (const r of latency) {
    if (r.error) console.log(`${r.stack.name}: not timed: ${r.error}`);
    if (r.failures.length > 0)
      console.log(`${r.stack.name}: ${r.failures.length} failed runs, first: ${r.failures[0]}`);
  }
  for (const b of bursts) {
    if (b.failures.length > 0)
      console.log(`${b.stack}: ${b.failures.length} containers failed to start, first: ${b.failures[0]}`);
    if (b.maxTasksPerShim > 1) {
      console.log(
        `${b.stack}: tasks share shims: ${b.running} running tasks, ${b.servingShims.processes} serving shims, up to ${b.maxTasksPerShim} tasks in one`,
      );
    }
    if (b.teardownErrors.length > 0) console.log(`${b.stack}: teardown errors:\n  ${b.teardownErrors.join("\n  ")}`);
    if (b.leftovers.length > 0) console.log(`${b.stack}: LEFT AFTER THE BURST:\n  ${b.leftovers.join("\n  ")}`);
  }
  if (teardownFound.length > 0) console.log(`cleaned up at the end:\n  ${teardownFound.join("\n  ")}`);

  const out = join(REPO, "bench/results", `ctr-run-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const report = {
    bench: "ctr-run",
    date: started.toISOString(),
    host: hostInfo(loadBefore),
    gitCommit: firstLine(["git", "-C", REPO, "rev-parse", "HEAD"]),
    dist: { from: o.dist, bundlesSha256: snap.sha256 },
    extraBerth: extraSnaps.map((x) => ({ name: x.name, from: x.dist, bundlesSha256: x.sha256 })),
    versions: {
      ...tools,
      stacks: Object.fromEntries(stacks.map((s) => [s.name, { chain: s.chain, daemon: s.version }])),
    },
    options: o,
    method: {
      latency: "ctr run --rm IMAGE ID true; process.hrtime.bigint() from spawn() to ctr's exit; output to a file",
      order: "round-robin between the stacks, the starting stack alternating each round; warm-ups discarded",
      burst: `ctr run -d IMAGE ID sleep 3600, ${o.concurrency} at a time; memory read ${o.settleMs} ms after the last one returned`,
      memory:
        "/proc/PID/smaps_rollup summed over the stack's shim processes (argv has the daemon's socket); private = Private_Clean + Private_Dirty",
    },
    imageImportMs: imports,
    latency: latency.map((r) => ({
      stack: r.stack.name,
      chain: r.stack.chain,
      error: r.error,
      summary: summarize(r.samples) satisfies Summary,
      samplesMs: r.samples,
      failures: r.failures,
    })),
    burst: bursts,
    teardown: teardownFound,
    error: failure?.stack,
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults: ${out}`);
  if (failure) {
    console.error(`ctr-run failed: ${failure.stack}`);
    process.exitCode = 1;
  }
}

await main();
