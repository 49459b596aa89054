// What the benches read from the host and share: a tool's first output line (versions, the git
// commit), the machine for the results file, processes (argv, executable, parent, smaps_rollup,
// memory summed over a set and what the set holds alone), mount points under a dir, a private copy
// of a build, a bounded pool of async jobs, and Ctrl-C handling.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { join } from "node:path";
import { makeTempDir } from "../../test/fixtures/busybox.ts";
import { footprint, type Mapping, parseSmaps } from "./smaps.ts";

/** The first line `argv` prints, or undefined when it cannot run or fails. */
export function firstLine(argv: string[]): string | undefined {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split(
      "\n",
    )[0];
  } catch {
    return undefined;
  }
}

/** The machine, for a results file; `loadavgBefore`: loadavg() when the bench started. */
export function hostInfo(loadavgBefore: number[]) {
  return {
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadavgBefore,
    loadavgAfter: loadavg(),
  };
}

/** The kB fields of /proc/PID/smaps_rollup (Rss, Pss, Private_Dirty, ...); undefined once the process is gone. */
export function smapsRollup(pid: number): Record<string, number> | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  } catch {
    return undefined;
  }
  const fields: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line);
    if (m) fields[m[1]!] = Number(m[2]);
  }
  return fields;
}

/** Rss, Pss, private memory summed over a set of processes, and what the set holds alone (kB). */
export interface Memory {
  processes: number;
  rssKb: number;
  pssKb: number;
  /** Private_Clean + Private_Dirty. */
  privateKb: number;
  /**
   * What the set would hold if nothing else ran (`smaps.ts`): every process's anonymous pages, plus
   * each mapped file or shared memory once; unlike Pss, other processes mapping the same files do
   * not change it.
   */
  aloneKb: number;
}

/** The memory of `pids` from their smaps; processes gone meanwhile are not counted. */
export function memoryOf(pids: readonly number[]): Memory {
  const all: Mapping[][] = [];
  for (const pid of pids) {
    try {
      all.push(parseSmaps(readFileSync(`/proc/${pid}/smaps`, "utf8")));
    } catch {
      // gone meanwhile
    }
  }
  const f = footprint(all);
  return { processes: all.length, rssKb: f.rssKb, pssKb: f.pssKb, privateKb: f.privateKb, aloneKb: f.aloneKb };
}

/** A process's argv ([] once it is gone). */
export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
  } catch {
    return [];
  }
}

/** A process's parent, undefined once it is gone. */
export function parentPid(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Pids of the processes for which `test` holds (it may throw for a process that exited meanwhile). */
export function pidsWhere(test: (pid: number) => boolean): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (test(Number(e))) pids.push(Number(e));
    } catch {
      // exited meanwhile, or a kernel thread (no exe)
    }
  }
  return pids;
}

/** Pids of the processes running the executable file `path` (their /proc/PID/exe). */
export function pidsWithExe(path: string): number[] {
  return pidsWhere((pid) => readlinkSync(`/proc/${pid}/exe`) === path);
}

/** Mount points at or below `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/**
 * Copies a build (the command loaders, their bundles and the native helpers beside them) into a
 * private dir, so that someone rebuilding dist/ during the run (the build starts by deleting it)
 * cannot change or break what is being measured. Returns the dir and a hash over the bundles.
 */
export async function snapshotDist(dist: string): Promise<{ dir: string; sha256: string }> {
  const dir = await makeTempDir("berth-bench-dist-");
  const hash = createHash("sha256");
  for (const name of readdirSync(dist).sort()) {
    const from = join(dist, name);
    if (name.endsWith(".map") || !statSync(from).isFile()) continue;
    copyFileSync(from, join(dir, name));
    chmodSync(join(dir, name), statSync(from).mode & 0o777);
    if (name.endsWith(".bundle.mjs")) hash.update(readFileSync(from));
  }
  for (const need of ["berth-containerd.mjs", "berth-shim.mjs", "berth-runc.mjs", "shimsys.node", "nsexec"]) {
    if (!existsSync(join(dir, need))) throw new Error(`${join(dist, need)} is missing: run node scripts/build.mjs`);
  }
  return { dir, sha256: hash.digest("hex").slice(0, 12) };
}

/** Runs `fn` over `items`, at most `width` at a time. */
export async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

// Ctrl-C or timeout(1): the bench finishes its current step, then cleans up (its finally blocks)
// and exits.
let interrupted: string | undefined;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    interrupted = sig;
  });
}

/** SIGINT or SIGTERM has arrived. */
export function isInterrupted(): boolean {
  return interrupted !== undefined;
}

/** Throws once SIGINT or SIGTERM has arrived. */
export function checkInterrupted(): void {
  if (interrupted !== undefined) throw new Error(`interrupted by ${interrupted}`);
}
