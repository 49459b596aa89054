// A process's stdio as containerd hands it to a shim: paths of fifos the client made, `file://`
// and `binary://` URIs (the log URIs containerd's shims accept), or "" for none; or, for a
// terminal process, a pty whose master the runtime sends to --console-socket.
//
// The shim opens what the strings name and hands it to the task's keeper, which holds it from
// then on (a shim may die and be replaced while the container runs on). Without a terminal,
// output is not copied: the fifo or log file is the container's own stdout/stderr, so the
// container writes straight into it, and the keeper holds it (a fifo read-write) until the
// process exits, so a client that goes away never breaks the container's pipe. Stdin goes
// through a pipe whose write end the keeper copies the stdin fifo into, so CloseIO can end it.
// With a terminal, the keeper copies between the pty master and the fifos and sets its size.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { errnoCode, InvalidArgumentError } from "../common/errors.ts";
import { shimSys } from "../common/sys.ts";
import type { Keeper } from "./keeper.ts";
import type { ProcessFds } from "./runtime.ts";

export interface StdioConfig {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

/** What a stdout/stderr string names. Pure. */
export type OutputTarget =
  | { kind: "none" }
  | { kind: "fifo"; path: string }
  | { kind: "file"; path: string }
  | { kind: "binary"; path: string; args: string[] };

export function parseOutput(uri: string): OutputTarget {
  if (uri === "") return { kind: "none" };
  if (uri.startsWith("/")) return { kind: "fifo", path: uri };
  let u: URL;
  try {
    // WHATWG URLs would read "file:x" as file:///x; containerd's parser does not.
    if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new Error("not a URI");
    u = new URL(uri);
  } catch {
    throw new InvalidArgumentError(`stdio ${JSON.stringify(uri)}: neither an absolute path nor a URI`);
  }
  const path = decodeURIComponent(u.pathname);
  if (!path.startsWith("/")) throw new InvalidArgumentError(`stdio ${uri}: the path must be absolute`);
  switch (u.protocol) {
    case "fifo:":
      return { kind: "fifo", path };
    case "file:":
      return { kind: "file", path };
    case "binary:": {
      // containerd passes each key of the query and its first value as arguments, an empty value
      // too: ?a=b&c&a=d → a b c "" (in Go's map order, which is random: loggers parse pairs).
      const args: string[] = [];
      for (const k of new Set(u.searchParams.keys())) args.push(k, u.searchParams.get(k) ?? "");
      return { kind: "binary", path, args };
    }
    default:
      throw new InvalidArgumentError(`stdio ${uri}: unsupported scheme ${u.protocol.slice(0, -1)}`);
  }
}

export interface IoContext {
  containerId: string;
  namespace: string;
}

/**
 * One process's stdio, from open() until the keeper holds it (handOver) or it is released (close).
 * Every fd it opened is its own until then, so a failure anywhere leaves nothing open.
 */
export class ProcessIO {
  readonly config: StdioConfig;
  /** The container process's stdin, stdout and stderr: the runtime's own stdio for create/exec. */
  readonly fds: ProcessFds;
  /** Set for a terminal process: where the runtime sends the pty master. */
  readonly consoleSocket: string | undefined;
  /** Every fd opened here and not yet released. */
  readonly #owned: number[];
  /** What the keeper keeps open for the process (output fifos and files, a logger's ends). */
  readonly #held: number[];
  /** The stdin fifo, read by the keeper; with its pipe's write end when there is no terminal. */
  readonly #stdin: { fifo: number; pipeWrite: number | undefined } | undefined;
  /** A terminal's output target (a fifo, a file, or /dev/null). */
  readonly #ptyOut: number | undefined;
  /** The binary:// logger until it has exited (what delete waits for). */
  #loggerExited: Promise<void> | undefined;
  #loggerChild: ChildProcess | undefined;
  #console: { server: net.Server; dir: string } | undefined;
  #master: number | undefined;

  private constructor(
    config: StdioConfig,
    o: {
      fds: ProcessFds;
      owned: number[];
      held?: number[];
      stdin?: { fifo: number; pipeWrite: number | undefined } | undefined;
      ptyOut?: number;
      logger?: ChildProcess | undefined;
      console?: { server: net.Server; dir: string; path: string };
    },
  ) {
    this.config = config;
    this.fds = o.fds;
    this.#owned = o.owned;
    this.#held = o.held ?? [];
    this.#stdin = o.stdin;
    this.#ptyOut = o.ptyOut;
    if (o.logger) {
      const child = o.logger;
      this.#loggerChild = child;
      this.#loggerExited =
        child.exitCode !== null || child.signalCode !== null
          ? Promise.resolve()
          : new Promise((resolve) => child.once("exit", () => resolve()));
    }
    this.#console = o.console;
    this.consoleSocket = o.console?.path;
  }

  /** The stdio of a process a shim before this one handed to its keeper: nothing is held here. */
  static handedOver(config: StdioConfig): ProcessIO {
    return new ProcessIO(config, { fds: [-1, -1, -1], owned: [] });
  }

  /** Opens what `config` names; handOver() or close() releases it all. */
  static async open(config: StdioConfig, ctx: IoContext): Promise<ProcessIO> {
    const owned: number[] = [];
    let logger: ChildProcess | undefined;
    let consoleDir: string | undefined;
    try {
      const devNull = open(owned, () => openSync("/dev/null", constants.O_RDWR));
      if (config.terminal) {
        const stdin =
          config.stdin === "" ? undefined : { fifo: openStdinFifo(config.stdin, owned), pipeWrite: undefined };
        // The pty's output goes to stdout; anything but a fifo or a file (none, a logger) is dropped.
        const target = parseOutput(config.stdout);
        const ptyOut = target.kind === "fifo" || target.kind === "file" ? openOutput(target, owned) : devNull;
        consoleDir = mkdtempSync(join(tmpdir(), "berth-pty-"));
        const path = join(consoleDir, "console.sock");
        const server = net.createServer({ pauseOnConnect: true });
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(path, () => resolve());
        });
        return new ProcessIO(config, {
          fds: [devNull, devNull, devNull],
          owned,
          stdin,
          ptyOut,
          console: { server, dir: consoleDir, path },
        });
      }
      const out = parseOutput(config.stdout);
      const err = parseOutput(config.stderr);
      if (err.kind === "binary" && out.kind !== "binary") {
        throw new InvalidArgumentError("a binary:// stderr needs the same stdout");
      }
      let stdin: { fifo: number; pipeWrite: number } | undefined;
      let stdinFd = devNull;
      if (config.stdin !== "") {
        const fifo = openStdinFifo(config.stdin, owned);
        const [r, w] = shimSys().pipe();
        owned.push(r, w);
        stdin = { fifo, pipeWrite: w };
        stdinFd = r;
      }
      let outFd: number;
      let errFd: number;
      if (out.kind === "binary") {
        const started = await startLogger(out, ctx, owned);
        logger = started.child;
        outFd = started.out;
        errFd = started.err;
      } else {
        outFd = out.kind === "none" ? devNull : openOutput(out, owned);
        errFd =
          err.kind === "none"
            ? devNull
            : config.stderr === config.stdout && out.kind === "file"
              ? outFd
              : openOutput(err, owned);
      }
      const held = [...new Set([outFd, errFd])].filter((fd) => fd !== devNull);
      return new ProcessIO(config, { fds: [stdinFd, outFd, errFd], owned, held, stdin, logger });
    } catch (e) {
      // Bad input changes nothing: every fd, socket and logger opened so far goes.
      for (const fd of owned) closeQuietly(fd);
      logger?.kill("SIGKILL");
      if (consoleDir) rmSync(consoleDir, { recursive: true, force: true });
      throw e;
    }
  }

  /**
   * Takes the pty master the runtime sends to consoleSocket (run it alongside create/exec: the
   * runtime waits for it).
   */
  async acceptConsole(): Promise<void> {
    const c = this.#console;
    if (!c) return;
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the runtime sent no console")), CONSOLE_TIMEOUT_MS);
      c.server.once("connection", (s) => {
        clearTimeout(timer);
        resolve(s);
      });
    });
    try {
      const fd = await receiveFd(socketFd(sock), CONSOLE_TIMEOUT_MS);
      this.#master = open(this.#owned, () => fd);
    } finally {
      sock.destroy();
      this.#closeConsole();
    }
  }

  /**
   * Once the runtime has started the process (the keeper's `name`): the keeper takes its stdio
   * (holds the output, copies stdin and a terminal), and this process closes its own copies.
   */
  async handOver(keeper: Keeper, name: string): Promise<void> {
    const asked: Promise<void>[] = [];
    if (this.#master !== undefined) {
      asked.push(keeper.copy(name, "pty-out", this.#master, this.#ptyOut ?? this.fds[1]));
      if (this.#stdin) asked.push(keeper.copy(name, "pty-in", this.#stdin.fifo, this.#master));
    } else {
      if (this.#stdin?.pipeWrite !== undefined) {
        asked.push(keeper.copy(name, "in", this.#stdin.fifo, this.#stdin.pipeWrite));
      }
      if (this.#held.length > 0) asked.push(keeper.hold(name, this.#held));
    }
    // Every request is sent before any answer is awaited (one round trip); the fds stay open until
    // the keeper has answered, as sends it could not take yet go out later.
    const answers = await Promise.allSettled(asked);
    this.#release();
    const refused = answers.find((a) => a.status === "rejected");
    if (refused) throw refused.reason;
  }

  /**
   * Resolves once the binary:// logger has written everything and exited, as containerd's shims
   * wait for theirs at Delete (so a client that reads the log after the delete has every line).
   * It exits by itself once the process and the keeper have closed its pipes; if it has not
   * after LOGGER_EOF_MS (something else still holds them) it gets SIGTERM, on which it writes
   * what the pipes hold and exits, and SIGKILL after LOGGER_KILL_MS. At once without a logger (or
   * for a process a shim before this one started: its logger is not this shim's child).
   */
  async loggerDone(): Promise<void> {
    const exited = this.#loggerExited;
    const child = this.#loggerChild;
    if (!exited || !child) return;
    const by = (ms: number) =>
      Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    if (await by(LOGGER_EOF_MS)) return;
    child.kill("SIGTERM");
    if (await by(LOGGER_KILL_MS)) return;
    child.kill("SIGKILL");
    await exited;
  }

  /** Releases what is still open: after a failure, or once the process has exited. */
  async close(): Promise<void> {
    this.#release();
    this.#closeConsole();
  }

  #release(): void {
    for (const fd of this.#owned.splice(0)) closeQuietly(fd);
    // A logger reads on until the container and the keeper close their ends of its pipes too.
  }

  #closeConsole(): void {
    if (!this.#console) return;
    this.#console.server.close();
    rmSync(this.#console.dir, { recursive: true, force: true });
    this.#console = undefined;
  }
}

/** How long a logger may take to end by itself once its process exited, then after SIGTERM. */
const LOGGER_EOF_MS = 2_000;
const LOGGER_KILL_MS = 10_000;

/** How long a runtime may take to connect to the console socket, and then to send the master. */
const CONSOLE_TIMEOUT_MS = 10_000;

/**
 * The fd sent with SCM_RIGHTS on a connected socket, once it comes. Tried without blocking, then
 * again 1, 2, 4 ... up to 20 ms later: the event loop must stay free meanwhile (the linked
 * runtime answers nsexec's sync points on it before nsexec sends the master).
 */
async function receiveFd(sockFd: number, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 20)) {
    try {
      return shimSys().recvFd(sockFd, 0);
    } catch (err) {
      if (errnoCode(err) !== "ETIMEDOUT" || Date.now() > end) throw err;
    }
    await new Promise((r) => setTimeout(r, wait));
  }
}

/** Runs `opener` and records the fd it opened in `owned`. */
function open(owned: number[], opener: () => number): number {
  const fd = opener();
  owned.push(fd);
  return fd;
}

/** Opens a fifo (read-write: never blocks, and the pipe keeps a reader) or a log file for output. */
function openOutput(t: OutputTarget, owned: number[]): number {
  let fd: number;
  switch (t.kind) {
    case "none":
      throw new InvalidArgumentError("no output to open");
    case "fifo":
      // Read-write: never blocks, and the pipe keeps a reader while the keeper holds it.
      fd = openFifo(t.path, constants.O_RDWR);
      break;
    case "file":
      mkdirSync(dirname(t.path), { recursive: true, mode: 0o755 });
      fd = openSync(t.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
      break;
    case "binary":
      throw new InvalidArgumentError("binary:// is only for stdout");
  }
  owned.push(fd);
  return fd;
}

/** Opens a client's fifo; a path that is not a fifo (a regular file, a device) is refused. */
function openFifo(path: string, flags: number): number {
  let isFifo: boolean;
  try {
    isFifo = statSync(path).isFIFO();
  } catch {
    throw new InvalidArgumentError(`stdio ${path}: no such fifo`);
  }
  if (!isFifo) throw new InvalidArgumentError(`stdio ${path} is not a fifo`);
  return openSync(path, flags);
}

/** A stdin fifo's reader; the client opened its writer before asking for the process. */
function openStdinFifo(path: string, owned: number[]): number {
  return open(owned, () => openFifo(path, constants.O_RDONLY | constants.O_NONBLOCK));
}

/**
 * Starts a binary:// logger as containerd's shims do: the container's stdout and stderr arrive on
 * its fds 3 and 4, and it closes fd 5 once it is ready to read them. Both are pipes (as
 * containerd's os.Pipe) whose write ends, in `owned`, become the container's stdout and stderr:
 * blocking ones, so a container that writes faster than the logger reads waits for it (the ends
 * of node's own "pipe" stdio are non-blocking sockets: a fast writer got EAGAIN and failed).
 */
async function startLogger(
  t: { path: string; args: string[] },
  ctx: IoContext,
  owned: number[],
): Promise<{ child: ChildProcess; out: number; err: number }> {
  const [outRead, outWrite] = open2(owned, shimSys().pipe());
  const [errRead, errWrite] = open2(owned, shimSys().pipe());
  const child = spawn(t.path, t.args, {
    stdio: ["ignore", "ignore", "ignore", outRead, errRead, "pipe"],
    // Only these two, as containerd's shims give it: nothing of the shim's own environment.
    env: { CONTAINER_ID: ctx.containerId, CONTAINER_NAMESPACE: ctx.namespace },
    detached: false,
  });
  const ready = (child.stdio as unknown as net.Socket[])[5]!;
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`logging binary ${t.path} exited (${code}) before it was ready`)));
    ready.once("close", () => resolve());
    ready.resume();
  });
  // The read ends are the logger's alone now.
  for (const fd of [outRead, errRead]) {
    owned.splice(owned.indexOf(fd), 1);
    closeQuietly(fd);
  }
  return { child, out: outWrite, err: errWrite };
}

/** Records both fds of a pipe in `owned`. */
function open2(owned: number[], fds: [number, number]): [number, number] {
  owned.push(...fds);
  return fds;
}

function socketFd(s: unknown): number {
  return (s as { _handle: { fd: number } })._handle.fd;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}
