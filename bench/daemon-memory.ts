// Bench: berth-containerd's own memory over rounds of containers (issue 11 measured it growing
// from 58 MiB idle to ~199 MiB after four rounds of 100 and levelling off there).
//
// For each build given (--dist, repeatable; default dist/), in turn: a private copy of the build,
// a daemon with private --root/--state/socket, the busybox image imported, then
//   idle:      the daemon's Pss (/proc/PID/smaps_rollup) after the import and a settle pause;
//   round r:   `ctr run -d IMAGE ID sleep 3600` for N containers, C at a time; the Pss with all of
//              them running; every task killed and deleted and every container removed (C at a
//              time); the Pss after the settle pause.
// Then the daemon stops and the bench checks that nothing is left (shims, mounts, bundles,
// runtime state, cgroups), removing what is.
//
//   node bench/daemon-memory.ts [--dist DIR]... [--rounds N (4)] [--containers N (100)]
//                               [--concurrency N (10)] [--settle-ms N (3000)]
//
// Must run as root. Prints one table (MiB) and writes everything to
// bench/results/daemon-memory-<date>.json.

import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import { loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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
import { timedSpawn } from "./lib/spawn.ts";
import { formatTable } from "./lib/stats.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CTR = "/usr/bin/ctr";
const NS = "bench-memory";
const IMAGE = "docker.io/library/berth-bench-busybox:latest";
/** The daemon (and so its shims and runtimes) sees this PATH and no BERTH_* settings. */
const DAEMON_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const mib = (kb: number) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : "-");

interface Options {
  dists: string[];
  rounds: number;
  containers: number;
  concurrency: number;
  settleMs: number;
}

function usage(msg?: string): never {
  if (msg) console.error(`daemon-memory: ${msg}`);
  console.error(
    "usage: node bench/daemon-memory.ts [--dist DIR]... [--rounds N (4)] [--containers N (100)] [--concurrency N (10)] [--settle-ms N (3000)]",
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = { dists: [], rounds: 4, containers: 100, concurrency: 10, settleMs: 3000 };
  const int = (flag: string, v: string | undefined, min: number) => intFlag(usage, flag, v, min);
  eachFlag(argv, (flag, value, a) => {
    if (flag === "--dist") o.dists.push(resolve(value() ?? usage("--dist needs a directory")));
    else if (flag === "--rounds") o.rounds = int(flag, value(), 1);
    else if (flag === "--containers") o.containers = int(flag, value(), 1);
    else if (flag === "--concurrency") o.concurrency = int(flag, value(), 1);
    else if (flag === "--settle-ms") o.settleMs = int(flag, value(), 0);
    else if (flag === "-h" || flag === "--help") usage();
    else usage(`unknown argument ${a}`);
  });
  if (o.dists.length === 0) o.dists.push(join(REPO, "dist"));
  return o;
}

interface Memory {
  rssKb: number;
  pssKb: number;
  /** Private_Clean + Private_Dirty. */
  privateKb: number;
}

/** The daemon's smaps_rollup; NaNs once it is gone. */
function memoryOf(pid: number | undefined): Memory {
  const m: Memory = { rssKb: Number.NaN, pssKb: Number.NaN, privateKb: Number.NaN };
  const f = pid === undefined ? undefined : smapsRollup(pid);
  if (f === undefined) return m;
  return { rssKb: f.Rss ?? 0, pssKb: f.Pss ?? 0, privateKb: (f.Private_Clean ?? 0) + (f.Private_Dirty ?? 0) };
}

interface Daemon {
  dir: string;
  state: string;
  address: string;
  fifos: string;
  logPath: string;
  child: ChildProcess;
  exited: Promise<void>;
}

const alive = (d: Daemon) => d.child.exitCode === null && d.child.signalCode === null;

function ctr(d: Daemon, args: string[], timeoutMs = 60_000) {
  return timedSpawn([CTR, "--address", d.address, "--namespace", NS, ...args], { output: "capture", timeoutMs }).catch(
    (e: Error) => ({ ms: Number.NaN, code: null, signal: null, output: e.message }),
  );
}

async function startDaemon(dist: string): Promise<Daemon> {
  const dir = await makeTempDir("berth-bench-memory-");
  const state = join(dir, "state");
  const address = join(dir, "containerd.sock");
  const fifos = join(dir, "fifo");
  mkdirSync(fifos);
  const logPath = join(dir, "daemon.log");
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: DAEMON_PATH };
  for (const k of Object.keys(env)) if (k.startsWith("BERTH_")) delete env[k];
  const log = openSync(logPath, "a");
  const child = spawn(
    join(dist, "berth-containerd.mjs"),
    ["--root", join(dir, "root"), "--state", state, "--address", address, "--log-level", "info"],
    { stdio: ["ignore", log, log], env },
  );
  const exited = new Promise<void>((r) => {
    child.once("exit", () => r());
    child.once("error", () => r());
  });
  const d: Daemon = { dir, state, address, fifos, logPath, child, exited };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && alive(d)) {
    if (existsSync(address) && (await ctr(d, ["version"], 5_000)).code === 0) return d;
    await sleep(100);
  }
  const tail = readFileSync(logPath, "utf8").split("\n").slice(-30).join("\n");
  await teardown(d);
  throw new Error(`berth-containerd did not become ready:\n${tail}`);
}

/** Kills, deletes and removes container `id`; returns what went wrong. */
async function removeContainer(d: Daemon, id: string): Promise<string[]> {
  const errors: string[] = [];
  const notFound = (out: string) => /not found/.test(out);
  const killed = await ctr(d, ["task", "kill", "-s", "SIGKILL", id]);
  if (killed.code !== 0 && !notFound(killed.output)) errors.push(`task kill ${id}: ${killed.output.trim()}`);
  let deleted = killed;
  for (let t = 0; t < 100; t++) {
    deleted = await ctr(d, ["task", "delete", id]);
    if (deleted.code === 0 || notFound(deleted.output)) break;
    await sleep(100);
  }
  if (deleted.code !== 0 && !notFound(deleted.output)) errors.push(`task delete ${id}: ${deleted.output.trim()}`);
  const removed = await ctr(d, ["containers", "rm", id]);
  if (removed.code !== 0 && !notFound(removed.output)) errors.push(`containers rm ${id}: ${removed.output.trim()}`);
  return errors;
}

/** cgroup dirs ctr's tasks got (/<namespace>/<id> in every hierarchy). */
function taskCgroups(): string[] {
  const found: string[] = [];
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const parent = join("/sys/fs/cgroup", h, NS);
    try {
      for (const e of readdirSync(parent)) {
        if (statSync(join(parent, e)).isDirectory()) found.push(join(parent, e));
      }
    } catch {
      // no such hierarchy dir
    }
  }
  return found;
}

/** berth-shim processes serving or spare for the daemon at `address` (ctr's argv names it too). */
function shimPids(address: string): number[] {
  return pidsWithArgument(address).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8")
        .split("\0")
        .some((a) => a.endsWith("/berth-shim.mjs"));
    } catch {
      return false;
    }
  });
}

/** What is left of deleted tasks with the daemon running (its one spare shim is allowed). */
function leftovers(d: Daemon, spares: number): string[] {
  const left: string[] = [];
  for (const mp of mountsUnder(d.dir)) left.push(`mount ${mp}`);
  const shims = shimPids(d.address);
  if (shims.length > spares) left.push(`${shims.length} shim processes (${spares} expected): ${shims.join(" ")}`);
  for (const sub of ["io.containerd.runtime.v2.task", "runc"]) {
    const dir = join(d.state, sub, NS);
    for (const e of existsSync(dir) ? readdirSync(dir) : []) left.push(`state ${join(dir, e)}`);
  }
  for (const cg of taskCgroups()) left.push(`cgroup ${cg}`);
  return left;
}

/** Stops the daemon and removes whatever it left: tasks, shims, mounts, cgroups, its dir. */
async function teardown(d: Daemon): Promise<string[]> {
  const found: string[] = [];
  try {
    if (alive(d)) {
      const listed = (await ctr(d, ["containers", "ls", "-q"])).output.split("\n").filter(Boolean);
      for (const id of listed) found.push(`container ${id} at teardown`);
      await pool(listed, 10, async (id) => {
        await removeContainer(d, id);
      });
      d.child.kill("SIGTERM");
      const timer = setTimeout(() => d.child.kill("SIGKILL"), 10_000);
      await d.exited;
      clearTimeout(timer);
    }
    // A spare shim notices within a second that its daemon is gone.
    let shims = shimPids(d.address);
    for (let t = 0; t < 30 && shims.length > 0; t++) {
      await sleep(100);
      shims = shimPids(d.address);
    }
    for (const pid of shims) {
      found.push(`shim pid ${pid} still running 3 s after its daemon stopped`);
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    const runcRoot = join(d.state, "runc", NS);
    for (const id of existsSync(runcRoot) ? readdirSync(runcRoot) : []) {
      found.push(`runtime state of ${id} at teardown`);
      await timedSpawn([
        join(dirname(d.child.spawnfile), "berth-runc.mjs"),
        "--root",
        runcRoot,
        "delete",
        "--force",
        id,
      ]);
    }
  } finally {
    for (const cg of taskCgroups()) {
      try {
        rmdirSync(cg);
      } catch {
        found.push(`cgroup ${cg} could not be removed`);
      }
    }
    await unmountUnder(d.dir);
    await rm(d.dir, { recursive: true, force: true });
  }
  return found;
}

interface Round {
  round: number;
  started: number;
  running: number;
  failures: string[];
  runWallMs: number;
  withContainers: Memory;
  afterRemoval: Memory;
  teardownErrors: string[];
  leftovers: string[];
}

interface BuildResult {
  dist: string;
  bundlesSha256: string;
  version: string | undefined;
  start: Memory;
  idle: Memory;
  rounds: Round[];
  teardown: string[];
  error?: string;
}

async function measureBuild(dist: string, o: Options, archive: string): Promise<BuildResult> {
  const snap = await snapshotDist(dist);
  const result: BuildResult = {
    dist,
    bundlesSha256: snap.sha256,
    version: firstLine([join(snap.dir, "berth-containerd.mjs"), "--version"]),
    start: memoryOf(undefined),
    idle: memoryOf(undefined),
    rounds: [],
    teardown: [],
  };
  let d: Daemon | undefined;
  try {
    d = await startDaemon(snap.dir);
    const daemon = d;
    await sleep(o.settleMs);
    result.start = memoryOf(daemon.child.pid);
    const imported = await ctr(daemon, ["images", "import", archive], 120_000);
    if (imported.code !== 0) throw new Error(`ctr images import: ${imported.output}`);
    await sleep(o.settleMs);
    result.idle = memoryOf(daemon.child.pid);
    process.stderr.write(`${dist}: idle ${mib(result.idle.pssKb)} MiB\n`);
    for (let r = 1; r <= o.rounds; r++) {
      checkInterrupted();
      const mine = Array.from({ length: o.containers }, (_, i) => `mem-${process.pid}-r${r}-${i}`);
      const failures: string[] = [];
      let started = 0;
      const t0 = Date.now();
      await pool(mine, o.concurrency, async (id) => {
        if (isInterrupted()) return;
        const run = await ctr(daemon, ["run", "-d", "--fifo-dir", daemon.fifos, IMAGE, id, "sleep", "3600"]);
        if (run.code === 0) started++;
        else failures.push(`${id}: ${run.output.trim()}`);
      });
      const runWallMs = Date.now() - t0;
      const running = (await ctr(daemon, ["task", "ls"])).output
        .split("\n")
        .filter((l) => /\sRUNNING\s*$/.test(l) && mine.includes(l.split(/\s+/)[0] ?? "")).length;
      const withContainers = memoryOf(daemon.child.pid);
      const teardownErrors: string[] = [];
      await pool(mine, o.concurrency, async (id) => {
        teardownErrors.push(...(await removeContainer(daemon, id)));
      });
      await sleep(o.settleMs);
      const afterRemoval = memoryOf(daemon.child.pid);
      const left = leftovers(daemon, 1);
      result.rounds.push({
        round: r,
        started,
        running,
        failures,
        runWallMs,
        withContainers,
        afterRemoval,
        teardownErrors,
        leftovers: left,
      });
      process.stderr.write(
        `${dist}: round ${r}: ${running}/${o.containers} running, Pss ${mib(withContainers.pssKb)} MiB with them, ${mib(afterRemoval.pssKb)} MiB after their removal${left.length > 0 ? `; LEFT: ${left.join("; ")}` : ""}\n`,
      );
    }
  } catch (e) {
    result.error = (e as Error).stack;
  } finally {
    if (d) {
      try {
        result.teardown = await teardown(d);
      } catch (e) {
        result.teardown.push(`teardown failed: ${(e as Error).message}`);
      }
    }
    await rm(snap.dir, { recursive: true, force: true });
  }
  return result;
}

function table(results: BuildResult[], o: Options): string {
  const header = [
    "build (--dist)",
    "bundles",
    "start",
    "idle",
    ...Array.from({ length: o.rounds }, (_, i) => `after ${i + 1}`),
    "max with ctrs running",
    "left",
  ];
  const rows = results.map((b) => [
    b.dist.replace(`${REPO}/`, ""),
    b.bundlesSha256,
    mib(b.start.pssKb),
    mib(b.idle.pssKb),
    ...Array.from({ length: o.rounds }, (_, i) => mib(b.rounds[i]?.afterRemoval.pssKb ?? Number.NaN)),
    mib(Math.max(...b.rounds.map((r) => r.withContainers.pssKb))),
    b.rounds.some((r) => r.leftovers.length > 0) || b.teardown.length > 0 ? "yes" : "none",
  ]);
  return formatTable(header, rows);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage("must run as root (containers need it)");
  if (!existsSync(CTR)) usage(`${CTR} not found`);
  const started = new Date();
  const loadBefore = loadavg();
  const work = await makeTempDir("berth-bench-memory-work-");
  const cgroupParents = readdirSync("/sys/fs/cgroup").map((h) => join("/sys/fs/cgroup", h, NS));
  const parentsBefore = new Set(cgroupParents.filter((p) => existsSync(p)));
  const results: BuildResult[] = [];
  try {
    const archive = join(work, "busybox.tar");
    await writeImageArchive(archive, { name: IMAGE });
    for (const dist of o.dists) {
      checkInterrupted();
      results.push(await measureBuild(dist, o, archive));
    }
  } finally {
    for (const p of cgroupParents) {
      if (parentsBefore.has(p)) continue;
      try {
        rmdirSync(p);
      } catch {
        // absent
      }
    }
    await rm(work, { recursive: true, force: true });
  }

  console.log(
    `berth-containerd Pss (MiB): idle, then after each round of ${o.containers} x ctr run -d (${o.concurrency} at a time), kill, delete, rm and ${o.settleMs} ms\n`,
  );
  console.log(table(results, o));
  for (const b of results) {
    for (const r of b.rounds) {
      if (r.failures.length > 0)
        console.log(`${b.dist} round ${r.round}: ${r.failures.length} runs failed, first: ${r.failures[0]}`);
      if (r.teardownErrors.length > 0)
        console.log(`${b.dist} round ${r.round}: removal errors: ${r.teardownErrors.slice(0, 3).join("; ")}`);
      if (r.leftovers.length > 0) console.log(`${b.dist} round ${r.round}: LEFT: ${r.leftovers.join("; ")}`);
    }
    if (b.teardown.length > 0) console.log(`${b.dist}: cleaned up at the end: ${b.teardown.join("; ")}`);
    if (b.error) console.log(`${b.dist}: FAILED: ${b.error}`);
  }
  const out = join(REPO, "bench/results", `daemon-memory-${started.toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const report = {
    bench: "daemon-memory",
    date: started.toISOString(),
    host: hostInfo(loadBefore),
    gitCommit: firstLine(["git", "-C", REPO, "rev-parse", "HEAD"]),
    options: o,
    method: {
      memory: "/proc/PID/smaps_rollup of berth-containerd; private = Private_Clean + Private_Dirty",
      idle: `after start-up and the busybox import, ${o.settleMs} ms settle`,
      round: `ctr run -d IMAGE ID sleep 3600 x ${o.containers}, ${o.concurrency} at a time; then task kill -s SIGKILL, task delete, containers rm, ${o.concurrency} at a time; ${o.settleMs} ms settle`,
    },
    results,
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nresults: ${out}`);
  if (results.some((b) => b.error)) process.exitCode = 1;
}

await main();
