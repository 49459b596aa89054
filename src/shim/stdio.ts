// A process's stdio as containerd hands it to a shim: paths of fifos the client made, `file://`
// and `binary://` URIs (the log URIs containerd's shims accept), or "" for none; or, for a
// terminal process, a pty whose master the runtime sends to --console-socket.
//
// Without a terminal, output is not copied: the fifo or log file is opened here and given to the
// runtime as the container's own stdout/stderr, so the container writes straight into it. The
// shim keeps a fifo open read-write until the process exits, so a client that goes away (or a
// daemon that is killed) never breaks the container's pipe. Stdin goes through a pipe the shim
// owns, so CloseIO can end it.
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as tty from "node:tty";
import { InvalidArgumentError } from "../common/errors.ts";
import { shimSys } from "../common/sys.ts";

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
      // containerd passes the query's keys and values as arguments: ?a=b → a b.
      const args: string[] = [];
      for (const [k, v] of u.searchParams) args.push(k, ...(v === "" ? [] : [v]));
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

export class ProcessIO {
  readonly config: StdioConfig;
  /** The runtime's stdio for create/exec (the container inherits it). */
  readonly stdio: StdioOptions;
  /** Set for a terminal process: where the runtime sends the pty master. */
  readonly consoleSocket: string | undefined;
  readonly #fds: number[];
  readonly #stdinRead: number | undefined;
  #stdinWriter: net.Socket | undefined;
  #stdinSource: net.Socket | undefined;
  #logger: ChildProcess | undefined;
  #console: { server: net.Server; dir: string } | undefined;
  #master: PtyRelay | undefined;

  private constructor(
    config: StdioConfig,
    stdio: StdioOptions,
    fds: number[],
    stdinRead: number | undefined,
    consoleSocket: string | undefined,
  ) {
    this.config = config;
    this.stdio = stdio;
    this.#fds = fds;
    this.#stdinRead = stdinRead;
    this.consoleSocket = consoleSocket;
  }

  /** Opens what `config` names; close() releases it all. */
  static async open(config: StdioConfig, ctx: IoContext): Promise<ProcessIO> {
    const fds: number[] = [];
    let stdinSource: net.Socket | undefined;
    let stdinWriter: net.Socket | undefined;
    let logger: ChildProcess | undefined;
    try {
      if (config.terminal) return await ProcessIO.#openTerminal(config, fds);
      const out = parseOutput(config.stdout);
      const err = parseOutput(config.stderr);
      if (err.kind === "binary" && out.kind !== "binary") {
        throw new InvalidArgumentError("a binary:// stderr needs the same stdout");
      }
      let stdinRead: number | undefined;
      if (config.stdin !== "") {
        const [r, w] = shimSys().pipe();
        fds.push(r);
        stdinRead = r;
        stdinWriter = new net.Socket({ fd: w, readable: false, writable: true });
        stdinSource = openFifoReader(config.stdin);
        stdinSource.pipe(stdinWriter);
        stdinWriter.on("error", () => {});
        stdinSource.on("error", () => stdinWriter?.end());
      }
      let outFd: number | "ignore";
      let errFd: number | "ignore";
      if (out.kind === "binary") {
        logger = await startLogger(out, ctx);
        outFd = socketFd(logger.stdio[3]);
        errFd = socketFd(logger.stdio[4]);
      } else {
        outFd = openOutput(out, fds);
        errFd = config.stderr === config.stdout && out.kind === "file" ? outFd : openOutput(err, fds);
      }
      const io = new ProcessIO(config, [stdinRead ?? "ignore", outFd, errFd], fds, stdinRead, undefined);
      io.#stdinWriter = stdinWriter;
      io.#stdinSource = stdinSource;
      io.#logger = logger;
      return io;
    } catch (e) {
      // Bad input changes nothing: every fd, pipe and logger opened so far goes.
      for (const fd of fds) closeQuietly(fd);
      stdinSource?.destroy();
      stdinWriter?.destroy();
      logger?.kill("SIGKILL");
      throw e;
    }
  }

  static async #openTerminal(config: StdioConfig, fds: number[]): Promise<ProcessIO> {
    const dir = mkdtempSync(join(tmpdir(), "berth-pty-"));
    const path = join(dir, "console.sock");
    const server = net.createServer({ pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    const io = new ProcessIO(config, ["ignore", "ignore", "ignore"], fds, undefined, path);
    io.#console = { server, dir };
    return io;
  }

  /** Called after a successful create/exec: closes the copies the runtime has inherited. */
  afterSpawn(): void {
    if (this.#stdinRead !== undefined) {
      closeQuietly(this.#stdinRead);
      this.#fds.splice(this.#fds.indexOf(this.#stdinRead), 1);
    }
  }

  /**
   * Takes the pty master the runtime sends to consoleSocket (run it alongside create/exec: the
   * runtime waits for it), and copies between the master and the fifos.
   */
  async acceptConsole(): Promise<void> {
    const c = this.#console;
    if (!c) return;
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the runtime sent no console")), 10_000);
      c.server.once("connection", (s) => {
        clearTimeout(timer);
        resolve(s);
      });
    });
    const fd = shimSys().recvFd((sock as unknown as { _handle: { fd: number } })._handle.fd, 10_000);
    sock.destroy();
    c.server.close();
    rmSync(c.dir, { recursive: true, force: true });
    this.#console = undefined;
    this.#master = new PtyRelay(fd, this.config.stdout, this.#fds);
    if (this.config.stdin !== "") {
      const src = openFifoReader(this.config.stdin);
      src.on("data", (d: Buffer) => this.#master?.write(d));
      src.on("error", () => {});
      this.#stdinSource = src;
    }
  }

  resize(width: number, height: number): void {
    if (!this.#master) throw new InvalidArgumentError("the process has no terminal");
    shimSys().setWinsize(this.#master.fd, height, width);
  }

  /** Ends the process's stdin (CloseIO). */
  closeStdin(): void {
    this.#stdinSource?.destroy();
    this.#stdinSource = undefined;
    this.#stdinWriter?.end();
    this.#stdinWriter = undefined;
    this.#master?.write(Buffer.from([4])); // ^D: EOF on a terminal
  }

  /** After the process exited: lets the terminal drain, then releases every fd and helper. */
  async close(): Promise<void> {
    await this.#master?.drainAndClose(2000);
    this.#stdinSource?.destroy();
    this.#stdinWriter?.destroy();
    for (const fd of this.#fds.splice(0)) closeQuietly(fd);
    if (this.#console) {
      this.#console.server.close();
      rmSync(this.#console.dir, { recursive: true, force: true });
    }
    if (this.#logger) {
      for (const i of [3, 4]) (this.#logger.stdio[i] as net.Socket | null)?.destroy();
    }
  }
}

/**
 * Copies a pty master's output to the process's stdout and its input from stdin. The master is
 * read through duplicates: a read fails with EIO whenever no slave is open (a runtime may open
 * the slave only at start), and Node then closes what it read from, so after EIO before the
 * process exited the relay reads again from a fresh duplicate. After the exit, EIO means the
 * output is drained.
 */
class PtyRelay {
  readonly fd: number;
  readonly #write: (d: Buffer) => void;
  readonly #out: net.Socket | undefined;
  #reader: tty.ReadStream | undefined;
  #exited = false;
  #drained: () => void = () => {};
  readonly #done: Promise<void>;

  constructor(fd: number, stdout: string, fds: number[]) {
    this.fd = fd;
    fds.push(fd);
    this.#done = new Promise((resolve) => {
      this.#drained = resolve;
    });
    const target = parseOutput(stdout);
    if (target.kind === "fifo" || target.kind === "file") {
      const flags =
        target.kind === "fifo" ? constants.O_RDWR : constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
      // The log's missing directories: 0755 as containerd's shim makes them, not 0777 minus the umask.
      if (target.kind === "file") mkdirSync(dirname(target.path), { recursive: true, mode: 0o755 });
      const out = target.kind === "fifo" ? openFifo(target.path, flags) : openSync(target.path, flags, 0o640);
      if (target.kind === "fifo") {
        this.#out = new net.Socket({ fd: out, readable: false, writable: true });
        this.#out.on("error", () => {});
        const sock = this.#out;
        this.#write = (d) => void sock.write(d);
      } else {
        fds.push(out);
        this.#write = (d) => writeAll(out, d);
      }
    } else {
      this.#write = () => {};
    }
    this.#read();
  }

  #read(): void {
    const r = new tty.ReadStream(shimSys().dup(this.fd));
    this.#reader = r;
    r.on("data", (d: Buffer) => this.#write(d));
    const gone = () => {
      if (this.#reader !== r) return;
      this.#reader = undefined;
      r.destroy();
      if (this.#exited) this.#drained();
      else setTimeout(() => this.#exited || this.#read(), 50).unref();
    };
    r.on("error", gone);
    r.on("end", gone);
  }

  write(d: Buffer): void {
    writeAll(this.fd, d);
  }

  /** The process exited: read what is left (until EIO), at most `timeoutMs`, then stop. */
  async drainAndClose(timeoutMs: number): Promise<void> {
    this.#exited = true;
    if (this.#reader) await Promise.race([this.#done, new Promise((r) => setTimeout(r, timeoutMs))]);
    this.#reader?.destroy();
    this.#out?.end();
  }
}

function openOutput(t: OutputTarget, fds: number[]): number | "ignore" {
  let fd: number;
  switch (t.kind) {
    case "none":
      return "ignore";
    case "fifo":
      // Read-write: never blocks, and the pipe keeps a reader while the shim lives.
      fd = openFifo(t.path, constants.O_RDWR);
      break;
    case "file":
      mkdirSync(dirname(t.path), { recursive: true, mode: 0o755 });
      fd = openSync(t.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
      break;
    case "binary":
      throw new InvalidArgumentError("binary:// is only for stdout");
  }
  fds.push(fd);
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
function openFifoReader(path: string): net.Socket {
  const fd = openFifo(path, constants.O_RDONLY | constants.O_NONBLOCK);
  return new net.Socket({ fd, readable: true, writable: false });
}

/**
 * Starts a binary:// logger as containerd's shims do: the container's stdout and stderr arrive on
 * its fds 3 and 4, and it closes fd 5 once it is ready to read them.
 */
async function startLogger(t: { path: string; args: string[] }, ctx: IoContext): Promise<ChildProcess> {
  const child = spawn(t.path, t.args, {
    stdio: ["ignore", "ignore", "ignore", "pipe", "pipe", "pipe"],
    env: { ...process.env, CONTAINER_ID: ctx.containerId, CONTAINER_NAMESPACE: ctx.namespace },
    detached: false,
  });
  const ready = (child.stdio as unknown as net.Socket[])[5]!;
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`logging binary ${t.path} exited (${code}) before it was ready`)));
    ready.once("close", () => resolve());
    ready.resume();
  });
  return child;
}

function socketFd(s: unknown): number {
  return (s as { _handle: { fd: number } })._handle.fd;
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

function writeAll(fd: number, d: Buffer): void {
  let off = 0;
  while (off < d.length) {
    try {
      off += writeSync(fd, d.subarray(off));
    } catch {
      return;
    }
  }
}
