// The OCI runtime as the shim drives it: the `ShimRuntime` interface, and `CliRuntime`, which runs
// any runtime with runc's command line (berth-runc, runc, crun) once per call. The container's
// stdio is handed to `create`/`exec` as the runtime's own stdio, so the runtime's errors are read
// from its --log file (json lines), as containerd's runc shim does. linked-runtime.ts is the other
// implementation: berth-runc's library called in-process. Every call may name the trace of the
// task call that caused it: a runtime binary gets it as TRACEPARENT, the linked one in-process.

import type { StdioOptions } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { BerthError, FailedPreconditionError, NotFoundError } from "../common/errors.ts";
import { describeExit, execCollect } from "../common/exec.ts";
import { writeFileNamed } from "../common/storage-errors.ts";
import { TRACEPARENT_ENV, type TraceContext, traceparentOf } from "../rpc/trace.ts";

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

/**
 * What the shim asks of an OCI runtime; errors are BerthErrors of the kind the failure is. `trace`
 * is the trace of the task call being served (its span is the runtime's parent).
 */
export interface ShimRuntime {
  create(
    id: string,
    bundle: string,
    o: { pidFile: string; consoleSocket?: string; stdio: StdioOptions },
    trace?: TraceContext,
  ): Promise<void>;
  start(id: string, trace?: TraceContext): Promise<void>;
  /** Runs the process (a runtime-spec Process, JSON) in the container, detached. */
  exec(
    id: string,
    processJson: string,
    o: { pidFile: string; consoleSocket?: string; stdio: StdioOptions; specFile: string },
    trace?: TraceContext,
  ): Promise<void>;
  kill(id: string, signal: number, all: boolean, trace?: TraceContext): Promise<void>;
  delete(id: string, force: boolean, trace?: TraceContext): Promise<void>;
  pause(id: string, trace?: TraceContext): Promise<void>;
  resume(id: string, trace?: TraceContext): Promise<void>;
  ps(id: string, trace?: TraceContext): Promise<number[]>;
  /** Applies a LinuxResources (JSON). */
  update(id: string, resourcesJson: string, trace?: TraceContext): Promise<void>;
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
   * Runs the runtime, with TRACEPARENT naming our span of `trace`; stdout is captured unless stdio
   * says otherwise. Rejects with its error: the last one it logged in this run (the log is kept
   * across calls, as containerd's runc shim keeps it, so each line of it stays for the reader).
   */
  async #run(args: string[], o: { stdio?: StdioOptions; input?: string; trace?: TraceContext }): Promise<RunResult> {
    const logged = sizeOf(this.opts.logFile);
    const env = o.trace ? { ...process.env, [TRACEPARENT_ENV]: traceparentOf(o.trace) } : undefined;
    const r = await execCollect(this.opts.binary, [...this.#global(), ...args], {
      stdio: o.stdio,
      input: o.input,
      env,
    });
    if (r.code !== 0) {
      const msg = lastLogError(this.opts.logFile, logged) ?? r.stderr.trim();
      throw classify(`${this.opts.binary} ${args[0]} failed: ${msg || describeExit(r.code, r.signal)}`);
    }
    return { code: 0, stdout: r.stdout.toString() };
  }

  async create(
    id: string,
    bundle: string,
    o: { pidFile: string; consoleSocket?: string; stdio: StdioOptions },
    trace?: TraceContext,
  ): Promise<void> {
    const args = ["create", "--bundle", bundle, "--pid-file", o.pidFile];
    if (o.consoleSocket) args.push("--console-socket", o.consoleSocket);
    if (this.opts.noPivotRoot) args.push("--no-pivot");
    if (this.opts.noNewKeyring) args.push("--no-new-keyring");
    args.push(id);
    await this.#run(args, { stdio: o.stdio, trace });
  }

  async start(id: string, trace?: TraceContext): Promise<void> {
    await this.#run(["start", id], { trace });
  }

  async exec(
    id: string,
    processJson: string,
    o: { pidFile: string; consoleSocket?: string; stdio: StdioOptions; specFile: string },
    trace?: TraceContext,
  ): Promise<void> {
    // The process's environment is in it: root's alone, whatever the umask.
    writeFileNamed(o.specFile, processJson, { mode: 0o600 });
    const args = ["exec", "--detach", "--process", o.specFile, "--pid-file", o.pidFile];
    if (o.consoleSocket) args.push("--console-socket", o.consoleSocket);
    args.push(id);
    await this.#run(args, { stdio: o.stdio, trace });
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
