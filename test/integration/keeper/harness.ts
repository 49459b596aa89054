// Starts dist/berth-keeper as berth-shim will (fd 3 = a bundle directory, fd 4 = a listening unix
// socket) and talks raw frames to it (test/helpers/keeper-frames.ts), fds with SCM_RIGHTS through
// the shim's addon. Each keeper runs in a private temp dir; after the test its session (the keeper
// and everything it spawned that stayed in its process group) is killed.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, constants, openSync, readdirSync, readFileSync, readlinkSync, renameSync } from "node:fs";
import { createServer, connect as netConnect, type Socket } from "node:net";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { shimSys } from "../../../src/common/sys.ts";
import { makeTempDir } from "../../fixtures/busybox.ts";
import { encodeFrame, FrameReader } from "../../helpers/keeper-frames.ts";

/** dist/berth-keeper, or BERTH_KEEPER (a variant built to check that a test fails without a feature). */
export const KEEPER = process.env.BERTH_KEEPER ?? join(import.meta.dirname, "..", "..", "..", "dist", "berth-keeper");

export interface Keeper {
  /** The bundle directory (the keeper's fd 3). */
  dir: string;
  /** The path of the keeper's listening socket. */
  socket: string;
  child: ChildProcess;
  pid: number;
  /** What the keeper wrote to its stderr. */
  stderr: () => string;
  /** Resolves with the keeper's exit code or signal once it is gone. */
  exited: Promise<number | string>;
}

/** Waits until `check` returns a value other than undefined/false, or throws after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Whether a process exists (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

export function ppid(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
}

export async function startKeeper(t: TestContext): Promise<Keeper> {
  const dir = await makeTempDir("berth-keeper-");
  // Listening at one name, then renamed: Node's server unlinks its path when it is closed, and it
  // must be closed so that only the keeper accepts connections.
  const first = join(dir, "listen.sock");
  const socket = join(dir, "k.sock");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(first, resolve));
  const listenFd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  const bundleFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  const child = spawn(KEEPER, [], { stdio: ["ignore", "ignore", "pipe", bundleFd, listenFd] });
  closeSync(bundleFd);
  renameSync(first, socket);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  let err = "";
  child.stderr?.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal ?? "?")),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("berth-keeper did not start");
  t.after(async () => {
    // The keeper's session: it and what it spawned (a test's `sh -c 'sleep &'` stays in it).
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
    await exited;
  });
  return { dir, socket, child, pid, stderr: () => err, exited };
}

const EVENTS = new Set(["RAN", "EXIT"]);

/** One connection to a keeper: frames out (with fds), replies and events in. */
export class KeeperClient {
  readonly sock: Socket;
  /** Replies (OK, ERR, PROC) and events (RAN, EXIT), each in arrival order. */
  readonly replies: string[][] = [];
  readonly events: string[][] = [];
  closed = false;
  /** Called as each event arrives, before anything else runs. */
  onEvent?: (event: string[]) => void;
  #reader = new FrameReader();
  #taken = 0;

  private constructor(sock: Socket) {
    this.sock = sock;
    sock.on("data", (d) => {
      for (const f of this.#reader.push(d)) {
        if (!EVENTS.has(f[0] ?? "")) this.replies.push(f);
        else {
          this.onEvent?.(f);
          this.events.push(f);
        }
      }
    });
    sock.on("close", () => {
      this.closed = true;
    });
    sock.on("error", () => {});
  }

  static async connect(k: Keeper, t?: TestContext): Promise<KeeperClient> {
    const sock = netConnect(k.socket);
    await new Promise<void>((resolve, reject) => {
      sock.once("connect", resolve);
      sock.once("error", reject);
    });
    const c = new KeeperClient(sock);
    t?.after(() => c.sock.destroy());
    return c;
  }

  get fd(): number {
    return (this.sock as unknown as { _handle: { fd: number } })._handle.fd;
  }

  /** Sends bytes as they are, with fds on the first of them. */
  sendRaw(bytes: Uint8Array, fds: number[] = []): void {
    shimSys().sendFds(this.fd, bytes, fds);
  }

  send(fields: string[], fds: number[] = []): void {
    this.sendRaw(encodeFrame(fields), fds);
  }

  /** The next reply not taken yet. */
  async reply(ms = 5000): Promise<string[]> {
    const r = await waitFor("a reply", () => this.replies[this.#taken], ms);
    this.#taken++;
    return r;
  }

  async request(fields: string[], fds: number[] = []): Promise<string[]> {
    this.send(fields, fds);
    return this.reply();
  }

  /** LIST's PROC frames as objects by name. */
  async list(): Promise<Map<string, { pid: number; state: string; status: number; sec: number }>> {
    const [ok, n] = await this.request(["LIST"]);
    if (ok !== "OK") throw new Error(`LIST: ${ok} ${n}`);
    const out = new Map<string, { pid: number; state: string; status: number; sec: number }>();
    for (let i = 0; i < Number(n); i++) {
      const [verb, name, pid, state, status, sec] = await this.reply();
      if (verb !== "PROC" || name === undefined) throw new Error(`LIST: ${verb}`);
      out.set(name, { pid: Number(pid), state: state ?? "", status: Number(status), sec: Number(sec) });
    }
    return out;
  }

  /** Waits for the event `verb` about `name`. */
  event(verb: string, name: string, ms = 5000): Promise<string[]> {
    return waitFor(`${verb} ${name}`, () => this.events.find((e) => e[0] === verb && e[1] === name), ms);
  }
}

/** SPAWN's fields: name, pidfile, exitfile, argv, env. */
export function spawnFrame(
  name: string,
  argv: string[],
  opts: { pidfile?: string; exitfile?: string; env?: string[] } = {},
): string[] {
  const env = opts.env ?? ["PATH=/usr/bin:/bin"];
  return [
    "SPAWN",
    name,
    opts.pidfile ?? "",
    opts.exitfile ?? "",
    String(argv.length),
    ...argv,
    String(env.length),
    ...env,
  ];
}

/** /dev/null opened for reading and writing (a spawn's stdio when the test does not look at it). */
export function devNull(t: TestContext): number {
  const fd = openSync("/dev/null", "r+");
  t.after(() => closeSync(fd));
  return fd;
}

/** Closes the test's own copies of fds after the test (the keeper keeps the ones it was sent). */
export function track<T extends number[]>(t: TestContext, ...fds: T): T {
  t.after(() => {
    for (const fd of fds) {
      try {
        closeSync(fd);
      } catch {}
    }
  });
  return fds;
}

/** What the keeper's fds point at. */
export function keeperFds(k: Keeper): string[] {
  return readdirSync(`/proc/${k.pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${k.pid}/fd/${fd}`);
    } catch {
      return "";
    }
  });
}
