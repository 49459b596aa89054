// Drives a runc-compatible OCI runtime binary (runc, crun, berth-runc) from tests: each Runtime has
// its own private --root, every invocation has a timeout, and cleanup force-deletes what is left.
//
// Output goes through temp files, not pipes: a container inherits the runtime's stdio, so after
// `create` or `run -d` a pipe would stay open as long as the container lives, and waiting for EOF
// would hang. Files also let a test read the container's output after `start`.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { open, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "../fixtures/busybox.ts";

export interface RunResult {
  /** Exit code, or 128+signal number when the runtime itself died of a signal. */
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface InvokeOptions {
  timeoutMs?: number;
  /** Written to the runtime's stdin (which the container inherits); default: /dev/null. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where stdout/stderr go (default: fresh files in the runtime's scratch dir). */
  files?: OutputFiles;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Files that receive a process's stdout and stderr; read them at any time. */
export class OutputFiles {
  readonly stdoutPath: string;
  readonly stderrPath: string;
  constructor(dir: string, name: string) {
    this.stdoutPath = join(dir, `${name}.stdout`);
    this.stderrPath = join(dir, `${name}.stderr`);
  }
  async read(): Promise<{ stdout: string; stderr: string }> {
    const [stdout, stderr] = await Promise.all([
      readFile(this.stdoutPath, "utf8").catch(() => ""),
      readFile(this.stderrPath, "utf8").catch(() => ""),
    ]);
    return { stdout, stderr };
  }
}

/**
 * Runs `bin args...`, its stdout/stderr going to `files`; resolves when the process exits (not when
 * its stdio closes). Kills it with SIGKILL after the timeout.
 */
export async function invoke(
  bin: string,
  args: string[],
  files: OutputFiles,
  opts: InvokeOptions = {},
): Promise<RunResult> {
  const out = await open(files.stdoutPath, "w");
  const err = await open(files.stderrPath, "w");
  try {
    const child = spawn(bin, args, {
      stdio: [opts.input === undefined ? "ignore" : "pipe", out.fd, err.fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    child.stdin?.on("error", () => {});
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.on("error", reject);
        child.on("exit", (c, s) => resolve({ code: c, signal: s }));
      },
    ).finally(() => clearTimeout(timer));
    const { stdout, stderr } = await files.read();
    return { code: code ?? 128 + (SIGNAL_NUMBERS[signal ?? ""] ?? 0), signal, stdout, stderr, timedOut };
  } finally {
    await out.close();
    await err.close();
  }
}

export interface ContainerState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** A runtime binary with a private state root. */
export class Runtime {
  readonly bin: string;
  readonly root: string;
  /** Scratch dir for output files. */
  readonly work: string;
  readonly name: string;
  #seq = 0;

  private constructor(bin: string, root: string, work: string, name: string) {
    this.bin = bin;
    this.root = root;
    this.work = work;
    this.name = name;
  }

  /** A runtime with a fresh --root under a unique temp dir. */
  static async create(bin: string, name = "rt"): Promise<Runtime> {
    const base = await makeTempDir(`berth-rt-${name}-`);
    return new Runtime(bin, join(base, "root"), base, name);
  }

  outputFiles(label: string): OutputFiles {
    this.#seq++;
    return new OutputFiles(this.work, `${this.#seq}-${label.replace(/[^a-zA-Z0-9_.-]/g, "_")}`);
  }

  /** `bin --root ROOT args...`. */
  exec(args: string[], opts: InvokeOptions = {}): Promise<RunResult> {
    return invoke(this.bin, ["--root", this.root, ...args], opts.files ?? this.outputFiles(args[0] ?? "cmd"), opts);
  }

  /** Foreground `run`: the container's stdout/stderr are the result's (it inherits the runtime's stdio). */
  run(id: string, bundle: string, opts: InvokeOptions & { extraArgs?: string[] } = {}): Promise<RunResult> {
    return this.exec(["run", ...(opts.extraArgs ?? []), "--bundle", bundle, id], opts);
  }

  /**
   * `create`: the runtime's result, plus the files where the container's stdout/stderr go (it keeps
   * the runtime's stdio), for reading after start.
   */
  async createContainer(
    id: string,
    bundle: string,
    opts: InvokeOptions & { extraArgs?: string[] } = {},
  ): Promise<{ result: RunResult; output: OutputFiles }> {
    const output = opts.files ?? this.outputFiles(`create-${id}`);
    const result = await invoke(
      this.bin,
      ["--root", this.root, "create", ...(opts.extraArgs ?? []), "--bundle", bundle, id],
      output,
      opts,
    );
    return { result, output };
  }

  start(id: string, opts?: InvokeOptions): Promise<RunResult> {
    return this.exec(["start", id], opts);
  }

  async stateRaw(id: string, opts?: InvokeOptions): Promise<RunResult> {
    return this.exec(["state", id], opts);
  }

  /** Parsed `state`, or undefined when the runtime says the container does not exist / fails. */
  async state(id: string, opts?: InvokeOptions): Promise<ContainerState | undefined> {
    const r = await this.stateRaw(id, opts);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as ContainerState;
  }

  kill(id: string, signal?: string, opts: InvokeOptions & { all?: boolean } = {}): Promise<RunResult> {
    const args = ["kill", ...(opts.all ? ["--all"] : []), id];
    if (signal !== undefined) args.push(signal);
    return this.exec(args, opts);
  }

  delete(id: string, opts: InvokeOptions & { force?: boolean } = {}): Promise<RunResult> {
    return this.exec(["delete", ...(opts.force ? ["--force"] : []), id], opts);
  }

  /** Polls `state` until the status matches (or the container is gone when status is "gone"). */
  async waitStatus(id: string, status: string, timeoutMs = 10_000): Promise<ContainerState | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.state(id);
      if (status === "gone" ? s === undefined : s?.status === status) return s;
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: container ${id} did not reach ${status} (last: ${s?.status ?? "gone"})`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Container ids the runtime lists (falls back to the state root's entries if `list` fails). */
  async ids(): Promise<string[]> {
    const r = await this.exec(["list", "--format", "json"]);
    if (r.code === 0) {
      const parsed = JSON.parse(r.stdout.trim() || "null") as { id: string }[] | null;
      return (parsed ?? []).map((c) => c.id);
    }
    return this.rootEntries();
  }

  /**
   * Runs `id` from `bundle`; the run must be refused at once (exit 1, `message` on stderr), the
   * container must not have run (no stdout) and nothing may be left: state, memory or pids cgroup.
   */
  async runRefused(id: string, bundle: string, message: RegExp, timeoutMs = 20_000): Promise<void> {
    const r = await this.run(id, bundle, { timeoutMs });
    assert.equal(r.timedOut, false, "the runtime hung");
    assert.equal(r.stdout, "", `the container ran: ${r.stdout}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.deepEqual(await this.rootEntries(), []);
    assert.equal(existsSync(`/sys/fs/cgroup/memory/${id}`), false, "memory cgroup left");
    assert.equal(existsSync(`/sys/fs/cgroup/pids/${id}`), false, "pids cgroup left");
  }

  /** What is in the state root (empty when it does not exist). */
  async rootEntries(): Promise<string[]> {
    if (!existsSync(this.root)) return [];
    return (await readdir(this.root)).sort();
  }

  /** Force-deletes every container left in the root. Never throws: it runs in finally blocks. */
  async cleanup(): Promise<void> {
    try {
      const ids = new Set([...(await this.ids().catch(() => [])), ...(await this.rootEntries().catch(() => []))]);
      for (const id of ids) {
        if (id.startsWith(".")) continue;
        await this.delete(id, { force: true, timeoutMs: 10_000 }).catch(() => undefined);
      }
    } catch {
      // Best effort: the temp dir is removed below or at process exit.
    }
  }

  /** cleanup() and removal of the private root and scratch files. */
  async destroy(): Promise<void> {
    await this.cleanup();
    await rm(this.work, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A unique container id: tests run side by side and share the kernel's namespaces and cgroups. */
export function uniqueId(prefix = "t"): string {
  return `${prefix.replace(/[^a-zA-Z0-9_.-]/g, "-")}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
