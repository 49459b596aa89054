// Bench: the OCI runtime layer. Runs `RUNTIME --root R run --bundle B ID` (foreground, the container
// runs /bin/true) for berth-runc, runc and crun, interleaved round-robin, and measures each runtime's
// peak RSS for a `create`. Also measures the floors that explain the numbers: Node's own start-up
// (the binary berth-runc's shebang names, with and without NODE_EXTRA_CA_CERTS) and the mount
// namespace wrapper crun needs on hybrid-cgroup hosts (timed around runc too, to keep ratios fair).
//
//   node bench/runtime-run.ts [--runs N] [--warmup N] [--rss-runs N] [--only a,b] [--berth PATH]
//                             [--extra-berth NAME=PATH]...   (another berth-runc build, for A/B)
//
// Must run as root. Prints a table and writes raw samples to bench/results/runtime-run-<date>.json.

import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, release } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { makeBundle, makeTempDir } from "../test/fixtures/busybox.ts";
import { firstLine } from "./lib/host.ts";
import { eachFlag, intFlag } from "./lib/options.ts";
import {
  haveGnuTime,
  readPeakRssKb,
  scratchFile,
  type TimedRun,
  timedSpawn,
  timedSpawnOk,
  withPeakRss,
} from "./lib/spawn.ts";
import { formatTable, median, type Summary, summarize } from "./lib/stats.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const RUNC = "/usr/sbin/runc";
const CRUN = "/usr/bin/crun";
const UNIFIED = "/sys/fs/cgroup/unified";

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  runs: number;
  warmup: number;
  rssRuns: number;
  only: Set<string> | undefined;
  berth: string;
  /** Further berth-runc builds to bench side by side (A/B), as [name, path]. */
  extraBerth: [string, string][];
}

function usage(msg?: string): never {
  if (msg) console.error(`runtime-run: ${msg}`);
  console.error(
    "usage: node bench/runtime-run.ts [--runs N (50)] [--warmup N (3)] [--rss-runs N (5)] [--only name,name] [--berth PATH] [--extra-berth NAME=PATH]...",
  );
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    runs: 50,
    warmup: 3,
    rssRuns: 5,
    only: undefined,
    berth: join(REPO, "dist/berth-runc.mjs"),
    extraBerth: [],
  };
  const int = (flag: string, v: string | undefined, min: number) => intFlag(usage, flag, v, min);
  eachFlag(argv, (flag, value, a) => {
    if (flag === "--runs") o.runs = int(flag, value(), 1);
    else if (flag === "--warmup") o.warmup = int(flag, value(), 0);
    else if (flag === "--rss-runs") o.rssRuns = int(flag, value(), 0);
    else if (flag === "--only") o.only = new Set((value() ?? "").split(",").filter((s) => s.length > 0));
    else if (flag === "--berth") o.berth = resolve(value() ?? usage("--berth needs a path"));
    else if (flag === "--extra-berth") {
      const v = value() ?? "";
      const eq = v.indexOf("=");
      if (eq <= 0) usage("--extra-berth needs NAME=PATH");
      o.extraBerth.push([v.slice(0, eq), resolve(v.slice(eq + 1))]);
    } else if (flag === "-h" || flag === "--help") usage();
    else usage(`unknown argument ${a}`);
  });
  return o;
}

// ---------------------------------------------------------------------------------------------
// Subjects: what gets timed. A runtime subject takes runtime arguments; a floor is one fixed command.

interface Subject {
  name: string;
  kind: "runtime" | "floor";
  /** One line on what this row is, for the README and the JSON. */
  note: string;
  /** The full argv for these runtime arguments; with rssFile, GNU time sits right before the measured binary. */
  argv: (args: readonly string[], rssFile?: string) => string[];
  env: NodeJS.ProcessEnv;
  /** Private --root (runtimes only). */
  root?: string;
  version?: string;
}

/** Runs inner in a private mount namespace where the cgroup2 mount of the hybrid layout is gone. */
function withoutUnified(inner: readonly string[]): string[] {
  return ["unshare", "-m", "sh", "-c", `umount ${UNIFIED} && exec "$@"`, "sh", ...inner];
}

function rss(argv: readonly string[], rssFile: string | undefined): string[] {
  return rssFile === undefined ? [...argv] : withPeakRss(argv, rssFile);
}

function hybridCgroups(): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[4] === UNIFIED);
}

function shebangNode(script: string): string | undefined {
  try {
    const first = readFileSync(script, "utf8").split("\n", 1)[0] ?? "";
    return first.startsWith("#!") ? first.slice(2).trim().split(/\s+/)[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Copies a berth-runc build (the loader .mjs, the bundle it imports and the nsexec beside it) into a
 * private dir, so that a rebuild of dist/ by someone else during the run cannot change what is being
 * measured. Returns the copy's path and a short content hash of the bundle (recorded in the results).
 */
async function snapshotBerth(script: string): Promise<{ path: string; sha256: string }> {
  const dir = await makeTempDir("berth-bench-dist-");
  const path = join(dir, basename(script));
  const bundle = script.replace(/\.mjs$/, ".bundle.mjs");
  for (const [from, mode] of [
    [script, 0o755],
    [bundle, 0o644],
    [join(dirname(script), "nsexec"), 0o755],
  ] as const) {
    if (!existsSync(from)) continue;
    copyFileSync(from, join(dir, basename(from)));
    chmodSync(join(dir, basename(from)), mode);
  }
  const hashed = existsSync(bundle) ? join(dir, basename(bundle)) : path;
  const sha256 = createHash("sha256").update(readFileSync(hashed)).digest("hex").slice(0, 12);
  return { path, sha256 };
}

async function buildSubjects(o: Options): Promise<{ subjects: Subject[]; skipped: string[] }> {
  const subjects: Subject[] = [];
  const skipped: string[] = [];
  const root = () => makeTempDir("berth-bench-root-");
  const envNoCA = { ...process.env };
  delete envNoCA.NODE_EXTRA_CA_CERTS;
  const hasCA = process.env.NODE_EXTRA_CA_CERTS !== undefined;
  const hybrid = hybridCgroups();

  if (existsSync(o.berth)) {
    const snap = await snapshotBerth(o.berth);
    const b = snap.path;
    const version = `${firstLine([b, "--version"])} (sha256 ${snap.sha256})`;
    subjects.push({
      name: "berth-runc",
      kind: "runtime",
      note: `copy of ${o.berth}, environment as given${hasCA ? " (NODE_EXTRA_CA_CERTS set)" : ""}`,
      argv: (args, f) => rss([b, "--root", "ROOT", ...args], f),
      env: process.env,
      root: await root(),
      version,
    });
    subjects.push({
      name: "berth-runc --version",
      kind: "floor",
      note: "start-up floor of the bundle: Node start, module load and evaluation, no container work",
      argv: (_args, f) => rss([b, "--version"], f),
      env: process.env,
      version,
    });
    if (hasCA) {
      subjects.push({
        name: "berth-runc (no CA env)",
        kind: "runtime",
        note: `copy of ${o.berth} with NODE_EXTRA_CA_CERTS removed from its environment`,
        argv: (args, f) => rss([b, "--root", "ROOT", ...args], f),
        env: envNoCA,
        root: await root(),
        version,
      });
    }
  } else {
    skipped.push(`berth-runc: ${o.berth} not found (run npm run build)`);
  }

  for (const [name, original] of o.extraBerth) {
    if (!existsSync(original)) {
      skipped.push(`${name}: ${original} not found`);
      continue;
    }
    const snap = await snapshotBerth(original);
    const path = snap.path;
    subjects.push({
      name,
      kind: "runtime",
      note: `copy of ${original} (extra berth-runc build), environment as given`,
      argv: (args, f) => rss([path, "--root", "ROOT", ...args], f),
      env: process.env,
      root: await root(),
      version: `${firstLine([path, "--version"])} (sha256 ${snap.sha256})`,
    });
  }

  if (existsSync(RUNC)) {
    const version = firstLine([RUNC, "--version"]);
    subjects.push({
      name: "runc",
      kind: "runtime",
      note: RUNC,
      argv: (args, f) => rss([RUNC, "--root", "ROOT", ...args], f),
      env: process.env,
      root: await root(),
      version,
    });
    subjects.push({
      name: "runc --version",
      kind: "floor",
      note: "start-up floor of runc (Go runtime start, no container work)",
      argv: (_args, f) => rss([RUNC, "--version"], f),
      env: process.env,
      version,
    });
    if (hybrid) {
      subjects.push({
        name: "runc (wrapped)",
        kind: "runtime",
        note: `runc inside the same unshare -m + umount ${UNIFIED} wrapper crun needs`,
        argv: (args, f) => withoutUnified(rss([RUNC, "--root", "ROOT", ...args], f)),
        env: process.env,
        root: await root(),
        version,
      });
    }
  } else {
    skipped.push(`runc: ${RUNC} not found`);
  }

  if (existsSync(CRUN)) {
    const version = firstLine([CRUN, "--version"]);
    subjects.push({
      name: hybrid ? "crun (wrapped)" : "crun",
      kind: "runtime",
      note: hybrid ? `crun inside unshare -m + umount ${UNIFIED} (crun 1.8 refuses hybrid cgroups)` : CRUN,
      argv: (args, f) => {
        const inner = rss([CRUN, "--root", "ROOT", ...args], f);
        return hybrid ? withoutUnified(inner) : inner;
      },
      env: process.env,
      root: await root(),
      version,
    });
  } else {
    skipped.push(`crun: ${CRUN} not found`);
  }

  const node = shebangNode(o.berth) ?? process.execPath;
  const nodeVersion = firstLine([node, "--version"]);
  subjects.push({
    name: "node -e 0",
    kind: "floor",
    note: `${node} -e 0, environment as given${hasCA ? " (NODE_EXTRA_CA_CERTS set)" : ""}`,
    argv: (_args, f) => rss([node, "-e", "0"], f),
    env: process.env,
    version: nodeVersion,
  });
  if (hasCA) {
    subjects.push({
      name: "node -e 0 (no CA env)",
      kind: "floor",
      note: `${node} -e 0 with NODE_EXTRA_CA_CERTS removed`,
      argv: (_args, f) => rss([node, "-e", "0"], f),
      env: envNoCA,
      version: nodeVersion,
    });
  }
  if (hybrid) {
    subjects.push({
      name: "wrapper alone",
      kind: "floor",
      note: `unshare -m sh -c 'umount ${UNIFIED} && exec /bin/true'`,
      argv: (_args, f) => withoutUnified(rss(["/bin/true"], f)),
      env: process.env,
    });
  }

  const chosen = o.only ? subjects.filter((s) => o.only!.has(s.name)) : subjects;
  if (o.only) {
    for (const n of o.only) if (!subjects.some((s) => s.name === n)) skipped.push(`${n}: no such subject`);
  }
  return { subjects: chosen, skipped };
}

function argvFor(s: Subject, args: readonly string[], rssFile?: string): string[] {
  return s.argv(args, rssFile).map((a) => (a === "ROOT" ? s.root! : a));
}

// ---------------------------------------------------------------------------------------------
// Measurement

interface Result {
  subject: Subject;
  /** Wall times of the timed runs, ms, in run order. */
  samples: number[];
  failures: string[];
  /** Peak RSS (KiB) per create (runtimes) or per run (floors). */
  rssKb: number[];
  /** Wall time of each measured create (ms, GNU time included), runtimes only. */
  createMs: number[];
  /** Wall time of the delete -f after each measured create (ms). */
  deleteMs: number[];
  error?: string;
}

let idSeq = 0;
const ID_PREFIX = `bench-${process.pid}-`;
const nextId = () => `${ID_PREFIX}${++idSeq}`;

async function runOnce(s: Subject, bundle: string): Promise<TimedRun> {
  const args = s.kind === "runtime" ? ["run", "--bundle", bundle, nextId()] : [];
  return timedSpawn(argvFor(s, args), { env: s.env, output: "capture" });
}

function describeFailure(r: TimedRun): string {
  return `exit ${r.code ?? r.signal}: ${r.output.trim().split("\n").slice(-3).join(" | ")}`;
}

async function measureRss(r: Result, bundle: string): Promise<void> {
  const s = r.subject;
  const file = scratchFile("rss");
  if (s.kind === "floor") {
    await timedSpawnOk(argvFor(s, [], file), { env: s.env });
    r.rssKb.push(readPeakRssKb(file));
    return;
  }
  const id = nextId();
  const created = await timedSpawn(argvFor(s, ["create", "--bundle", bundle, id], file), {
    env: s.env,
    output: "capture",
  });
  // Always delete, even after a failed create (it may have left state or a waiting init behind).
  const deleted = await timedSpawn(argvFor(s, ["delete", "--force", id]), { env: s.env, output: "capture" });
  if (created.code !== 0) throw new Error(`create: ${describeFailure(created)}`);
  r.rssKb.push(readPeakRssKb(file));
  r.createMs.push(created.ms);
  if (deleted.code !== 0) throw new Error(`delete: ${describeFailure(deleted)}`);
  r.deleteMs.push(deleted.ms);
}

// ---------------------------------------------------------------------------------------------
// Cleanup and leak checks

async function deleteLeftovers(s: Subject): Promise<string[]> {
  if (s.kind !== "runtime" || !s.root) return [];
  const leaked: string[] = [];
  const listed = await timedSpawn(argvFor(s, ["list", "--quiet"]), { env: s.env, output: "capture" });
  for (const id of listed.output.split("\n").map((l) => l.trim())) {
    if (!id.startsWith(ID_PREFIX)) continue;
    leaked.push(`${s.name}: container ${id}`);
    await timedSpawn(argvFor(s, ["delete", "--force", id]), { env: s.env });
  }
  return leaked;
}

/** Cgroup directories named after our container ids (any hierarchy, a few levels deep); removed. */
function leftoverCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      let isDir = false;
      try {
        isDir = statSync(p).isDirectory();
      } catch {}
      if (!isDir) continue;
      if (e.startsWith(ID_PREFIX)) found.push(p);
      else if (depth < 4) walk(p, depth + 1);
    }
  };
  walk("/sys/fs/cgroup", 0);
  for (const p of found.sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(p);
    } catch {}
  }
  return found;
}

function leftoverMounts(): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter((l) => l.includes("berth-bench") || l.includes("berth-bundle") || l.includes(ID_PREFIX));
}

// ---------------------------------------------------------------------------------------------
// Report

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");
const mib = (kb: number) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : "-");

function table(results: Result[]): string {
  const runc = results.find((r) => r.subject.name === "runc");
  const runcMedian = runc && runc.samples.length > 0 ? median(runc.samples) : Number.NaN;
  const rows = results.map((r) => {
    const s = summarize(r.samples);
    const ratio = Number.isFinite(runcMedian) && s.n > 0 ? `${(s.median / runcMedian).toFixed(2)}x` : "-";
    return [
      r.subject.name,
      `${s.n}${r.failures.length > 0 ? ` (+${r.failures.length} failed)` : ""}`,
      ms(s.median),
      ms(s.p90),
      ms(s.min),
      ratio,
      r.createMs.length > 0 ? ms(median(r.createMs)) : "-",
      r.rssKb.length > 0 ? mib(median(r.rssKb)) : "-",
    ];
  });
  return formatTable(
    ["subject", "runs", "median ms", "p90 ms", "min ms", "vs runc", "create ms", "peak RSS MiB"],
    rows,
  );
}

function derived(results: Result[]): string[] {
  const med = (name: string) => {
    const r = results.find((x) => x.subject.name === name);
    return r && r.samples.length > 0 ? median(r.samples) : Number.NaN;
  };
  const lines: string[] = [];
  const wr = med("runc (wrapped)") - med("runc");
  if (Number.isFinite(wr)) lines.push(`wrapper overhead (runc wrapped - runc): ${ms(wr)} ms`);
  const cw = med("crun (wrapped)") / med("runc (wrapped)");
  if (Number.isFinite(cw)) lines.push(`crun vs runc, both wrapped: ${cw.toFixed(2)}x`);
  const cu = med("crun (wrapped)") - med("wrapper alone");
  if (Number.isFinite(cu)) lines.push(`crun estimate unwrapped (crun wrapped - wrapper alone): ${ms(cu)} ms`);
  const bn = med("berth-runc") - med("node -e 0");
  if (Number.isFinite(bn)) lines.push(`berth-runc above the Node floor (node -e 0): ${ms(bn)} ms`);
  const bl = med("berth-runc --version") - med("node -e 0");
  if (Number.isFinite(bl)) lines.push(`  of which loading the bundle (berth-runc --version - node -e 0): ${ms(bl)} ms`);
  const bw = med("berth-runc") - med("berth-runc --version");
  if (Number.isFinite(bw)) lines.push(`  of which container work (berth-runc - berth-runc --version): ${ms(bw)} ms`);
  const rw = med("runc") - med("runc --version");
  if (Number.isFinite(rw)) lines.push(`runc container work (runc - runc --version): ${ms(rw)} ms`);
  const ca = med("node -e 0") - med("node -e 0 (no CA env)");
  if (Number.isFinite(ca)) lines.push(`NODE_EXTRA_CA_CERTS cost at Node start-up: ${ms(ca)} ms`);
  return lines;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) usage("must run as root (containers need it)");
  if (!haveGnuTime()) usage("GNU time is missing: apt-get install -y time");

  const bundle = await makeBundle({ args: ["true"] });
  const { subjects, skipped } = await buildSubjects(o);
  for (const s of skipped) console.error(`skipped ${s}`);

  const results: Result[] = subjects.map((subject) => ({
    subject,
    samples: [],
    failures: [],
    rssKb: [],
    createMs: [],
    deleteMs: [],
  }));
  const leaks: string[] = [];
  const active: Result[] = [];
  try {
    // Smoke run: a subject that cannot run once is reported and dropped, not benched.
    for (const r of results) {
      const first = await runOnce(r.subject, bundle.dir);
      if (first.code === 0) active.push(r);
      else {
        r.error = describeFailure(first);
        console.error(`dropped ${r.subject.name}: ${r.error}`);
      }
    }
    const total = o.warmup + o.runs;
    for (let round = 0; round < total; round++) {
      // Round-robin, starting one further along each round so no subject always follows the same one.
      for (let k = 0; k < active.length; k++) {
        const r = active[(round + k) % active.length]!;
        const run = await runOnce(r.subject, bundle.dir);
        if (round < o.warmup) continue;
        if (run.code === 0) r.samples.push(run.ms);
        else r.failures.push(describeFailure(run));
      }
      process.stderr.write(`\r${round < o.warmup ? "warm-up" : "run"} ${round + 1}/${total}   `);
    }
    process.stderr.write("\n");
    for (let round = 0; round < o.rssRuns; round++) {
      for (let k = 0; k < active.length; k++) {
        const r = active[(round + k) % active.length]!;
        try {
          await measureRss(r, bundle.dir);
        } catch (e) {
          r.failures.push(`rss: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    for (const r of results) leaks.push(...(await deleteLeftovers(r.subject)));
    leaks.push(...leftoverCgroups().map((p) => `cgroup ${p}`));
    await bundle.cleanup();
  }

  console.log(table(results.filter((r) => r.samples.length > 0 || r.error === undefined)));
  console.log("");
  for (const l of derived(results)) console.log(l);
  for (const r of results) {
    if (r.error) console.log(`${r.subject.name}: not measured (${r.error})`);
    if (r.failures.length > 0) console.log(`${r.subject.name}: ${r.failures.length} failures, first: ${r.failures[0]}`);
  }
  if (leaks.length > 0) console.log(`cleaned up leftovers:\n  ${leaks.join("\n  ")}`);
  const mounts = leftoverMounts();
  if (mounts.length > 0) console.log(`WARNING: mounts left behind:\n  ${mounts.join("\n  ")}`);

  const now = new Date();
  const out = join(REPO, "bench/results", `runtime-run-${now.toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(out), { recursive: true });
  const gitCommit = firstLine(["git", "-C", REPO, "rev-parse", "HEAD"]);
  const report = {
    bench: "runtime-run",
    date: now.toISOString(),
    host: { kernel: release(), cpus: cpus().length, cpuModel: cpus()[0]?.model, hybridCgroups: hybridCgroups() },
    gitCommit,
    options: { runs: o.runs, warmup: o.warmup, rssRuns: o.rssRuns },
    method: {
      wallTime: "process.hrtime.bigint() from spawn() to the child's exit event; output to a file",
      peakRss: "GNU time %M (wait4 ru_maxrss, KiB) placed directly before the runtime binary; runtimes: create",
      order: "round-robin, starting subject rotated each round; warm-ups discarded",
    },
    skipped,
    subjects: results.map((r) => ({
      name: r.subject.name,
      kind: r.subject.kind,
      note: r.subject.note,
      version: r.subject.version,
      error: r.error,
      summary: summarize(r.samples) satisfies Summary,
      samplesMs: r.samples,
      failures: r.failures,
      createMs: r.createMs,
      deleteMs: r.deleteMs,
      peakRssKb: r.rssKb,
    })),
    derived: derived(results),
    leftovers: leaks,
  };
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nraw samples: ${out}`);
}

await main();
