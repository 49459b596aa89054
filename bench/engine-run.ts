// Bench: `docker run` against three engines side by side in one run, each with private state and
// the same busybox image (test/fixtures: the host's busybox-static in one layer):
//   berthd   berthd → berth-containerd → berth-shim (+ berth-keeper) → berth-runc   (a private copy of dist/)
//   dockerd  Debian's dockerd 20.10 → its own containerd 1.6 → containerd-shim-runc-v2 → runc
//            (--bridge=none --iptables=false, private --data-root/--exec-root/socket: test/helpers/peers.ts)
//   podman   podman 4.3 → conmon → runc, private --root/--runroot, the image from `podman import`
// The docker engines are driven by the same docker client (CLI 28 where the machine has it, else
// Debian's 20.10), podman by its own CLI; every command runs with --network none.
//
// 1. Latency: `run --rm --network none busybox true` wall time, round-robin over the engines (the
//    first engine rotates each round), warm-up rounds discarded.
// 2. Burst: N (50) `run -d --network none busybox sleep 600`, C (5) at a time: the wall time until
//    all are started, then the time of `rm -f` of all of them.
// 3. Memory (docker engines) of the daemon side: berthd + berth-containerd + berth-shims + keepers
//    (+ berth-loggers), against dockerd + containerd + containerd-shim-runc-v2s; idle (right after
//    start-up and the image load), after the latency rounds with nothing running, and with W (20)
//    containers running (`run -d ... sleep 600`). The goal is judged by what each side holds alone
//    (lib/smaps.ts: anonymous pages summed, each mapped file once), which other processes on the
//    machine do not change; Pss and Rss are beside it.
//
//   node bench/engine-run.ts [--runs N (20)] [--warmup N (2)] [--burst N (50)] [--concurrency N (5)]
//                            [--worked N (20)] [--settle-ms N (2000)] [--dist DIR] [--no-podman]
//                            [--only latency,burst,memory] [--extra-dist NAME=DIR]...
//
// --only runs just those parts; --extra-dist adds another berth build (e.g. the dist/ of an older
// commit) as one more berthd, named NAME, in the same rounds: before and after in one run.
//
// Must run as root. Prints tables and ratios against dockerd, and writes everything, raw samples
// included, to bench/results/engine-run-<date>.json.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { makeTempDir } from "../test/fixtures/busybox.ts";
import { writeImageArchive, writeRootfsTar } from "../test/fixtures/oci-image.ts";
import { newBerthd } from "../test/helpers/berthd.ts";
import { type Dockerd, type Podman, pidsWithArgument, setupPodman, startDockerd } from "../test/helpers/peers.ts";
import {
  checkInterrupted,
  firstLine,
  hostInfo,
  isInterrupted,
  type Memory,
  memoryOf,
  pidsWithExe,
  pool,
  snapshotDist,
} from "./lib/host.ts";
import { eachFlag, intFlag, usageOf } from "./lib/options.ts";
import { type TimedRun, timedSpawn } from "./lib/spawn.ts";
import { formatTable, type Summary, summarize } from "./lib/stats.ts";

const REPO = resolve(import.meta.dirname, "..");
const RUNC = "/usr/sbin/runc";
const IMAGE = "busybox";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Options {
  runs: number;
  warmup: number;
  burst: number;
  concurrency: number;
  worked: number;
  settleMs: number;
  dist: string;
  podman: boolean;
  /** The parts to run (latency, burst, memory); all by default. */
  only: Set<Part>;
  /** Further berth builds, each one more berthd in the same rounds. */
  extra: { name: string; dist: string }[];
}

const PARTS = ["latency", "burst", "memory"] as const;
type Part = (typeof PARTS)[number];

const usage = usageOf(
  "engine-run",
  "[--runs N (20)] [--warmup N (2)] [--burst N (50)] [--concurrency N (5)] [--worked N (20)] [--settle-ms N (2000)] [--dist DIR] [--no-podman] [--only latency,burst,memory] [--extra-dist NAME=DIR]...",
);

type IntOption = "runs" | "warmup" | "burst" | "concurrency" | "worked" | "settleMs";

function parseOptions(argv: string[]): Options {
  const o: Options = {
    runs: 20,
    warmup: 2,
    burst: 50,
    concurrency: 5,
    worked: 20,
    settleMs: 2000,
    dist: join(REPO, "dist"),
    podman: true,
    only: new Set(PARTS),
    extra: [],
  };
  /** The integer flags: the option each sets and its least value. */
  const ints: Record<string, [IntOption, number]> = {
    "--runs": ["runs", 0],
    "--warmup": ["warmup", 0],
    "--burst": ["burst", 0],
    "--concurrency": ["concurrency", 1],
    "--worked": ["worked", 0],
    "--settle-ms": ["settleMs", 0],
  };
  eachFlag(argv, (flag, value, a) => {
    const int = ints[flag];
    if (int) o[int[0]] = intFlag(usage, flag, value(), int[1]);
    else if (flag === "--dist") o.dist = resolve(value() ?? usage("--dist needs a directory"));
    else if (flag === "--no-podman") o.podman = false;
    else if (flag === "--only") o.only = parseParts(value() ?? usage("--only needs a list of parts"));
    else if (flag === "--extra-dist") {
      const m = /^([\w.-]+)=(.+)$/.exec(value() ?? "") ?? usage("--extra-dist needs NAME=DIR");
      o.extra.push({ name: `berthd ${m[1]}`, dist: resolve(m[2]!) });
    } else if (flag === "-h" || flag === "--help") usage();
    else usage(`unknown argument ${a}`);
  });
  if (!o.only.has("latency")) o.runs = 0;
  if (!o.only.has("burst")) o.burst = 0;
  if (!o.only.has("memory")) o.worked = 0;
  return o;
}

function parseParts(list: string): Set<Part> {
  const parts = new Set<Part>();
  for (const name of list.split(",")) {
    if (!(PARTS as readonly string[]).includes(name)) usage(`--only: unknown part ${name} (${PARTS.join(", ")})`);
    parts.add(name as Part);
  }
  return parts;
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "-");
const mib = (kb: number) => fmt(kb / 1024);

// ---------------------------------------------------------------------------------------------
// The engines

/** What the daemon side of an engine is made of, by part, for the memory table. */
type Parts = Record<string, number[]>;

interface Engine {
  /** berthd, dockerd, podman, or "berthd NAME" for an --extra-dist build. */
  name: string;
  chain: string;
  version: string;
  /** One client command; resolves with its wall time, exit and output. Never rejects. */
  client(args: string[]): Promise<TimedRun>;
  /** The daemon side's processes by part; undefined for podman (no daemon). */
  parts(): Parts | undefined;
  cleanup(): Promise<void>;
}

/** A docker client command against `socket`, timed. */
function dockerClient(cli: string, socket: string, configDir: string) {
  return (args: string[]) =>
    timedSpawn([cli, "-H", `unix://${socket}`, ...args], {
      env: { ...process.env, DOCKER_CONFIG: configDir, DOCKER_API_VERSION: "" },
      output: "capture",
      timeoutMs: 120_000,
    });
}

async function startBerthd(dist: string, cli: string, archive: string, name = "berthd"): Promise<Engine> {
  // The private copy of the build, so a rebuild of dist/ during the run changes nothing measured.
  const d = await newBerthd(join(dist, "berthd.mjs"));
  try {
    await d.start(["--log-level", "info"]);
  } catch (e) {
    await d.cleanup();
    throw e;
  }
  const client = dockerClient(cli, d.socket, join(d.dir, "client-config"));
  const address = join(d.execRoot, "containerd", "containerd.sock");
  const engine: Engine = {
    name,
    chain: "berthd → berth-containerd → berth-shim + berth-keeper → berth-runc",
    version: (await client(["version", "--format", "{{.Server.Version}}"])).output.trim(),
    client,
    parts: () => ({
      berthd: d.pid === undefined ? [] : [d.pid],
      "berth-containerd": d.containerdPid() === undefined ? [] : [d.containerdPid()!],
      // berth-containerd's own argv holds the address too.
      "berth-shim": pidsWithArgument(address).filter((pid) => pid !== d.containerdPid()),
      "berth-keeper": pidsWithExe(join(dist, "berth-keeper")),
      "berth-logger": pidsWithExe(join(dist, "berth-logger")),
    }),
    cleanup: () => d.cleanup(),
  };
  await loadImage(engine, archive);
  return engine;
}

async function startDockerEngine(cli: string, archive: string): Promise<Engine> {
  const dd: Dockerd = await startDockerd(RUNC);
  const client = dockerClient(cli, join(dd.dir, "docker.sock"), join(dd.dir, "client-config"));
  const execRoot = join(dd.dir, "exec");
  const engine: Engine = {
    name: "dockerd",
    chain: "dockerd 20.10 → containerd 1.6 → containerd-shim-runc-v2 → runc",
    version: (await client(["version", "--format", "{{.Server.Version}}"])).output.trim(),
    client,
    parts: () => {
      let dockerd: number[] = [];
      try {
        dockerd = [Number(readFileSync(join(dd.dir, "dockerd.pid"), "utf8").trim())];
      } catch {}
      return {
        dockerd,
        containerd: pidsWithArgument(join(execRoot, "containerd", "containerd.toml")),
        "containerd-shim-runc-v2": pidsWithArgument(join(execRoot, "containerd", "containerd.sock")),
      };
    },
    cleanup: () => dd.stop(),
  };
  await loadImage(engine, archive);
  return engine;
}

async function startPodmanEngine(rootfsTar: string): Promise<Engine> {
  const pm: Podman = await setupPodman(RUNC);
  const client = async (args: string[]): Promise<TimedRun> => {
    // run and run -d need the cgroup parent podman's cleanup looks under.
    const [verb, ...rest] = args;
    // rm -f: podman stops with SIGTERM and a 10 s grace first, docker kills at once.
    const full =
      verb === "run"
        ? ["run", "--cgroup-parent", pm.cgroupParent, ...rest]
        : verb === "rm"
          ? ["rm", "--time", "0", ...rest]
          : args;
    const t0 = process.hrtime.bigint();
    const r = await pm.podman(full, { timeoutMs: 120_000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms, code: r.timedOut ? null : r.code, signal: r.signal, output: `${r.stdout}${r.stderr}` };
  };
  const engine: Engine = {
    name: "podman",
    chain: "podman 4.3 → conmon → runc",
    version: firstLine(["podman", "--version"]) ?? "?",
    client,
    parts: () => undefined,
    cleanup: () => pm.cleanup(),
  };
  const r = await client(["import", rootfsTar, IMAGE]);
  if (r.code !== 0) {
    await pm.cleanup();
    throw new Error(`podman import: ${r.output}`);
  }
  return engine;
}

async function loadImage(e: Engine, archive: string): Promise<void> {
  const r = await e.client(["load", "-i", archive]);
  if (r.code !== 0) {
    await e.cleanup();
    throw new Error(`${e.name}: docker load: ${r.output}`);
  }
}

// ---------------------------------------------------------------------------------------------
// The measurements

const RUN_RM = ["run", "--rm", "--network", "none", IMAGE, "true"];
const RUN_D = ["run", "-d", "--network", "none", IMAGE, "sleep", "600"];

interface Latency {
  engine: string;
  samples: number[];
  failures: string[];
  summary?: Summary;
}

async function latency(engines: Engine[], o: Options): Promise<Latency[]> {
  const results: Latency[] = engines.map((e) => ({ engine: e.name, samples: [], failures: [] }));
  for (let round = 0; round < o.warmup + o.runs; round++) {
    checkInterrupted();
    for (let k = 0; k < engines.length; k++) {
      const i = (round + k) % engines.length;
      const r = await engines[i]!.client(RUN_RM);
      if (r.code !== 0) results[i]!.failures.push(`round ${round}: exit ${r.code}: ${r.output.slice(0, 300)}`);
      else if (round >= o.warmup) results[i]!.samples.push(r.ms);
    }
  }
  for (const r of results) r.summary = summarize(r.samples);
  return results;
}

/** Starts `n` detached containers, `width` at a time: the wall time and the ids; failures listed. */
async function startMany(e: Engine, n: number, width: number) {
  const ids: string[] = [];
  const failures: string[] = [];
  const t0 = process.hrtime.bigint();
  await pool(
    Array.from({ length: n }, (_, i) => i),
    width,
    async () => {
      const r = await e.client(RUN_D);
      const id = r.output.trim().split("\n").at(-1) ?? "";
      if (r.code === 0 && /^[0-9a-f]{64}$/.test(id)) ids.push(id);
      else failures.push(`exit ${r.code}: ${r.output.slice(0, 300)}`);
    },
  );
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, ids, failures };
}

/** `rm -f` of `ids` (one command): its wall time. */
async function removeAll(e: Engine, ids: string[]): Promise<{ ms: number; failure?: string }> {
  if (ids.length === 0) return { ms: 0 };
  const r = await e.client(["rm", "-f", ...ids]);
  return r.code === 0 ? { ms: r.ms } : { ms: r.ms, failure: `rm -f: exit ${r.code}: ${r.output.slice(0, 300)}` };
}

interface Burst {
  engine: string;
  startMs: number;
  started: number;
  removeMs: number;
  failures: string[];
}

async function burst(e: Engine, o: Options): Promise<Burst> {
  const s = await startMany(e, o.burst, o.concurrency);
  const rm = await removeAll(e, s.ids);
  return {
    engine: e.name,
    startMs: s.ms,
    started: s.ids.length,
    removeMs: rm.ms,
    failures: [...s.failures, ...(rm.failure ? [rm.failure] : [])],
  };
}

interface MemoryRow {
  engine: string;
  state: string;
  running: number;
  total: Memory;
  parts: Record<string, Memory>;
}

function memoryRow(e: Engine, state: string, running: number): MemoryRow | undefined {
  const parts = e.parts();
  if (parts === undefined) return undefined;
  const byPart: Record<string, Memory> = {};
  for (const [name, pids] of Object.entries(parts)) byPart[name] = memoryOf(pids);
  const all = [...new Set(Object.values(parts).flat())];
  return { engine: e.name, state, running, total: memoryOf(all), parts: byPart };
}

async function workedMemory(e: Engine, o: Options): Promise<{ row?: MemoryRow; failures: string[] }> {
  const s = await startMany(e, o.worked, o.concurrency);
  await sleep(o.settleMs);
  const row = memoryRow(e, `${o.worked} running`, s.ids.length);
  const rm = await removeAll(e, s.ids);
  return { row, failures: [...s.failures, ...(rm.failure ? [rm.failure] : [])] };
}

// ---------------------------------------------------------------------------------------------
// Tables

function latencyTable(results: Latency[], engines: Engine[]): string {
  const ref = results.find((r) => r.engine === "dockerd")?.summary?.median ?? Number.NaN;
  return formatTable(
    ["engine", "chain", "n", "median ms", "p90 ms", "min ms", "vs dockerd"],
    results.map((r) => [
      r.engine,
      engines.find((e) => e.name === r.engine)?.chain ?? "",
      String(r.samples.length),
      fmt(r.summary?.median ?? Number.NaN),
      fmt(r.summary?.p90 ?? Number.NaN),
      fmt(r.summary?.min ?? Number.NaN),
      `${fmt((r.summary?.median ?? Number.NaN) / ref, 2)}x`,
    ]),
  );
}

function burstTable(results: Burst[], o: Options): string {
  const ref = results.find((r) => r.engine === "dockerd");
  return formatTable(
    ["engine", `start ${o.burst} (${o.concurrency} at a time) s`, "started", "vs dockerd", "rm -f all s", "vs dockerd"],
    results.map((r) => [
      r.engine,
      fmt(r.startMs / 1000, 2),
      String(r.started),
      `${fmt(r.startMs / (ref?.startMs ?? Number.NaN), 2)}x`,
      fmt(r.removeMs / 1000, 2),
      `${fmt(r.removeMs / (ref?.removeMs ?? Number.NaN), 2)}x`,
    ]),
  );
}

function memoryTable(rows: MemoryRow[]): string {
  const ref = (state: string) => rows.find((r) => r.engine === "dockerd" && r.state === state)?.total;
  return formatTable(
    [
      "engine",
      "state",
      "processes",
      "alone MiB",
      "vs dockerd",
      "Pss MiB",
      "vs dockerd",
      "Rss MiB",
      "by part (alone / Pss MiB)",
    ],
    rows.map((r) => [
      r.engine,
      r.state,
      String(r.total.processes),
      mib(r.total.aloneKb),
      `${fmt(r.total.aloneKb / (ref(r.state)?.aloneKb ?? Number.NaN), 2)}x`,
      mib(r.total.pssKb),
      `${fmt(r.total.pssKb / (ref(r.state)?.pssKb ?? Number.NaN), 2)}x`,
      mib(r.total.rssKb),
      Object.entries(r.parts)
        .filter(([, m]) => m.processes > 0)
        .map(([name, m]) => `${name} ${m.processes > 1 ? `${m.processes}× ` : ""}${mib(m.aloneKb)} / ${mib(m.pssKb)}`)
        .join(", "),
    ]),
  );
}

/** Issue 14's memory goal by one measure: below dockerd's side both idle and with containers running. */
function memoryGoal(rows: MemoryRow[], measure: "aloneKb" | "pssKb", worked: number): string {
  const at = (engine: string, running: boolean) =>
    rows.find((m) => m.engine === engine && (running ? m.running > 0 : m.state === "idle"))?.total[measure];
  const [bi, di, bw, dw] = [at("berthd", false), at("dockerd", false), at("berthd", true), at("dockerd", true)];
  const met = (b?: number, d?: number) => b !== undefined && d !== undefined && b < d;
  return (
    `idle ${mib(bi ?? Number.NaN)} vs ${mib(di ?? Number.NaN)} MiB, with ${worked} running ` +
    `${mib(bw ?? Number.NaN)} vs ${mib(dw ?? Number.NaN)} MiB → ${met(bi, di) && met(bw, dw) ? "met" : "not met"}`
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage("must run as root");
  const loadBefore = loadavg();
  const cli = existsSync("/usr/local/bin/docker") ? "/usr/local/bin/docker" : "/usr/bin/docker";
  const snapshot = await snapshotDist(o.dist);
  const extras: { name: string; snapshot: Awaited<ReturnType<typeof snapshotDist>> }[] = [];
  for (const x of o.extra) extras.push({ name: x.name, snapshot: await snapshotDist(x.dist) });
  const work = await makeTempDir("berth-bench-engine-");
  const archive = join(work, "busybox.tar");
  const rootfsTar = join(work, "busybox-rootfs.tar");
  await writeImageArchive(archive, { name: "docker.io/library/busybox:latest" });
  await writeRootfsTar(rootfsTar);
  const engines: Engine[] = [];
  const failures: string[] = [];
  const memory: MemoryRow[] = [];
  try {
    engines.push(await startBerthd(snapshot.dir, cli, archive));
    for (const x of extras) engines.push(await startBerthd(x.snapshot.dir, cli, archive, x.name));
    engines.push(await startDockerEngine(cli, archive));
    if (o.podman) engines.push(await startPodmanEngine(rootfsTar));
    const measureMemory = o.only.has("memory");
    if (measureMemory) await sleep(o.settleMs);
    for (const e of measureMemory ? engines : []) {
      const row = memoryRow(e, "idle", 0);
      if (row) memory.push(row);
    }
    console.log(`client: ${cli} (${firstLine([cli, "--version"])}); berth build ${snapshot.sha256}`);
    for (const x of extras) console.log(`  ${x.name}: build ${x.snapshot.sha256}`);
    for (const e of engines) console.log(`  ${e.name}: ${e.chain} (${e.version})`);

    const lat = o.runs > 0 ? await latency(engines, o) : [];
    for (const r of lat) failures.push(...r.failures.map((f) => `${r.engine} latency: ${f}`));
    if (measureMemory) await sleep(o.settleMs);
    for (const e of measureMemory ? engines : []) {
      // Without the latency part nothing ran: the warm-ups are part of it.
      const row = memoryRow(e, `after ${o.runs > 0 ? o.warmup + o.runs : 0} runs`, 0);
      if (row) memory.push(row);
    }
    if (o.worked > 0) {
      for (const e of engines) {
        checkInterrupted();
        if (e.parts() === undefined) continue;
        const w = await workedMemory(e, o);
        if (w.row) memory.push(w.row);
        failures.push(...w.failures.map((f) => `${e.name} worked: ${f}`));
      }
    }
    const bursts: Burst[] = [];
    if (o.burst > 0) {
      for (const e of engines) {
        checkInterrupted();
        const b = await burst(e, o);
        bursts.push(b);
        failures.push(...b.failures.map((f) => `${e.name} burst: ${f}`));
      }
    }
    memory.sort((a, b) => a.engine.localeCompare(b.engine));

    if (lat.length > 0) {
      console.log(
        `\nrun --rm --network none busybox true (${o.runs} runs each after ${o.warmup} warm-up rounds, interleaved)`,
      );
      console.log(latencyTable(lat, engines));
    }
    if (bursts.length > 0) {
      console.log(`\nburst: ${o.burst} × run -d --network none busybox sleep 600, then rm -f of all`);
      console.log(burstTable(bursts, o));
    }
    if (memory.length > 0) {
      console.log(
        "\nmemory of the daemon side: alone (anonymous pages summed, each file once: what it holds with nothing else running), Pss and Rss; dockerd's shims are containerd-shim-runc-v2 running runc",
      );
      console.log(memoryTable(memory));
    }
    const ratio = (engine: string, ref: string) => {
      const a = lat.find((r) => r.engine === engine)?.summary?.median;
      const b = lat.find((r) => r.engine === ref)?.summary?.median;
      return a !== undefined && b !== undefined ? a / b : Number.NaN;
    };
    console.log(
      `\ngoal "at most half of dockerd's latency": berthd/dockerd ${fmt(ratio("berthd", "dockerd"), 2)}x → ${ratio("berthd", "dockerd") <= 0.5 ? "met" : "not met"}`,
    );
    if (memory.length > 0) {
      console.log(`goal "less memory than dockerd + containerd", alone: ${memoryGoal(memory, "aloneKb", o.worked)}`);
      console.log(
        `  (by Pss, which other processes sharing the same files lower: ${memoryGoal(memory, "pssKb", o.worked)})`,
      );
    }
    for (const f of failures) console.log(`failure: ${f}`);

    const resultsDir = join(REPO, "bench", "results");
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `engine-run-${new Date().toISOString().replaceAll(":", "-").replace(".", "-")}.json`);
    writeFileSync(
      file,
      `${JSON.stringify({ options: { ...o, only: [...o.only] }, extras: extras.map((x) => ({ name: x.name, build: x.snapshot.sha256 })), host: hostInfo(loadBefore), build: snapshot.sha256, client: cli, engines: engines.map((e) => ({ name: e.name, chain: e.chain, version: e.version })), latency: lat, bursts, memory, failures }, null, 2)}\n`,
    );
    console.log(`\nresults: ${file}`);
  } finally {
    for (const e of engines.reverse()) await e.cleanup().catch((err) => console.error(`${e.name} cleanup: ${err}`));
    rmSync(work, { recursive: true, force: true });
    rmSync(snapshot.dir, { recursive: true, force: true });
    for (const x of extras) rmSync(x.snapshot.dir, { recursive: true, force: true });
    if (isInterrupted()) process.exitCode = 130;
  }
}

await main();
