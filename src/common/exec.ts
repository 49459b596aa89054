// Running a command to its end and collecting what it said: mount(8), cp, a shim's `start` and
// `delete`, a runtime's command line, hooks, ps(1). Output is bounded (a command cannot fill the
// caller's memory), and a failure is one typed error that names the command and carries its
// stderr, so no caller hand-rolls the spawn, the listeners and the message.
import { type StdioOptions, spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { BerthError } from "./errors.ts";

/** stdout kept by default: a shim's DeleteResponse, a runtime's `ps` JSON, ps(1)'s table. */
const MAX_STDOUT = 16 << 20;
/** stderr kept by default (its first bytes): enough for any error message. */
const MAX_STDERR = 64 << 10;
/**
 * How long the output pipes may stay open once the command has exited: a process it left behind
 * (a hook's background job, a helper that daemonised) may hold them for good.
 */
const PIPES_AFTER_EXIT_MS = 250;

export interface ExecOptions {
  cwd?: string | undefined;
  /** The whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv | undefined;
  argv0?: string | undefined;
  /** Written to stdin, which is then closed. Without it stdin is /dev/null. */
  input?: string | Uint8Array | undefined;
  /** Replaces the default stdio; only the streams it leaves as "pipe" are collected. */
  stdio?: StdioOptions | undefined;
  /** SIGKILL after this long; the run then fails (ExecError.timedOut). */
  timeoutMs?: number | undefined;
  /** stdout past this many bytes kills the command and fails the run. */
  maxStdout?: number | undefined;
  /** stderr past this many bytes is cut (the first bytes are kept). */
  maxStderr?: number | undefined;
}

export interface ExecResult {
  stdout: Buffer;
  stderr: string;
  /** True when stderr was longer than maxStderr. */
  stderrCut: boolean;
  /** The exit code; null when a signal ended the command. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A command that could not start, failed, was killed, timed out or said too much. */
export class ExecError extends BerthError {
  readonly command: string;
  readonly args: readonly string[];
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly timedOut: boolean;
  constructor(
    command: string,
    args: readonly string[],
    how: string,
    r: Partial<ExecResult> & { timedOut?: boolean },
    options?: { cause?: unknown },
  ) {
    const said = r.stderr?.trim();
    super("internal", `${[command, ...args].join(" ")}: ${how}${said ? `: ${said}` : ""}`, options);
    this.command = command;
    this.args = args;
    this.code = r.code ?? null;
    this.signal = r.signal ?? null;
    this.stdout = r.stdout ?? Buffer.alloc(0);
    this.stderr = r.stderr ?? "";
    this.timedOut = r.timedOut ?? false;
  }
}

/** How a command ended, as a message says it. Pure. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit status ${code}`;
}

/**
 * Runs `command` to its end and resolves with what it said and how it ended, whatever the exit
 * status. Rejects (ExecError) only when it could not start, timed out, or wrote more than
 * maxStdout.
 */
export function execCollect(command: string, args: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
  const maxStdout = o.maxStdout ?? MAX_STDOUT;
  const maxStderr = o.maxStderr ?? MAX_STDERR;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: o.cwd,
      env: o.env,
      argv0: o.argv0,
      stdio: o.stdio ?? [o.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let outBytes = 0;
    let stderr = "";
    let stderrCut = false;
    let failure: { how: string; timedOut?: boolean } | undefined;
    let settled = false;
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    const result = (): ExecResult => ({ stdout: Buffer.concat(out), stderr, stderrCut, code, signal });
    const fail = (how: string, timedOut = false) => {
      failure ??= { how, timedOut };
      child.kill("SIGKILL");
    };
    const timer =
      o.timeoutMs === undefined
        ? undefined
        : setTimeout(() => fail(`timed out after ${o.timeoutMs} ms`, true), o.timeoutMs);
    let pipesTimer: NodeJS.Timeout | undefined;
    const settle = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(pipesTimer);
      const r = result();
      if (failure) reject(new ExecError(command, args, failure.how, { ...r, timedOut: failure.timedOut }));
      else resolve(r);
    };
    child.stdout?.on("data", (d: Buffer) => {
      outBytes += d.length;
      if (outBytes > maxStdout) return fail(`stdout exceeds ${maxStdout} bytes`);
      out.push(d);
    });
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length + d.length > maxStderr) {
        stderr += d.slice(0, Math.max(0, maxStderr - stderr.length));
        stderrCut = true;
      } else stderr += d;
    });
    child.stdin?.on("error", () => {}); // a command that does not read its input
    if (o.input !== undefined) child.stdin?.end(o.input);
    child.once("error", (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new ExecError(command, args, err.message, result(), { cause: err }));
    });
    child.once("exit", (c, s) => {
      code = c;
      signal = s;
      // Normally 'close' follows at once; pipes held by a process left behind are let go.
      pipesTimer = setTimeout(() => {
        for (const s of [child.stdout, child.stderr] as (Readable | null)[]) s?.destroy();
        settle();
      }, PIPES_AFTER_EXIT_MS);
    });
    child.once("close", settle);
  });
}

/** execCollect that also fails (ExecError) unless the command exits 0. */
export async function execChecked(command: string, args: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
  const r = await execCollect(command, args, o);
  if (r.code !== 0) throw new ExecError(command, args, describeExit(r.code, r.signal), r);
  return r;
}
