// The OCI runtime as the shim drives it: the `ShimRuntime` interface, and `CliRuntime`, which runs
// any runtime with runc's command line (berth-runc, runc, crun) once per call. The container's
// stdio is handed to `create`/`exec` as the runtime's own stdio, so the runtime's errors are read
// from its --log file (json lines), as containerd's runc shim does. linked-runtime.ts is the other
// implementation: berth-runc's library called in-process.

import type { StdioOptions } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { BerthError, FailedPreconditionError, NotFoundError } from "../common/errors.ts";
import { describeExit, execCollect } from "../common/exec.ts";
import { writeFileNamed } from "../common/storage-errors.ts";

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

/** What the shim asks of an OCI runtime; errors are BerthErrors of the kind the failure is. */
export interface ShimRuntime {
  create(
    id: string,
    bundle: string,
    o: { pidFile: string; consoleSocket?: string; stdio: StdioOptions },
  ): Promise<void>;
  start(id: string): Promise<void>;
  /** Runs the process (a runtime-spec Process, JSON) in the container, detached. */
  exec(
    id: string,
    processJson: string,
    o: { pidFile: string; consoleSocket?: string; stdio: StdioOptions; specFile: string },
  ): Promise<void>;
  kill(id: string, signal: number, all: boolean): Promise<void>;
  delete(id: string, force: boolean): Promise<void>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  ps(id: string): Promise<number[]>;
  /** Applies a LinuxResources (JSON). */
  update(id: string, resourcesJson: string): Promise<void>;
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

  /** Runs the runtime; stdout is captured unless stdio says otherwise. Rejects with its error. */
  async #run(args: string[], stdio?: StdioOptions, input?: string): Promise<RunResult> {
    rmSync(this.opts.logFile, { force: true });
    const r = await execCollect(this.opts.binary, [...this.#global(), ...args], { stdio, input });
    if (r.code !== 0) {
      const msg = lastLogError(this.opts.logFile) ?? r.stderr.trim();
      throw classify(`${this.opts.binary} ${args[0]} failed: ${msg || describeExit(r.code, r.signal)}`);
    }
    return { code: 0, stdout: r.stdout.toString() };
  }

  async create(
    id: string,
    bundle: string,
    o: { pidFile: string; consoleSocket?: string; stdio: StdioOptions },
  ): Promise<void> {
    const args = ["create", "--bundle", bundle, "--pid-file", o.pidFile];
    if (o.consoleSocket) args.push("--console-socket", o.consoleSocket);
    if (this.opts.noPivotRoot) args.push("--no-pivot");
    if (this.opts.noNewKeyring) args.push("--no-new-keyring");
    args.push(id);
    await this.#run(args, o.stdio);
  }

  async start(id: string): Promise<void> {
    await this.#run(["start", id]);
  }

  async exec(
    id: string,
    processJson: string,
    o: { pidFile: string; consoleSocket?: string; stdio: StdioOptions; specFile: string },
  ): Promise<void> {
    // The process's environment is in it: root's alone, whatever the umask.
    writeFileNamed(o.specFile, processJson, { mode: 0o600 });
    const args = ["exec", "--detach", "--process", o.specFile, "--pid-file", o.pidFile];
    if (o.consoleSocket) args.push("--console-socket", o.consoleSocket);
    args.push(id);
    await this.#run(args, o.stdio);
  }

  async kill(id: string, signal: number, all: boolean): Promise<void> {
    const args = ["kill"];
    if (all) args.push("--all");
    args.push(id, String(signal));
    await this.#run(args);
  }

  async delete(id: string, force: boolean): Promise<void> {
    await this.#run(force ? ["delete", "--force", id] : ["delete", id]);
  }

  async pause(id: string): Promise<void> {
    await this.#run(["pause", id]);
  }

  async resume(id: string): Promise<void> {
    await this.#run(["resume", id]);
  }

  async ps(id: string): Promise<number[]> {
    const { stdout } = await this.#run(["ps", "--format", "json", id]);
    const pids: unknown = JSON.parse(stdout.trim() || "[]");
    return Array.isArray(pids) ? pids.filter((p): p is number => typeof p === "number") : [];
  }

  async update(id: string, resourcesJson: string): Promise<void> {
    await this.#run(["update", "--resources", "-", id], undefined, resourcesJson);
  }
}

/** The last error a runtime wrote to its json log (runc and crun both write {"level","msg"}). */
function lastLogError(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
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
