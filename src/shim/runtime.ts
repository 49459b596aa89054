// The OCI runtime as the shim drives it: the `ShimRuntime` interface, and `CliRuntime`, which runs
// any runtime with runc's command line (berth-runc, runc, crun) once per call. `create`/`exec`
// run through the task's keeper (a Launcher), so the container's processes are the keeper's
// children; the container's stdio is handed to them as the runtime's own stdio, so the runtime's
// errors are read from its --log file (json lines), as containerd's runc shim does. The other calls
// run the binary as the shim's child. linked-runtime.ts is the other implementation: berth-runc's
// library called in-process. Every call may name the trace of the task call that caused it: a
// runtime binary gets it as TRACEPARENT, the linked one in-process.

import { accessSync, constants, readFileSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { BerthError, FailedPreconditionError, NotFoundError } from "../common/errors.ts";
import { describeExit, execCollect } from "../common/exec.ts";
import { writeFileNamed } from "../common/storage-errors.ts";
import { TRACEPARENT_ENV, type TraceContext, traceparentOf } from "../rpc/trace.ts";
import type { Launcher } from "../runc/container/launcher.ts";

export interface RuntimeOptions {
  /** A name on PATH or a path. */
  binary: string;
  /** The runtime's --root. */
  root: string;
  /** The runtime's --log (json): where its errors are read from. */
  logFile: string;
  noPivotRoot?: boolean;
  noNewKeyring?: boolean;
  systemdCgroup?: boolean;
}

/** A container process's stdin, stdout and stderr. */
export type ProcessFds = [number, number, number];

/** How create and exec start the container's process. */
export interface SpawnOptions {
  /** Written by the runtime before what the launcher started exits. */
  pidFile: string;
  consoleSocket?: string | undefined;
  stdio: ProcessFds;
  /** Runs the runtime (or nsexec): the task's keeper. */
  launcher: Launcher;
}

/**
 * What the shim asks of an OCI runtime; errors are BerthErrors of the kind the failure is. `trace`
 * is the trace of the task call being served (its span is the runtime's parent).
 */
export interface ShimRuntime {
  create(id: string, bundle: string, o: SpawnOptions, trace?: TraceContext): Promise<void>;
  start(id: string, trace?: TraceContext): Promise<void>;
  /** Runs the process (a runtime-spec Process, JSON) in the container, detached. */
  exec(id: string, processJson: string, o: SpawnOptions & { specFile: string }, trace?: TraceContext): Promise<void>;
  kill(id: string, signal: number, all: boolean, trace?: TraceContext): Promise<void>;
  delete(id: string, force: boolean, trace?: TraceContext): Promise<void>;
  pause(id: string, trace?: TraceContext): Promise<void>;
  resume(id: string, trace?: TraceContext): Promise<void>;
  ps(id: string, trace?: TraceContext): Promise<number[]>;
  /** Applies a LinuxResources (JSON). */
  update(id: string, resourcesJson: string, trace?: TraceContext): Promise<void>;
  /** The container's status as the runtime's `state` says it (created, running, paused, stopped...). */
  status(id: string, trace?: TraceContext): Promise<string>;
}

export class RuntimeError extends BerthError {
  constructor(message: string) {
    super("internal", message);
    this.name = "RuntimeError";
  }
}

interface RunResult {
  code: number;
  stdout: string;
}

export class CliRuntime implements ShimRuntime {
  readonly opts: RuntimeOptions;

  constructor(opts: RuntimeOptions) {
    this.opts = opts;
  }

  #global(): string[] {
    const g = ["--root", this.opts.root, "--log", this.opts.logFile, "--log-format", "json"];
    if (this.opts.systemdCgroup) g.push("--systemd-cgroup");
    return g;
  }

  /**
   * Runs the runtime, with TRACEPARENT naming our span of `trace`; stdout is captured. Rejects with
   * its error: the last one it logged in this run (the log is kept across calls, as containerd's
   * runc shim keeps it, so each line of it stays for the reader).
   */
  async #run(args: string[], o: { input?: string; trace?: TraceContext }): Promise<RunResult> {
    const logged = sizeOf(this.opts.logFile);
    const r = await execCollect(this.opts.binary, [...this.#global(), ...args], {
      input: o.input,
      env: o.trace ? this.#env(o.trace) : undefined,
    });
    if (r.code !== 0) {
      const msg = lastLogError(this.opts.logFile, logged) ?? r.stderr.trim();
      throw classify(`${this.opts.binary} ${args[0]} failed: ${msg || describeExit(r.code, r.signal)}`);
    }
    return { code: 0, stdout: r.stdout.toString() };
  }

  /**
   * Runs the runtime through the task's launcher (the keeper), with the container's stdio as its
   * own: what it starts is the launcher's child. Its errors come from its --log alone.
   */
  async #launch(args: string[], o: SpawnOptions, trace: TraceContext | undefined): Promise<void> {
    const logged = sizeOf(this.opts.logFile);
    const env = Object.entries(this.#env(trace)).map(([k, v]) => `${k}=${v ?? ""}`);
    const run = await o.launcher.launch([onPath(this.opts.binary), ...this.#global(), ...args], env, o.stdio);
    const code = await run.exit;
    if (code !== 0) {
      const msg = lastLogError(this.opts.logFile, logged);
      throw classify(`${this.opts.binary} ${args[0]} failed: ${msg || `exit status ${code}`}`);
    }
  }

  /** This process's environment, with TRACEPARENT naming our span of `trace`. */
  #env(trace: TraceContext | undefined): NodeJS.ProcessEnv {
    return trace ? { ...process.env, [TRACEPARENT_ENV]: traceparentOf(trace) } : { ...process.env };
  }

  async create(id: string, bundle: string, o: SpawnOptions, trace?: TraceContext): Promise<void> {
    const args = ["create", "--bundle", bundle, "--pid-file", o.pidFile];
    if (o.consoleSocket) args.push("--console-socket", o.consoleSocket);
    if (this.opts.noPivotRoot) args.push("--no-pivot");
    if (this.opts.noNewKeyring) args.push("--no-new-keyring");
    args.push(id);
    await this.#launch(args, o, trace);
  }

  async start(id: string, trace?: TraceContext): Promise<void> {
    await this.#run(["start", id], { trace });
  }

  async exec(
    id: string,
    processJson: string,
    o: SpawnOptions & { specFile: string },
    trace?: TraceContext,
  ): Promise<void> {
    // The process's environment is in it: root's alone, whatever the umask.
    writeFileNamed(o.specFile, processJson, { mode: 0o600 });
    const args = ["exec", "--detach", "--process", o.specFile, "--pid-file", o.pidFile];
    if (o.consoleSocket) args.push("--console-socket", o.consoleSocket);
    args.push(id);
    await this.#launch(args, o, trace);
  }

  async kill(id: string, signal: number, all: boolean, trace?: TraceContext): Promise<void> {
    const args = ["kill"];
    if (all) args.push("--all");
    args.push(id, String(signal));
    await this.#run(args, { trace });
  }

  async delete(id: string, force: boolean, trace?: TraceContext): Promise<void> {
    await this.#run(force ? ["delete", "--force", id] : ["delete", id], { trace });
  }

  async pause(id: string, trace?: TraceContext): Promise<void> {
    await this.#run(["pause", id], { trace });
  }

  async resume(id: string, trace?: TraceContext): Promise<void> {
    await this.#run(["resume", id], { trace });
  }

  async ps(id: string, trace?: TraceContext): Promise<number[]> {
    const { stdout } = await this.#run(["ps", "--format", "json", id], { trace });
    const pids: unknown = JSON.parse(stdout.trim() || "[]");
    return Array.isArray(pids) ? pids.filter((p): p is number => typeof p === "number") : [];
  }

  async update(id: string, resourcesJson: string, trace?: TraceContext): Promise<void> {
    await this.#run(["update", "--resources", "-", id], { input: resourcesJson, trace });
  }

  async status(id: string, trace?: TraceContext): Promise<string> {
    const { stdout } = await this.#run(["state", id], { trace });
    let state: unknown;
    try {
      state = JSON.parse(stdout);
    } catch {
      throw new RuntimeError(`${this.opts.binary} state ${id}: not JSON`);
    }
    const status = (state as { status?: unknown } | null)?.status;
    if (typeof status !== "string" || status.length > 32) {
      throw new RuntimeError(`${this.opts.binary} state ${id}: no status`);
    }
    return status;
  }
}

/**
 * The path execve needs for a runtime named as a command ("runc"): the first executable of that
 * name on $PATH, as a shell finds it; a name with a slash is used as it is.
 */
export function onPath(binary: string, path = process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin"): string {
  if (binary.includes("/")) return binary;
  for (const dir of path.split(":")) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  throw new NotFoundError(`runtime ${binary}: not found on $PATH`);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * The last error a runtime wrote to its json log past byte `from` (what this run wrote; runc and
 * crun both write {"level","msg"}).
 */
function lastLogError(file: string, from: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(file).subarray(from).toString("utf8");
  } catch {
    return undefined;
  }
  let last: string | undefined;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as { level?: string; msg?: string };
      if (rec.level === "error" && rec.msg) last = rec.msg;
    } catch {
      last = line.trim();
    }
  }
  return last;
}

function classify(msg: string): BerthError {
  if (/does not exist|not found|no such container/i.test(msg)) return new NotFoundError(msg);
  if (/not running|not paused|already|is stopped|cannot (pause|resume)/i.test(msg)) {
    return new FailedPreconditionError(msg);
  }
  return new RuntimeError(msg);
}
