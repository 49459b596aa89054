// The log of a container whose output berthd reads from fifos (task-output.ts: a TTY, an open
// stdin): berthd hands what it reads to a berth-logger of its own, started as the shims start
// one (output on its fds 3 and 4, ready when it closes fd 5), so the file is written in the same
// format, with the same max-size/max-file rotation, by the same program as every other
// container's. The logger exits once both streams end (close()), or when berthd dies (its pipes
// close): what it was given is written first; berthd starts another when it reopens the fifos.
import { type ChildProcess, spawn } from "node:child_process";
import type { Writable } from "node:stream";
import type { LogStream } from "../logs/entry.ts";
import { type JsonFileLogConfig, locateLogger, loggerArgs } from "../logs/log-uri.ts";

/**
 * How long close() waits for the logger to exit at the end of its streams while it takes in
 * nothing of what berthd still holds for it (the container's exit is recorded only after: the
 * shim gives its logger as long). A logger that keeps taking berthd's bytes gets more, up to
 * BUSY_MS in all.
 */
const EXIT_MS = 2_000;
const BUSY_MS = 30_000;
/** Then SIGTERM (it writes what its pipes hold and exits); past this it is stuck: SIGKILL. */
const TERM_MS = 1_000;

export class FifoLogger {
  readonly #child: ChildProcess;
  readonly #out: Record<LogStream, Writable>;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.#out = { stdout: child.stdio[3] as Writable, stderr: child.stdio[4] as Writable };
    // A logger gone (it failed, or was killed) drops what comes: the container is never blocked.
    for (const s of Object.values(this.#out)) s.on("error", () => {});
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
  }

  /**
   * Starts the logger (its arguments are loggerArgs's). What is written before it is ready waits
   * in its pipes; a logger that fails to start (its error is logged by the caller's `onError`)
   * drops what it is given.
   */
  static spawn(cfg: JsonFileLogConfig, onError: (why: string) => void, logger: string = locateLogger()): FifoLogger {
    const args = Object.entries(loggerArgs(cfg)).flat();
    const child = spawn(logger, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString();
    });
    child.on("error", (err) => onError(err.message));
    child.once("exit", (code) => {
      if (code !== 0) onError(`berth-logger exited with ${code}: ${stderr.trim()}`);
    });
    (child.stdio as unknown as NodeJS.ReadableStream[])[5]!.resume(); // its ready signal: not needed
    return new FifoLogger(child);
  }

  write(stream: LogStream, chunk: Buffer): void {
    const s = this.#out[stream];
    if (!s.destroyed && !s.writableEnded) s.write(chunk);
  }

  /**
   * Ends both streams; resolves once the logger has written everything and exited, or, when it
   * is stuck (stopped, hung on its disk), once it is killed: a logger never holds the exit.
   */
  async close(): Promise<void> {
    for (const s of Object.values(this.#out)) if (!s.writableEnded) s.end();
    const deadline = Date.now() + BUSY_MS;
    for (let pending = this.#pending(); ; ) {
      if (await this.#exitsWithin(EXIT_MS)) return;
      const now = this.#pending();
      if (now === 0 || now >= pending || Date.now() >= deadline) break;
      pending = now;
    }
    this.#child.kill("SIGTERM");
    if (await this.#exitsWithin(TERM_MS)) return;
    this.#child.kill("SIGKILL");
    await this.#exitsWithin(TERM_MS);
  }

  /** Bytes berthd holds that the logger has not taken from its pipes yet. */
  #pending(): number {
    return this.#out.stdout.writableLength + this.#out.stderr.writableLength;
  }

  async #exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
    const exited = await Promise.race([this.#exited.then(() => true), late]);
    clearTimeout(timer);
    return exited;
  }
}
