// Timed process runs for benchmarks. The clock starts just before spawn() and stops when Node sees
// the child exit (waitpid), so a sample includes fork+exec from Node (~1 ms, the same for every
// subject) but no pipe draining: output goes to /dev/null or to a file that is read afterwards. A
// file instead of a pipe also matters for commands that leave a process behind holding their stdio
// (`runc create` leaves the container init running), which would keep a pipe open forever.

import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** "ignore" (default): /dev/null; "inherit": this process's stdio; "capture": collected into `output`. */
  output?: "ignore" | "inherit" | "capture";
  /** SIGKILL the child after this long (default 60 s); the run then rejects. */
  timeoutMs?: number;
}

export interface TimedRun {
  /** Wall time from spawn to exit, milliseconds (sub-microsecond resolution). */
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved, when output was "capture"; otherwise "". */
  output: string;
}

let scratch: string | undefined;
function scratchDir(): string {
  if (scratch === undefined) {
    scratch = mkdtempSync(join(tmpdir(), "berth-bench-spawn-"));
    const dir = scratch;
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return scratch;
}
let seq = 0;

/** A fresh path in this process's scratch dir (removed at exit), e.g. for `time -o`. */
export function scratchFile(name: string): string {
  seq += 1;
  return join(scratchDir(), `${seq}-${name}`);
}

/** Runs argv[0] with argv[1..] and resolves when it exits, with its wall time. Never throws on a non-zero exit. */
export function timedSpawn(argv: readonly string[], opts: SpawnOptions = {}): Promise<TimedRun> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error("timedSpawn: empty argv");
  const mode = opts.output ?? "ignore";
  let outFile: string | undefined;
  let outFd: number | undefined;
  if (mode === "capture") {
    outFile = scratchFile("out");
    outFd = openSync(outFile, "w");
  }
  const stdio = mode === "inherit" ? "inherit" : (["ignore", outFd ?? "ignore", outFd ?? "ignore"] as const);
  return new Promise<TimedRun>((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: stdio as never });
    if (outFd !== undefined) closeSync(outFd);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      const end = process.hrtime.bigint();
      clearTimeout(timer);
      let output = "";
      if (outFile !== undefined) {
        output = readFileSync(outFile, "utf8");
        rmSync(outFile, { force: true });
      }
      if (timedOut) {
        reject(new Error(`${argv.join(" ")}: killed after ${opts.timeoutMs ?? 60_000} ms\n${output}`));
        return;
      }
      resolve({ ms: Number(end - start) / 1e6, code, signal, output });
    });
  });
}

/** Like timedSpawn, but rejects unless the command exits 0 (the error carries its output). */
export async function timedSpawnOk(argv: readonly string[], opts: SpawnOptions = {}): Promise<TimedRun> {
  const r = await timedSpawn(argv, { output: "capture", ...opts });
  if (r.code !== 0) {
    throw new Error(`${argv.join(" ")}: exit ${r.code ?? r.signal}\n${r.output.trim()}`);
  }
  return r;
}

// Peak memory. GNU time's %M is ru_maxrss from wait4(): the peak resident set of the child it
// ran, or of that child's own waited-for descendants if one of those peaked higher. Processes that
// are left running (a container init after `create`) are not counted. Memory used before an
// execve() in the same process counts too, so put `time` directly in front of the command to
// measure, never in front of a shell or wrapper.

export const GNU_TIME = "/usr/bin/time";

export function haveGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

/** argv prefixed with GNU time writing the peak RSS (KiB) to `file`. */
export function withPeakRss(argv: readonly string[], file: string): string[] {
  return [GNU_TIME, "-f", "%M", "-o", file, ...argv];
}

/** The peak RSS in KiB that withPeakRss() wrote to `file` (and removes the file). */
export function readPeakRssKb(file: string): number {
  const text = readFileSync(file, "utf8");
  rmSync(file, { force: true });
  // time writes "Command exited with non-zero status N" before the format on failure.
  const lines = text.trim().split("\n");
  const kb = Number.parseInt(lines[lines.length - 1] ?? "", 10);
  if (!Number.isFinite(kb)) throw new Error(`unexpected GNU time output: ${JSON.stringify(text)}`);
  return kb;
}
