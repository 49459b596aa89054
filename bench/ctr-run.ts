// Bench: whole containers through `ctr`, two stacks side by side in one run, and podman beside them:
//   berth       berth-containerd → berth-shim (+ berth-keeper) → berth-runc   (a private copy of dist/)
//   containerd  containerd 1.6 → containerd-shim-runc-v2 → runc (Debian's, /usr/sbin/runc)
//   podman      podman 4.3 → conmon → runc (bursts only; bench/lib/podman.ts)
// Both daemons get private roots, state dirs and sockets in temp dirs, and the same busybox image.
//
// 1. Latency: `ctr run --rm IMAGE ID true` wall time, round-robin between the stacks (the starting
//    stack alternates each round), warm-up rounds discarded.
// 2. Burst memory: N containers (`ctr run -d IMAGE ID sleep 3600`, C at a time; podman run -d) on
//    each subject in turn; once all run, the proportional set size (Pss, /proc/PID/smaps_rollup)
//    summed over the subject's shim side (berth-shim and berth-keeper, containerd-shim-runc-v2,
//    conmon), per role, and the daemon's own Pss before and after. Then every container is killed
//    and removed and the bench checks that nothing is left (shim-side processes, sockets, mounts,
//    runtime state, cgroups). Issue 13's two memory criteria are printed as yes/no lines.
//
//   node bench/ctr-run.ts [--runs N (30)] [--warmup N (3)] [--burst N (50)] [--burst-rounds N (1)]
//                         [--concurrency N (5)] [--settle-ms N (2000)] [--dist DIR] [--shim-node-flags "FLAGS"]
//                         [--group NAME]   (burst containers share one shim: io.containerd.runc.v2.group=NAME)
//                         [--extra-berth NAME=DIST]...   (another berth build, e.g. dist/ of an older commit,
//                                                         benched in the same rounds: before/after in one run)
//                         [--no-podman]    (no podman bursts)
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
  cmdline,
  firstLine,
  hostInfo,
  isInterrupted,
  type Memory,
  memoryOf,
  mountsUnder,
  parentPid,
  pidsWithExe,
  pool,
  snapshotDist,
} from "./lib/host.ts";
import { eachFlag, intFlag } from "./lib/options.ts";
import { CONMON, PODMAN, type PodmanSubject, startPodman } from "./lib/podman.ts";
import { type TimedRun, timedSpawn } from "./lib/spawn.ts";
import { formatTable, median, type Summary, summarize } from "./lib/stats.ts";
import type { Role, SideProcess, Subject } from "./lib/subject.ts";

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
  /** Burst podman too (its conmons are the per-container monitor the keeper is measured against). */
  podman: boolean;
}

function usage(msg?: string): never {
  if (msg) console.error(`ctr-run: ${msg}`);
  console.error(
    'usage: node bench/ctr-run.ts [--runs N (30)] [--warmup N (3)] [--burst N (50)] [--burst-rounds N (1)] [--concurrency N (5)] [--settle-ms N (2000)] [--dist DIR] [--shim-node-flags "FLAGS"] [--group NAME] [--extra-berth NAME=DIST]... [--no-podman]',
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
    podman: true,
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
    else if (flag === "--no-podman") o.podman = false;
    else if (flag === "-h" || flag === "--help") usage();
    else usage(`unknown argument ${a}`);
  });
  return o;
}

function extraBerth(spec: string | undefined): { name: string; dist: string } {
  const eq = spec?.indexOf("=") ?? -1;
  if (spec === undefined || eq <= 0) usage(`--extra-berth wants NAME=DIST, got ${JSON.stringify(spec)}`);
  const name = spec.slice(0, eq);
  if (!/^[a-z0-9-]+$/.test(name) || ["berth", "containerd", "podman"].includes(name)) {
    usage(`--extra-berth: bad name ${name}`);
  }
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

function envPath(pid: number): string | undefined {
  try {
    const vars = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    return vars.find((v) => v.startsWith("PATH="))?.slice("PATH=".length);
  } catch {
    return undefined;
  }
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
  /** The keeper executable the shims start, one per container (berth builds that have one). */
  keeper: string | undefined;
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
    chain: existsSync(join(dist, "berth-keeper"))
      ? "berth-containerd → berth-shim + berth-keeper → berth-runc"
      : "berth-containerd → berth-shim → berth-runc",
    dir,
    address,
    logPath,
    ...d,
    version: firstLine([bin, "--version"]) ?? "?",
    isShim: (argv) => argv.includes(shim),
    keeper: join(dist, "berth-keeper"),
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
    keeper: undefined,
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

/** The keepers started from this stack's build (their executable is the build's private copy). */
function keeperPids(s: Stack): number[] {
  return s.keeper === undefined ? [] : pidsWithExe(s.keeper);
}

function sideOf(s: Stack): SideProcess[] {
  return [
    ...shimPids(s).map((pid) => ({ pid, role: "shim" as const })),
    ...keeperPids(s).map((pid) => ({ pid, role: "keeper" as const })),
  ];
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
const nextId = (subject: string) => `${ID_PREFIX}${subject.slice(0, 6)}${++idSeq}`;

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
 * Everything of `ids` still around on this stack; empty when clean. `served`: the shims and keepers
 * that served those tasks (idle spare shims are the daemon's business and are counted by the caller).
 */
async function leftovers(s: Stack, ids: readonly string[], served: ReadonlySet<number>): Promise<string[]> {
  const left: string[] = [];
  if (alive(s)) {
    for (const id of await listed(s, "task")) if (id.startsWith(ID_PREFIX)) left.push(`task ${id}`);
    for (const id of await listed(s, "containers")) if (id.startsWith(ID_PREFIX)) left.push(`container ${id}`);
  }
  // Shims and keepers exit once their tasks are deleted; give them a moment.
  const stillThere = () => sideOf(s).filter((p) => served.has(p.pid));
  let procs = stillThere();
  for (let t = 0; t < 50 && procs.length > 0; t++) {
    await sleep(100);
    procs = stillThere();
  }
  for (const p of procs) left.push(`${p.role} pid ${p.pid}: ${cmdline(p.pid).join(" ")}`);
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
    // A keeper outlives its shim by design; one still there after the tasks were deleted is a leak.
    const keepers = keeperPids(s);
    found.push(...keepers.map((pid) => `${s.name}: keeper pid ${pid} still running after teardown`));
    killPids(keepers);
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
  const id = nextId(s.name);
  ids.push(id);
  const r = await ctrSafe(s, ["run", "--rm", IMAGE, id, "true"]);
  // ctr leaves the container (and maybe the task) behind when the run fails.
  if (r.code !== 0) await removeContainer(s, id);
  return r;
}

/** `ids`: per stack name, every container id handed out (the teardown looks for all of them). */
async function measureLatency(stacks: Stack[], o: Options, ids: Map<string, string[]>): Promise<Latency[]> {
  const results: Latency[] = stacks.map((stack) => ({ stack, samples: [], failures: [] }));
  const active: Latency[] = [];
  for (const r of results) {
    const first = await runTrue(r.stack, ids.get(r.stack.name)!);
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
      const run = await runTrue(r.stack, ids.get(r.stack.name)!);
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

/** A ctr stack as a burst subject; `group`: the io.containerd.runc.v2.group annotation, if any. */
function ctrSubject(s: Stack, group: string | undefined): Subject {
  const annotation = group ? ["--annotation", `io.containerd.runc.v2.group=${group}`] : [];
  return {
    name: s.name,
    chain: s.chain,
    runDetached: (id) => ctrSafe(s, ["run", "-d", ...annotation, IMAGE, id, "sleep", "3600"]),
    running: (ids) => runningTasks(s, ids),
    side: () => sideOf(s),
    daemonMemory: () => daemonMemory(s),
    remove: (id) => removeContainer(s, id),
    leftovers: (ids, served) => leftovers(s, ids, served),
  };
}

/** One role of a subject's shim side with the burst running. */
interface RoleMemory {
  role: Role;
  memory: Memory;
  /** Processes of this role that are an ancestor of a running container's init. */
  serving: number;
  /** The others (spare shims kept ready). */
  idle: number;
  /** Most running containers below one process of this role (1 for a per-container monitor). */
  maxPerProcess: number;
  /** One serving process's argv, to show how it was started. */
  argv: string[];
}

interface Burst {
  subject: string;
  round: number;
  requested: number;
  started: number;
  running: number;
  failures: string[];
  /** Wall time from the first start to the last one's exit. */
  startWallMs: number;
  /** Wall time of each start (`ctr run -d`, `podman run -d`). */
  runMs: number[];
  /** The whole shim side with the burst running: every role, serving and idle. */
  side: Memory;
  roles: RoleMemory[];
  /** Shim-side processes before the burst and after its teardown (settled): the spares. */
  sideBefore: number;
  sideAfterTeardown: number;
  /** PATH of the first serving process (proof of which runc a shim runs). */
  envPath: string | undefined;
  /** The daemon's own memory (none for podman). */
  daemonBefore: Memory | undefined;
  daemonAfter: Memory | undefined;
  daemonAfterTeardown: Memory | undefined;
  teardownWallMs: number;
  teardownErrors: string[];
  leftovers: string[];
  /** Containers whose init's parent is not on the shim side: a monitor the bench failed to count. */
  uncounted: string[];
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

/** The subject's shim-side processes once their number has stopped changing. */
async function settledSide(s: Subject): Promise<SideProcess[]> {
  let side = s.side();
  for (let t = 0; t < 20; t++) {
    await sleep(250);
    const now = s.side();
    if (now.length === side.length) return now;
    side = now;
  }
  return side;
}

/**
 * For each side process, how many of `inits` it is an ancestor of: a container's init is the child
 * of its shim, keeper or conmon, and a keeper the child of its shim.
 */
function servedBy(side: readonly SideProcess[], inits: Iterable<number>): Map<number, number> {
  const onSide = new Set(side.map((p) => p.pid));
  const served = new Map<number, number>();
  for (const init of inits) {
    let pid: number | undefined = init;
    for (let depth = 0; depth < 8 && pid !== undefined && pid > 1; depth++) {
      pid = parentPid(pid);
      if (pid !== undefined && onSide.has(pid)) served.set(pid, (served.get(pid) ?? 0) + 1);
    }
  }
  return served;
}

const ROLE_ORDER: readonly Role[] = ["shim", "keeper", "conmon"];

function rolesOf(side: readonly SideProcess[], served: ReadonlyMap<number, number>): RoleMemory[] {
  const roles: RoleMemory[] = [];
  for (const role of ROLE_ORDER) {
    const pids = side.filter((p) => p.role === role).map((p) => p.pid);
    if (pids.length === 0) continue;
    const serving = pids.filter((p) => served.has(p));
    roles.push({
      role,
      memory: memoryOf(pids),
      serving: serving.length,
      idle: pids.length - serving.length,
      maxPerProcess: Math.max(0, ...serving.map((p) => served.get(p) ?? 0)),
      argv: serving.length > 0 ? cmdline(serving[0]!) : [],
    });
  }
  return roles;
}

function sumMemory(ms: readonly Memory[]): Memory {
  const sum: Memory = { processes: 0, rssKb: 0, pssKb: 0, privateKb: 0, aloneKb: 0 };
  for (const m of ms) {
    sum.processes += m.processes;
    sum.rssKb += m.rssKb;
    sum.pssKb += m.pssKb;
    sum.privateKb += m.privateKb;
    // Each set's shared files once; summed over sets, a file two of them map counts twice.
    sum.aloneKb += m.aloneKb;
  }
  return sum;
}

/** "1+1 shim, 50 keeper": serving(+idle) processes per role. */
function sideSummary(roles: readonly RoleMemory[]): string {
  if (roles.length === 0) return "none";
  return roles.map((r) => `${r.serving}${r.idle > 0 ? `+${r.idle}` : ""} ${r.role}`).join(", ");
}

async function burst(s: Subject, round: number, o: Options, ids: string[]): Promise<Burst> {
  const mine = Array.from({ length: o.burst }, () => nextId(s.name));
  ids.push(...mine);
  const sideBefore = (await settledSide(s)).length;
  const daemonBefore = s.daemonMemory();
  const failures: string[] = [];
  const runMs: number[] = [];
  const t0 = process.hrtime.bigint();
  await pool(mine, o.concurrency, async (id) => {
    if (isInterrupted()) return;
    const r = await s.runDetached(id);
    if (r.code === 0) runMs.push(r.ms);
    else failures.push(`${id}: ${describe(r)}`);
  });
  const startWallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  checkInterrupted();

  await sleep(o.settleMs);
  const tasks = await s.running(mine);
  const side = s.side();
  const served = servedBy(side, tasks.values());
  const roles = rolesOf(side, served);
  const onSide = new Set(side.map((p) => p.pid));
  const uncounted: string[] = [];
  for (const [id, init] of tasks) {
    const parent = parentPid(init);
    if (parent !== undefined && !onSide.has(parent)) {
      uncounted.push(`${id}: init ${init}'s parent ${parent} is not on the shim side: ${cmdline(parent).join(" ")}`);
    }
  }
  const all = sumMemory(roles.map((r) => r.memory));
  const firstServing = side.find((p) => served.has(p.pid))?.pid;
  const path = firstServing === undefined ? undefined : envPath(firstServing);
  const daemonAfter = s.daemonMemory();
  process.stderr.write(
    `${s.name}: ${tasks.size}/${o.burst} running, shim side ${sideSummary(roles)}, Pss ${mib(all.pssKb)} MiB\n`,
  );

  const teardownErrors: string[] = [];
  const t1 = process.hrtime.bigint();
  await pool(mine, o.concurrency, async (id) => {
    teardownErrors.push(...(await s.remove(id)));
  });
  const teardownWallMs = Number(process.hrtime.bigint() - t1) / 1e6;
  const left = await s.leftovers(mine, new Set(served.keys()));
  const sideAfterTeardown = (await settledSide(s)).length;
  if (sideAfterTeardown > sideBefore) {
    left.push(`${sideAfterTeardown - sideBefore} more shim-side processes than before the burst (${sideBefore})`);
  }
  return {
    subject: s.name,
    round,
    requested: o.burst,
    started: runMs.length,
    running: tasks.size,
    failures,
    startWallMs,
    runMs,
    side: all,
    roles,
    sideBefore,
    sideAfterTeardown,
    envPath: path,
    daemonBefore,
    daemonAfter,
    daemonAfterTeardown: s.daemonMemory(),
    teardownWallMs,
    teardownErrors,
    leftovers: left,
    uncounted,
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

const label = (b: Burst, o: Options) => (o.burstRounds > 1 ? `${b.subject} #${b.round}` : b.subject);
/** MiB per running container. */
const perCtr = (kb: number, b: Burst) => (b.running > 0 ? kb / 1024 / b.running : Number.NaN);
const daemonMib = (m: Memory | undefined) => (m === undefined ? "-" : mib(m.pssKb));

function burstTable(results: Burst[], o: Options): string {
  const rows = results.map((b) => [
    label(b, o),
    `${b.running}/${b.requested}`,
    sideSummary(b.roles),
    fmt(b.startWallMs / 1000, 2),
    mib(b.side.pssKb),
    fmt(perCtr(b.side.pssKb, b), 2),
    fmt(perCtr(b.side.privateKb, b), 2),
    fmt(perCtr(b.side.rssKb, b), 2),
    daemonMib(b.daemonBefore),
    daemonMib(b.daemonAfter),
    daemonMib(b.daemonAfterTeardown),
    b.leftovers.length === 0 ? "none" : String(b.leftovers.length),
  ]);
  return formatTable(
    [
      "subject",
      "running",
      "shim side (serving+idle)",
      "start s",
      "Pss total",
      "Pss/ctr",
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

/** The shim side by role: berth's shims and keepers apart, containerd's shims, podman's conmons. */
function roleTable(results: Burst[], o: Options): string {
  const rows = results.flatMap((b) =>
    b.roles.map((r) => [
      label(b, o),
      r.role,
      `${r.serving}${r.idle > 0 ? `+${r.idle}` : ""}`,
      r.maxPerProcess > 1 ? String(r.maxPerProcess) : "1",
      mib(r.memory.pssKb),
      fmt(r.memory.processes > 0 ? r.memory.pssKb / 1024 / r.memory.processes : Number.NaN, 2),
      fmt(perCtr(r.memory.pssKb, b), 2),
      fmt(perCtr(r.memory.privateKb, b), 2),
    ]),
  );
  return formatTable(
    ["subject", "role", "processes", "ctrs/process", "Pss total", "Pss/process", "Pss/ctr", "private/ctr"],
    rows,
  );
}

const yesNo = (ok: boolean) => (ok ? "yes" : "no");

/**
 * Issue 13's criteria, per berth build and round: the keeper's Pss per container at most conmon's
 * (same run), and berth's whole shim side at most half of containerd-shim-runc-v2's.
 */
function memoryCriteria(results: Burst[], o: Options): string[] {
  const lines: string[] = [];
  for (let round = 1; round <= o.burstRounds; round++) {
    const inRound = results.filter((b) => b.round === round && b.running > 0);
    const podman = inRound.find((b) => b.subject === "podman");
    const conmon = podman?.roles.find((r) => r.role === "conmon");
    const runc = inRound.find((b) => b.subject === "containerd");
    for (const b of inRound.filter((x) => x.subject !== "podman" && x.subject !== "containerd")) {
      const keeper = b.roles.find((r) => r.role === "keeper");
      const k = keeper ? perCtr(keeper.memory.pssKb, b) : Number.NaN;
      const c = conmon && podman ? perCtr(conmon.memory.pssKb, podman) : Number.NaN;
      lines.push(
        `keeper Pss/ctr ≤ conmon Pss/ctr (${label(b, o)}): ${
          keeper === undefined ? "n/a, no keepers" : conmon === undefined ? "n/a, no conmon burst" : yesNo(k <= c)
        } (${fmt(k, 2)} vs ${fmt(c, 2)} MiB)`,
      );
      const x = perCtr(b.side.pssKb, b);
      const y = runc ? perCtr(runc.side.pssKb, runc) : Number.NaN;
      lines.push(
        `berth shim side ≤ ½ runc-v2 shim side (${label(b, o)}): ${runc ? yesNo(x <= y / 2) : "n/a, no containerd burst"} (${fmt(x, 2)} vs ½ × ${fmt(y, 2)} = ${fmt(y / 2, 2)} MiB Pss per container; totals ${mib(b.side.pssKb)} MiB for ${b.running} vs ${runc ? mib(runc.side.pssKb) : "-"} MiB for ${runc?.running ?? 0})`,
      );
    }
  }
  return lines;
}

/** `ctr run --rm` medians: each berth build against containerd, and the first against the others. */
function latencyCriteria(results: Latency[]): string[] {
  const med = (r: Latency | undefined) => (r && r.samples.length > 0 ? median(r.samples) : Number.NaN);
  const ref = results.find((r) => r.stack.name === "containerd");
  const berths = results.filter((r) => r.stack.name !== "containerd");
  const lines = berths.map(
    (r) =>
      `ctr run --rm ${r.stack.name} ≤ containerd: ${yesNo(med(r) <= med(ref))} (${fmt(med(r))} vs ${fmt(med(ref))} ms median)`,
  );
  const [first, ...others] = berths;
  for (const x of others) {
    lines.push(
      `ctr run --rm ${first!.stack.name} ≤ ${x.stack.name}: ${yesNo(med(first) <= med(x))} (${fmt(med(first))} vs ${fmt(med(x))} ms median)`,
    );
  }
  return lines;
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
  let podman: PodmanSubject | undefined;
  const podmanSkipped = !o.podman ? "--no-podman" : [PODMAN, CONMON].find((b) => !existsSync(b));
  const ids = new Map<string, string[]>();
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
      ids.set(s.name, []);
      await waitReady(s);
      const r = await ctrSafe(s, ["images", "import", archive], 120_000);
      if (r.code !== 0) throw new Error(`${s.name}: ctr images import failed: ${describe(r)}`);
      imports[s.name] = r.ms;
    }
    if (o.runs > 0) latency = await measureLatency(stacks, o, ids);
    if (o.burst > 0) {
      const subjects: Subject[] = stacks.map((s) => ctrSubject(s, o.group));
      if (podmanSkipped === undefined) {
        podman = await startPodman(RUNC);
        subjects.push(podman);
        ids.set(podman.name, []);
      } else {
        console.error(
          `podman: not burst (${podmanSkipped === "--no-podman" ? podmanSkipped : `${podmanSkipped} not found`})`,
        );
      }
      // One burst per subject per round, the one going first alternating between rounds.
      for (let round = 0; round < o.burstRounds; round++) {
        for (const s of round % 2 === 0 ? subjects : [...subjects].reverse()) {
          checkInterrupted();
          bursts.push(await burst(s, round + 1, o, ids.get(s.name)!));
        }
      }
    }
  } catch (e) {
    failure = e as Error;
  } finally {
    for (const s of stacks) {
      try {
        teardownFound.push(...(await teardown(s, ids.get(s.name) ?? [])));
      } catch (e) {
        teardownFound.push(`${s.name}: teardown failed: ${(e as Error).message}`);
      }
    }
    if (podman) teardownFound.push(...(await podman.cleanup()));
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
    console.log(
      `${o.burst} x ctr run -d IMAGE ID sleep 3600 / podman run -d, ${o.concurrency} at a time; memory in MiB\n`,
    );
    console.log(burstTable(bursts, o));
    console.log("\nThe shim side by role:\n");
    console.log(roleTable(bursts, o));
    console.log("");
  }
  const criteria = [...memoryCriteria(bursts, o), ...latencyCriteria(latency)];
  if (criteria.length > 0) console.log(`${criteria.join("\n")}\n`);
  for (const r of latency) {
    if (r.error) console.log(`${r.stack.name}: not timed: ${r.error}`);
    if (r.failures.length > 0)
      console.log(`${r.stack.name}: ${r.failures.length} failed runs, first: ${r.failures[0]}`);
  }
  for (const b of bursts) {
    if (b.failures.length > 0)
      console.log(`${b.subject}: ${b.failures.length} containers failed to start, first: ${b.failures[0]}`);
    if (b.teardownErrors.length > 0) console.log(`${b.subject}: teardown errors:\n  ${b.teardownErrors.join("\n  ")}`);
    if (b.leftovers.length > 0) console.log(`${b.subject}: LEFT AFTER THE BURST:\n  ${b.leftovers.join("\n  ")}`);
    if (b.uncounted.length > 0) {
      console.log(`${b.subject}: NOT COUNTED (${b.uncounted.length} containers), first: ${b.uncounted[0]}`);
    }
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
      podman: podman ? { chain: podman.chain, version: podman.version } : { skipped: podmanSkipped },
    },
    options: o,
    method: {
      latency: "ctr run --rm IMAGE ID true; process.hrtime.bigint() from spawn() to ctr's exit; output to a file",
      order: "round-robin between the stacks, the starting stack alternating each round; warm-ups discarded",
      burst: `ctr run -d IMAGE ID sleep 3600 (podman run -d --rootfs BUSYBOX:O sleep 3600), ${o.concurrency} at a time; memory read ${o.settleMs} ms after the last one returned`,
      memory:
        "/proc/PID/smaps_rollup summed over the shim side per role: shims (argv has the daemon's socket), keepers (exe is the build's berth-keeper), conmons (argv in podman's private dir); private = Private_Clean + Private_Dirty",
    },
    criteria,
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
