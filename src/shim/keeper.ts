// The shim's side of a task's keeper (native/berth-keeper/README.md is the contract): starting
// one for a bundle, connecting to one a bundle names, and its requests and events. The keeper is
// the container's parent and holds its stdio; the shim tells it what to do. Requests are answered
// in order, so each returns a promise of its own reply; events (RAN, EXIT) go to listeners. What
// the keeper sends is decoded by keeper-wire.ts, and anything the contract does not allow ends
// the connection: `closed` says how it ended.

import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
} from "node:fs";
import * as net from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { BerthError, errnoCode, errorMessage } from "../common/errors.ts";
import { listenUnixSync, ownDir } from "../common/secure-fs.ts";
import { shimSys } from "../common/sys.ts";
import type { Launched, Launcher } from "../runc/container/launcher.ts";
import { Bundle } from "./bundle.ts";
import {
  type ExitEvent,
  encodeFrame,
  FrameReader,
  KeeperProtocolError,
  KeeperRefusedError,
  keeperName,
  MAX_ARGS,
  MAX_ENV,
  MAX_FDS,
  type ProcRecord,
  parseHello,
  parseListCount,
  parseMessage,
  parseSpawned,
  type RanEvent,
} from "./keeper-wire.ts";
import { SOCKET_DIR } from "./start.ts";

export type { ExitEvent, ProcRecord, RanEvent } from "./keeper-wire.ts";

/** How long a keeper may take to answer HELLO (it answers as soon as it runs) and QUIT. */
const HELLO_TIMEOUT_MS = 10_000;
/** How long connect() tries again a keeper that refused it as busy (its last client just went). */
const CONNECT_BUSY_MS = 1_000;
const QUIT_TIMEOUT_MS = 2_000;
/** A send the socket could not take yet (the keeper reads slowly) is retried this often. */
const SEND_RETRY_MS = 5;

/** How a COPY moves bytes (see the contract): stdin, stdin into a pty, output, a pty's output. */
export type CopyKind = "in" | "pty-in" | "out" | "pty-out";

/** The keeper's socket for a bundle: /run/berth/s/k-<first 24 hex of sha256(bundle dir)>. */
export function keeperSocketPath(bundleDir: string): string {
  // Not node:crypto: OpenSSL's start-up cost the long-lived shim 1.6 MiB and 10-15 ms at its first Create.
  return join(SOCKET_DIR, `k-${bytesToHex(sha256(utf8ToBytes(resolve(bundleDir)))).slice(0, 24)}`);
}

/** dist/berth-keeper: beside the bundled shim, or in the repo's dist/ when run from source. */
function locateKeeper(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "berth-keeper"), join(here, "..", "..", "dist", "berth-keeper")];
  const found = candidates.find((p) => existsSync(p));
  if (!found)
    throw new BerthError("internal", `berth-keeper not found (looked in ${candidates.join(", ")}); run the build`);
  return found;
}

interface Pending {
  verb: string;
  /** OK's fields (LIST: its records, once they have all come). */
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Outgoing {
  data: Buffer;
  fds: readonly number[];
}

/** What a connection ended with: QUIT answered, closed by this side, or lost (the keeper died or misbehaved). */
export type KeeperEnd = "quit" | "dropped" | "lost";

export class Keeper {
  readonly bundle: Bundle;
  readonly socketPath: string;
  /** The keeper's pid, as HELLO said. */
  pid = 0;
  /** Resolves once the connection has ended, saying how. */
  readonly closed: Promise<KeeperEnd>;
  readonly #sock: net.Socket;
  readonly #reader = new FrameReader();
  readonly #pending: Pending[] = [];
  readonly #queue: Outgoing[] = [];
  #retry: NodeJS.Timeout | undefined;
  /** LIST's PROC frames still to come, and where they go. */
  #listing: { left: number; records: ProcRecord[]; request: Pending } | undefined;
  readonly #ran = new Map<string, { resolve(e: RanEvent): void; reject(err: Error): void }>();
  readonly #onRan: Array<(e: RanEvent) => void> = [];
  readonly #onExit: Array<(e: ExitEvent) => void> = [];
  #end: KeeperEnd | undefined;
  #error: Error | undefined;

  private constructor(sock: net.Socket, bundle: Bundle, socketPath: string) {
    this.#sock = sock;
    this.bundle = bundle;
    this.socketPath = socketPath;
    this.closed = new Promise((done) => {
      sock.once("close", () => {
        this.#end ??= "lost";
        clearTimeout(this.#retry);
        const err = this.#error ?? new BerthError("unavailable", `keeper ${this.socketPath}: connection ${this.#end}`);
        for (const p of this.#pending.splice(0)) p.reject(err);
        this.#listing?.request.reject(err);
        for (const r of this.#ran.values()) r.reject(err);
        this.#ran.clear();
        this.#queue.length = 0;
        done(this.#end);
      });
    });
    sock.on("error", () => {});
    sock.on("data", (chunk: Buffer) => {
      try {
        for (const fields of this.#reader.push(chunk)) this.#received(fields);
      } catch (err) {
        this.#fail(err instanceof Error ? err : new KeeperProtocolError(String(err)));
      }
    });
  }

  /**
   * Starts the keeper of a task's bundle: binds its socket (0600, in SOCKET_DIR), names it in the
   * bundle's `keeper` file, spawns dist/berth-keeper with fd 3 the bundle directory and fd 4 the
   * listening socket, and connects. All but the connect happens before this returns to the event
   * loop, with posix_spawn (a vfork): a Node spawn() forks the whole shim, which took ~10 ms of
   * each Create on the event loop. The keeper is this process's child, not libuv's: the shim's
   * Reaper reaps it, and so does the Keeper once its connection ends (reapStarted), so a caller
   * without a Reaper leaves no zombie.
   */
  static async start(bundleDir: string): Promise<Keeper> {
    const bundle = new Bundle(bundleDir);
    const path = keeperSocketPath(bundleDir);
    const binary = locateKeeper();
    ownDir(SOCKET_DIR, 0o711);
    let listening = -1;
    let pid = 0;
    try {
      // Assigned inside the bind, so the finally below closes it even when publishing it fails.
      listenUnixSync(path, 0o600, (at) => {
        listening = shimSys().listenUnix(at);
      });
      bundle.writeKeeper(path);
      const dir = openSync(bundleDir, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        pid = shimSys().spawnKeeper(binary, dir, listening);
      } finally {
        closeSync(dir);
      }
    } catch (err) {
      removeKeeperFiles(bundle, path);
      throw new BerthError("internal", `starting the keeper of ${bundleDir}: ${errorMessage(err)}`, { cause: err });
    } finally {
      // The keeper has its own copy of the listening socket; the path stays bound to it.
      if (listening >= 0) closeSync(listening);
    }
    try {
      const k = await Keeper.#open(bundle, path, pid);
      k.closed.then(() => reapStarted(pid));
      return k;
    } catch (err) {
      killKeeper(pid);
      reapStarted(pid);
      removeKeeperFiles(bundle, path);
      throw err;
    }
  }

  /**
   * Connects to the keeper the bundle's `keeper` file names (a keeper a previous shim started). A
   * keeper serves one client: one that still holds a connection that just ended (its last client
   * died a moment ago) refuses the next (`busy`), so a refused HELLO is tried again for `busyMs`.
   */
  static async connect(bundleDir: string, busyMs = CONNECT_BUSY_MS): Promise<Keeper> {
    const bundle = new Bundle(bundleDir);
    const path = bundle.readKeeper();
    for (const end = Date.now() + busyMs; ; ) {
      try {
        return await Keeper.#open(bundle, path);
      } catch (err) {
        // No keeper listens (ENOENT, ECONNREFUSED): nothing to wait for.
        if (err instanceof BerthError && err.kind === "unavailable" && /ENOENT|ECONNREFUSED/.test(err.message))
          throw err;
        if (Date.now() >= end) throw err;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /**
   * Connects and says HELLO. With `pid` (a keeper this process just started) the first requests
   * go out behind HELLO without waiting for its answer (requests are answered in order, so none
   * is answered before it), and an answer that is not the keeper's ends the connection.
   */
  static async #open(bundle: Bundle, path: string, pid?: number): Promise<Keeper> {
    const sock = net.connect(path);
    await new Promise<void>((ok, fail) => {
      sock.once("connect", ok);
      sock.once("error", fail);
    }).catch((err: unknown) => {
      sock.destroy();
      throw new BerthError("unavailable", `keeper ${path}: ${errorMessage(err)}`, { cause: err });
    });
    const k = new Keeper(sock, bundle, path);
    const hello = withTimeout(k.#request(["HELLO"]), HELLO_TIMEOUT_MS, `keeper ${path}: no HELLO`).then((fields) => {
      const said = parseHello(fields);
      if (pid !== undefined && said !== pid) throw new KeeperProtocolError(`HELLO from pid ${said}, not ${pid}`);
      k.pid = said;
    });
    if (pid !== undefined) {
      k.pid = pid;
      hello.catch((err: Error) => k.#fail(err));
      return k;
    }
    try {
      await hello;
    } catch (err) {
      k.close();
      throw err;
    }
    return k;
  }

  /** Sees every RAN (a spawned process exited; see spawn()). */
  onRan(listener: (e: RanEvent) => void): void {
    this.#onRan.push(listener);
  }

  /** Sees every EXIT (a watched process exited; its exit file is written by then). */
  onExit(listener: (e: ExitEvent) => void): void {
    this.#onExit.push(listener);
  }

  /**
   * SPAWN: runs argv[0] (a path) as the keeper's child with `fds` as its 0..n-1. Resolves with the
   * pid it forked and `ran`, which settles with its RAN: by then the keeper has read `pidFile`
   * (a name in the bundle, "" for none) and watches the pid it names as `name`.
   */
  async spawn(
    name: string,
    files: { pidFile: string; exitFile: string },
    argv: readonly string[],
    env: readonly string[],
    fds: readonly number[],
  ): Promise<{ pid: number; ran: Promise<RanEvent> }> {
    keeperName(name);
    for (const f of [files.pidFile, files.exitFile]) if (f !== "") keeperName(f, "file name");
    if (argv.length < 1 || argv.length > MAX_ARGS) throw new BerthError("invalid-argument", `${argv.length} arguments`);
    if (env.length > MAX_ENV) {
      throw new BerthError("invalid-argument", `an environment of ${env.length} variables (at most ${MAX_ENV})`);
    }
    // A name still spawning is in use (the keeper would refuse it too): its waiter stays its own.
    if (this.#ran.has(name)) throw new KeeperRefusedError("SPAWN", "name in use");
    const ran = new Promise<RanEvent>((ok, fail) => this.#ran.set(name, { resolve: ok, reject: fail }));
    ran.catch(() => {});
    const fields = [
      "SPAWN",
      name,
      files.pidFile,
      files.exitFile,
      String(argv.length),
      ...argv,
      String(env.length),
      ...env,
    ];
    try {
      return { pid: parseSpawned(await this.#request(fields, fds)), ran };
    } catch (err) {
      this.#ran.delete(name);
      throw err;
    }
  }

  /** A Launcher that SPAWNs under `name`: what the runtime gets to start the task's processes. */
  launcher(name: string, files: { pidFile: string; exitFile: string }): KeeperLauncher {
    return new KeeperLauncher(this, name, files);
  }

  /** HOLD: the keeper keeps `fds` open until `name` has exited and its copies are drained. */
  async hold(name: string, fds: readonly number[]): Promise<void> {
    await this.#request(["HOLD", keeperName(name)], fds);
  }

  /** COPY: the keeper copies src → dst for `name` (see CopyKind). */
  async copy(name: string, kind: CopyKind, src: number, dst: number): Promise<void> {
    await this.#request(["COPY", keeperName(name), kind], [src, dst]);
  }

  /** RESIZE: the window size of `name`'s terminal. */
  async resize(name: string, rows: number, cols: number): Promise<void> {
    await this.#request(["RESIZE", keeperName(name), String(rows), String(cols)]);
  }

  /** CLOSEIN: ends `name`'s stdin (EOF, or ^D on a terminal). */
  async closeIn(name: string): Promise<void> {
    await this.#request(["CLOSEIN", keeperName(name)]);
  }

  /** LIST: every process the keeper knows, with its state. */
  list(): Promise<ProcRecord[]> {
    return this.#request(["LIST"]) as Promise<unknown> as Promise<ProcRecord[]>;
  }

  /** FORGET: drops `name`'s record, copies and held fds. */
  async forget(name: string): Promise<void> {
    await this.#request(["FORGET", keeperName(name)]);
    // A name forgotten while it was spawning never gets its RAN (one already sent came before
    // this answer): its waiter ends here, so the name can be spawned again.
    const waiter = this.#ran.get(name);
    this.#ran.delete(name);
    waiter?.reject(new BerthError("failed-precondition", `${name}: forgotten before its spawned process exited`));
  }

  /**
   * QUIT: the keeper closes everything and exits. One that does not answer in time is killed.
   * Either way its socket and the bundle's `keeper` file are removed. Resolves whether it answered.
   */
  async quit(): Promise<boolean> {
    let answered = false;
    if (!this.#end) {
      try {
        await withTimeout(this.#request(["QUIT"]), QUIT_TIMEOUT_MS, "no answer to QUIT");
        answered = true;
        this.#end = "quit";
      } catch {
        if (this.pid > 0) killKeeper(this.pid);
      }
      this.#sock.destroy();
    }
    removeKeeperFiles(this.bundle, this.socketPath);
    return answered;
  }

  /** Ends the connection and leaves the keeper running (another shim may connect). */
  close(): void {
    this.#end ??= "dropped";
    this.#sock.destroy();
  }

  #received(fields: string[]): void {
    const m = parseMessage(fields);
    if (this.#listing) {
      if (m.kind !== "proc") throw new KeeperProtocolError(`${fields[0]} among LIST's records`);
      const l = this.#listing;
      l.records.push(m.record);
      if (--l.left === 0) {
        this.#listing = undefined;
        l.request.resolve(l.records);
      }
      return;
    }
    switch (m.kind) {
      case "ok":
      case "err": {
        const p = this.#pending.shift();
        if (!p) throw new KeeperProtocolError(`${fields[0]} with no request waiting`);
        if (m.kind === "err") p.reject(new KeeperRefusedError(p.verb, m.message));
        else if (p.verb !== "LIST") p.resolve(m.fields);
        else {
          // Its records follow at once, before anything else: taken here, in order.
          const left = parseListCount(m.fields);
          if (left === 0) p.resolve([]);
          else this.#listing = { left, records: [], request: p };
        }
        return;
      }
      case "ran": {
        const waiter = this.#ran.get(m.event.name);
        this.#ran.delete(m.event.name);
        waiter?.resolve(m.event);
        for (const l of this.#onRan) l(m.event);
        return;
      }
      case "exit":
        for (const l of this.#onExit) l(m.event);
        return;
      case "proc":
        throw new KeeperProtocolError("PROC outside a LIST");
    }
  }

  /** Ends the connection for a protocol violation: it cannot be trusted to be in step any more. */
  #fail(err: Error): void {
    this.#error ??= err;
    this.#end ??= "lost";
    this.#sock.destroy();
  }

  #request(fields: string[], fds: readonly number[] = []): Promise<string[]> {
    if (this.#end) {
      return Promise.reject(new BerthError("unavailable", `keeper ${this.socketPath}: connection ${this.#end}`));
    }
    if (fds.length > MAX_FDS) {
      return Promise.reject(new BerthError("invalid-argument", `${fields[0]}: ${fds.length} fds (at most ${MAX_FDS})`));
    }
    let data: Buffer;
    try {
      data = encodeFrame(fields);
    } catch (err) {
      return Promise.reject(err);
    }
    const reply = new Promise<string[]>((ok, fail) =>
      this.#pending.push({ verb: fields[0]!, resolve: (v) => ok(v as string[]), reject: fail }),
    );
    this.#queue.push({ data, fds });
    this.#flush();
    return reply;
  }

  /**
   * Sends what is queued, in order, each frame with its fds in one sendmsg (the addon's sendFds: the
   * socket is libuv's, which never writes on it). A socket that cannot take more yet is tried again
   * shortly; the fds went with the first part of a frame, so the rest goes without them.
   */
  #flush(): void {
    if (this.#retry) return;
    const fd = (this.#sock as unknown as { _handle?: { fd: number } })._handle?.fd;
    while (this.#queue.length > 0) {
      const out = this.#queue[0]!;
      if (fd === undefined) {
        this.#fail(new BerthError("unavailable", "keeper connection closed"));
        return;
      }
      try {
        shimSys().sendFds(fd, out.data, [...out.fds]);
        this.#queue.shift();
      } catch (err) {
        const code = errnoCode(err);
        if (code !== "EAGAIN" && code !== "EWOULDBLOCK") {
          this.#fail(new BerthError("unavailable", `keeper ${this.socketPath}: ${errorMessage(err)}`));
          return;
        }
        const sent = Number((err as { sent?: number }).sent ?? 0);
        if (sent > 0) this.#queue[0] = { data: out.data.subarray(sent), fds: [] };
        this.#retry = setTimeout(() => {
          this.#retry = undefined;
          this.#flush();
        }, SEND_RETRY_MS);
        return;
      }
    }
  }
}

/**
 * Runs a task's runtime or nsexec as the keeper's child, under one process name. The keeper may
 * still be starting: launch() waits for it, so the runtime's preparation overlaps its start.
 */
export class KeeperLauncher implements Launcher {
  readonly #keeper: Keeper | Promise<Keeper>;
  readonly name: string;
  readonly #files: { pidFile: string; exitFile: string };
  #ran: Promise<RanEvent> | undefined;

  constructor(keeper: Keeper | Promise<Keeper>, name: string, files: { pidFile: string; exitFile: string }) {
    this.#keeper = keeper;
    this.name = name;
    this.#files = files;
  }

  async launch(argv: readonly string[], env: readonly string[], fds: readonly number[]): Promise<Launched> {
    const s = await (await this.#keeper).spawn(this.name, this.#files, argv, env, fds);
    this.#ran = s.ran;
    return { pid: s.pid, exit: s.ran.then((r) => r.status) };
  }

  /** The RAN of what was launched: its main pid is the process the keeper now watches. */
  ran(): Promise<RanEvent> {
    if (!this.#ran) return Promise.reject(new BerthError("internal", `nothing was launched as ${this.name}`));
    return this.#ran;
  }
}

/** The keeper's socket and the bundle's `keeper` file, once no keeper serves them. */
export function removeKeeperFiles(bundle: Bundle, socketPath: string): void {
  rmSync(socketPath, { force: true });
  rmSync(bundle.keeper, { force: true });
}

/** SIGKILL to `pid` if it is a berth-keeper (a pid that was reused is left alone). */
export function killKeeper(pid: number): boolean {
  try {
    if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "berth-keeper") return false;
    process.kill(pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/** The pids of the berth-keepers keeping `bundleDir` (their fd 3 is it), found through /proc. */
export function keepersOf(bundleDir: string): number[] {
  let dir: string;
  try {
    dir = realpathSync(bundleDir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, "utf8").trim() !== "berth-keeper") continue;
      if (readlinkSync(`/proc/${name}/fd/3`) === dir) pids.push(Number(name));
    } catch {}
  }
  return pids;
}

/** Delays between tries to reap a keeper this process started, once its connection has ended. */
const REAP_DELAYS_MS = [0, 5, 20, 100, 500, 1000];

/**
 * Reaps `pid`, a keeper this process spawned, once it exits: tried at once and then now and
 * again (unreferenced timers: a shim with nothing else to do still exits), every second for as
 * long as it runs (a keeper whose client left keeps its container). Ends when it is reaped here
 * or by the shim's Reaper (ECHILD).
 */
function reapStarted(pid: number, attempt = 0): void {
  try {
    if (shimSys().waitPid(pid) !== null) return;
  } catch {
    return; // ECHILD: reaped already
  }
  const delay = REAP_DELAYS_MS[Math.min(attempt, REAP_DELAYS_MS.length - 1)] ?? 1000;
  setTimeout(() => reapStarted(pid, attempt + 1), delay).unref();
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new BerthError("unavailable", what)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
