// Bench: the berth CLI against the docker CLI, both pointed at the same berthd (issue 15's Done
// means 5). One berthd from a private copy of dist/ with the busybox fixture loaded; the clients:
//   berth        node dist/berth.mjs (the private copy's, its compile cache warmed by the warm-ups)
//   docker 28    /usr/local/bin/docker, when the machine has it
//   docker 20.10 /usr/bin/docker (Debian's), when the machine has it
// and, as floors under berth, with the Node binary berth.mjs's shebang names: `node -e 0`, and the
// least a Node client of the Engine API can do for `version` and `ps` (node:net, one GET, its body
// written out: no HTTP library, no API version asked for, nothing formatted).
//
// Commands, each timed from spawn to the client's exit: `version`, `ps`, `run --rm busybox true`.
// Each round runs every command with every client, the first client rotated each round, so load
// and caches hit them alike; warm-up rounds are discarded. Goals (issue 15): berth run no slower
// than docker run; berth version and ps within 2x of docker's (the newest docker CLI present).
//
//   node bench/cli.ts [--runs N (30)] [--warmup N (3)] [--dist DIR] [--only version,ps,run]
//
// Must run as root. Prints the table (medians, p90, min, ratio against each docker CLI) and writes
// everything, raw samples included, to bench/results/cli-<date>.json.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { writeImageArchive } from "../test/fixtures/oci-image.ts";
import { DOCKER_CLI_20, DOCKER_CLI_28, newBerthd } from "../test/helpers/berthd.ts";
import { checkInterrupted, firstLine, hostInfo, isInterrupted, snapshotDist } from "./lib/host.ts";
import { eachFlag, intFlag, usageOf } from "./lib/options.ts";
import { type TimedRun, timedSpawn } from "./lib/spawn.ts";
import { formatTable, type Summary, summarize } from "./lib/stats.ts";

const REPO = resolve(import.meta.dirname, "..");

const COMMANDS = {
  version: ["version"],
  ps: ["ps"],
  run: ["run", "--rm", "busybox", "true"],
} as const;
type CommandName = keyof typeof COMMANDS;

interface Options {
  runs: number;
  warmup: number;
  dist: string;
  only: CommandName[];
}

const usage = usageOf("cli", "[--runs N (30)] [--warmup N (3)] [--dist DIR] [--only version,ps,run]");

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 30, warmup: 3, dist: join(REPO, "dist"), only: Object.keys(COMMANDS) as CommandName[] };
  eachFlag(argv, (flag, value, a) => {
    if (flag === "--runs") o.runs = intFlag(usage, flag, value(), 1);
    else if (flag === "--warmup") o.warmup = intFlag(usage, flag, value(), 0);
    else if (flag === "--dist") o.dist = resolve(value() ?? usage("--dist needs a directory"));
    else if (flag === "--only") {
      const names = (value() ?? usage("--only needs a list of commands")).split(",");
      for (const n of names) if (!(n in COMMANDS)) usage(`--only: unknown command ${n} (version, ps, run)`);
      o.only = names as CommandName[];
    } else if (flag === "-h" || flag === "--help") usage();
    else usage(`unknown argument ${a}`);
  });
  return o;
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : "-");

/** A client of the one berthd: a name and how to run one of its commands, timed. */
interface Client {
  name: string;
  version: string;
  /** A docker CLI (a reference for the ratios), berth, or a Node floor (see FLOOR_PATHS). */
  kind: "docker" | "berth" | "floor";
  /** The commands a floor stands for (`node -e 0`: any, measured once). */
  only?: readonly CommandName[];
  run(args: readonly string[]): Promise<TimedRun>;
}

/** The Node binary a bundle's shebang names (`#!/path/node [flags]`). */
function shebangNode(script: string): string {
  const first = readFileSync(script, "utf8").split("\n", 1)[0] ?? "";
  const words = first
    .replace(/^#!/, "")
    .replace(/^\/usr\/bin\/env -S /, "")
    .trim()
    .split(/\s+/);
  return words[0] ?? "node";
}

function clients(berth: string, socket: string, configDir: string): Client[] {
  // The same environment for every client: a private, empty config dir, no pinned API version.
  const env = { ...process.env, DOCKER_CONFIG: configDir, DOCKER_API_VERSION: "", DOCKER_HOST: "", BERTH_HOST: "" };
  const host = ["-H", `unix://${socket}`];
  const timed = (argv: readonly string[]) => timedSpawn(argv, { env, output: "capture", timeoutMs: 120_000 });
  const node = shebangNode(berth);
  const list: Client[] = [
    {
      name: "berth",
      version: `build ${firstLine([berth, "--version"]) ?? "?"}`,
      kind: "berth",
      run: (args) => timed([berth, ...host, ...args]),
    },
  ];
  for (const cli of [DOCKER_CLI_28, DOCKER_CLI_20]) {
    if (!existsSync(cli)) continue;
    const v = firstLine([cli, "--version"]) ?? "?";
    const short = /version (\d+\.\d+)/.exec(v)?.[1] ?? v;
    list.push({ name: `docker ${short}`, version: v, kind: "docker", run: (args) => timed([cli, ...host, ...args]) });
  }
  const nodeVersion = firstLine([node, "--version"]) ?? "?";
  list.push({ name: "node -e 0", version: nodeVersion, kind: "floor", run: () => timed([node, "-e", "0"]) });
  list.push({
    name: "node one GET",
    version: nodeVersion,
    kind: "floor",
    only: ["version", "ps"],
    run: (args) => timed([node, "-e", ONE_GET, socket, FLOOR_PATHS[args[0] as "version" | "ps"]]),
  });
  return list;
}

/** The request the "node one GET" floor makes for a command. */
const FLOOR_PATHS = { version: "/v1.50/version", ps: "/v1.50/containers/json" } as const;

/** node:net, one GET on the socket (argv[1]) for the path (argv[2]), the answer written out. */
const ONE_GET = [
  'const s = require("node:net").connect(process.argv[1]);',
  's.end("GET " + process.argv[2] + " HTTP/1.1\\r\\nHost: api.moby.localhost\\r\\nConnection: close\\r\\n\\r\\n");',
  "s.pipe(process.stdout);",
].join(" ");

interface Series {
  command: CommandName;
  client: string;
  samples: number[];
  failures: string[];
  summary?: Summary;
}

async function measure(list: Client[], o: Options): Promise<Series[]> {
  const series: Series[] = [];
  for (const command of o.only)
    for (const c of list) {
      // `node -e 0` does not depend on the command: measured once, in the first command's rounds.
      if (c.kind === "floor" && c.only === undefined && command !== o.only[0]) continue;
      if (c.only !== undefined && !c.only.includes(command)) continue;
      series.push({ command, client: c.name, samples: [], failures: [] });
    }
  for (let round = 0; round < o.warmup + o.runs; round++) {
    checkInterrupted();
    for (const command of o.only) {
      for (let k = 0; k < list.length; k++) {
        const c = list[(round + k) % list.length]!;
        const s = series.find((x) => x.command === command && x.client === c.name);
        if (s === undefined) continue;
        const r = await c.run(COMMANDS[command]);
        if (r.code !== 0) s.failures.push(`round ${round}: exit ${r.code}: ${r.output.slice(0, 300)}`);
        else if (round >= o.warmup) s.samples.push(r.ms);
      }
    }
  }
  for (const s of series) s.summary = summarize(s.samples);
  return series;
}

function table(series: Series[], list: Client[]): string {
  const dockers = list.filter((c) => c.kind === "docker").map((c) => c.name);
  const median = (command: CommandName, client: string) =>
    series.find((s) => s.command === command && s.client === client)?.summary?.median ?? Number.NaN;
  return formatTable(
    ["command", "client", "n", "median ms", "p90 ms", "min ms", ...dockers.map((d) => `vs ${d}`)],
    series.map((s) => [
      s.client === "node -e 0" ? "-" : s.command,
      s.client,
      String(s.samples.length),
      fmt(s.summary?.median ?? Number.NaN),
      fmt(s.summary?.p90 ?? Number.NaN),
      fmt(s.summary?.min ?? Number.NaN),
      ...dockers.map((d) => `${fmt((s.summary?.median ?? Number.NaN) / median(s.command, d), 2)}x`),
    ]),
  );
}

/** Issue 15's goals against the newest docker CLI present: run ≤ 1x, version and ps ≤ 2x. */
function goals(series: Series[], list: Client[]): string[] {
  const ref = list.find((c) => c.kind === "docker")?.name;
  if (ref === undefined) return ["no docker CLI on this machine: no goals judged"];
  const median = (command: CommandName, client: string) =>
    series.find((s) => s.command === command && s.client === client)?.summary?.median;
  const lines: string[] = [];
  for (const [command, limit] of [
    ["run", 1],
    ["ps", 2],
    ["version", 2],
  ] as const) {
    const b = median(command, "berth");
    const d = median(command, ref);
    if (b === undefined || d === undefined) continue;
    lines.push(
      `goal "berth ${command} ≤ ${limit}x ${ref}": ${fmt(b)} vs ${fmt(d)} ms, ${fmt(b / d, 2)}x → ${b / d <= limit ? "met" : "not met"}`,
    );
  }
  return lines;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage("must run as root");
  const loadBefore = loadavg();
  // The private copy of the build, so a rebuild of dist/ during the run changes nothing measured.
  const snapshot = await snapshotDist(o.dist);
  const d = await newBerthd(join(snapshot.dir, "berthd.mjs"));
  const failures: string[] = [];
  try {
    await d.start(["--log-level", "info"]);
    const configDir = join(d.dir, "client-config");
    mkdirSync(configDir, { recursive: true });
    const list = clients(join(snapshot.dir, "berth.mjs"), d.socket, configDir);
    const archive = join(d.dir, "busybox.tar");
    await writeImageArchive(archive, { name: "docker.io/library/busybox:latest" });
    // Loaded by a docker CLI (`docker load`), the one command here that does not measure anything.
    const loader = list.find((c) => c.kind === "docker") ?? list.find((c) => c.kind === "berth")!;
    const loaded = await loader.run(["load", "-i", archive]);
    if (loaded.code !== 0) throw new Error(`${loader.name} load: ${loaded.output}`);
    console.log(
      `berthd and berth build ${snapshot.sha256}; load average ${loadBefore.map((x) => x.toFixed(2)).join(" ")}`,
    );
    for (const c of list) console.log(`  ${c.name}: ${c.version}`);

    const series = await measure(list, o);
    for (const s of series) failures.push(...s.failures.map((f) => `${s.client} ${s.command}: ${f}`));
    console.log(`\n${o.runs} runs each after ${o.warmup} warm-up rounds, interleaved (wall time from spawn to exit)`);
    console.log(table(series, list));
    console.log("");
    for (const g of goals(series, list)) console.log(g);
    for (const f of failures) console.log(`failure: ${f}`);

    const resultsDir = join(REPO, "bench", "results");
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `cli-${new Date().toISOString().replaceAll(":", "-").replace(".", "-")}.json`);
    writeFileSync(
      file,
      `${JSON.stringify(
        {
          options: o,
          host: hostInfo(loadBefore),
          build: snapshot.sha256,
          bundleBytes: readFileSync(join(snapshot.dir, "berth.bundle.mjs")).length,
          clients: list.map((c) => ({ name: c.name, version: c.version })),
          series,
          goals: goals(series, list),
          failures,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nresults: ${file}`);
  } finally {
    await d.cleanup().catch((err) => console.error(`berthd cleanup: ${err}`));
    rmSync(snapshot.dir, { recursive: true, force: true });
    if (isInterrupted()) process.exitCode = 130;
  }
}

await main();
