// berthd's own berth-containerd, when no --containerd is given: as dockerd runs its containerd.
// Laid out as dockerd lays out its own: --root <data-root>/containerd/daemon, --state
// <exec-root>/containerd/daemon, the socket <exec-root>/containerd/containerd.sock and its pid in
// <exec-root>/containerd/berth-containerd.pid. So it never shares a root with a berth-containerd
// run with its own defaults (/var/lib/berth/containerd): its root lock would refuse one of the
// two, or, run one after the other, one database's tasks would be split across two state dirs.
// Started in a process group of its own. A berth-containerd that a previous berthd started and
// that still runs (berthd was killed) is adopted, not started twice: containers and their shims
// never notice a berthd restart. One that dies is started again after a back-off (0.5 s doubling
// to 15 s, back to 0.5 s once one has run for 30 s). Stopping berthd stops it (SIGTERM, then
// SIGKILL after 10 s); shims and containers outlive it by design.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../../common/atomic-write.ts";
import { BerthError, errorMessage } from "../../common/errors.ts";
import type { DaemonLogger, LogLevel } from "../../common/log.ts";
import { ownDir } from "../../common/secure-fs.ts";
import { Version } from "../../proto/gen/containerd/services/version/v1/version_pb.js";
import { type Client, createClient } from "../../rpc/grpc.ts";
import { isLiveProgram, readPid } from "./pidfile.ts";

export const BACKOFF = { firstMs: 500, maxMs: 15_000, healthyAfterMs: 30_000 } as const;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/**
 * How long berth-containerd keeps the namespace's berth-shim after its last task (--shim-idle-ms):
 * each `docker run` after another then joins a shim whose code is loaded and warm instead of
 * starting a new Node process (~400 ms of a `docker run --rm` on a loaded 2-CPU machine).
 */
const SHIM_IDLE_MS = 10_000;

/** The next wait before a restart: doubled, capped, back to the first after a healthy run. */
export function nextBackoff(previousMs: number | undefined, ranMs: number): number {
  if (previousMs === undefined || ranMs >= BACKOFF.healthyAfterMs) return BACKOFF.firstMs;
  return Math.min(previousMs * 2, BACKOFF.maxMs);
}

/** dist/berth-containerd.mjs beside berthd's bundle, or the repo's dist/ when run from source. */
export function locateCommand(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [join(here, `${name}.mjs`), join(here, "..", "..", "..", "dist", `${name}.mjs`)]) {
    if (existsSync(p)) return p;
  }
  return name;
}

export interface SupervisorOptions {
  dataRoot: string;
  execRoot: string;
  logLevel: LogLevel;
  log: DaemonLogger;
  binary?: string;
}

/** Asks the daemon at `address` for its version; undefined when it does not answer in time. */
export async function containerdVersion(
  address: string,
  timeoutMs = 2_000,
): Promise<{ version: string; revision: string } | undefined> {
  if (!existsSync(address)) return undefined;
  const client = createClient(Version, address, { timeoutMs });
  try {
    const v = await client.version({});
    return { version: v.version, revision: v.revision };
  } catch {
    return undefined;
  } finally {
    client.close();
  }
}

/**
 * The version of the containerd berthd uses, asked over one connection kept for the daemon's life
 * (a fresh connection per /version cost ~6 ms; grpc-js reconnects after a restart by itself).
 */
export class ContainerdVersionProbe {
  readonly #client: Client<typeof Version>;

  constructor(address: string) {
    this.#client = createClient(Version, address);
  }

  async version(timeoutMs = 2_000): Promise<{ version: string; revision: string } | undefined> {
    try {
      const v = await this.#client.version({}, { timeoutMs });
      return { version: v.version, revision: v.revision };
    } catch {
      return undefined;
    }
  }

  close(): void {
    this.#client.close();
  }
}

export class ContainerdSupervisor {
  /** <exec-root>/containerd: the socket and the pid file. */
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly address: string;
  readonly pidfile: string;
  readonly logPath: string;
  readonly #o: SupervisorOptions;
  readonly #binary: string;
  #child: ChildProcess | undefined;
  #adoptedPid: number | undefined;
  #watch: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #backoff: number | undefined;
  #stopping = false;

  constructor(o: SupervisorOptions) {
    this.#o = o;
    this.#binary = o.binary ?? locateCommand("berth-containerd");
    this.dir = join(o.execRoot, "containerd");
    this.root = join(o.dataRoot, "containerd", "daemon");
    this.state = join(this.dir, "daemon");
    this.address = join(this.dir, "containerd.sock");
    this.pidfile = join(this.dir, "berth-containerd.pid");
    this.logPath = join(o.dataRoot, "berth-containerd.log");
  }

  /** The pid of the berth-containerd being supervised. */
  get pid(): number | undefined {
    return this.#child?.pid ?? this.#adoptedPid;
  }

  /** Adopts a live berth-containerd or starts one, and waits until it answers. */
  async start(): Promise<void> {
    ownDir(this.dir, 0o711);
    const held = readPid(this.pidfile);
    if (held !== undefined && isLiveProgram(held, "berth-containerd")) {
      if (await containerdVersion(this.address)) {
        this.#o.log.info("adopting the running berth-containerd", { pid: held, address: this.address });
        this.#adopt(held);
        return;
      }
      // Alive but not answering: it is ours (its pid file says so), and stuck.
      this.#o.log.warn("berth-containerd does not answer: restarting it", { pid: held });
      await stopPid(held);
    }
    await this.#spawn();
  }

  async #spawn(): Promise<void> {
    const log = openSync(this.logPath, "a", 0o600);
    const started = Date.now();
    let child: ChildProcess;
    try {
      child = spawn(
        this.#binary,
        [
          ...["--root", this.root, "--state", this.state, "--address", this.address, "--log-level", this.#o.logLevel],
          // The namespace's shim stays warm between containers (`docker run` after `docker run`).
          ...["--shim-idle-ms", String(SHIM_IDLE_MS)],
          // No spare shim ahead of need: idle, it is a whole Node process (~18 MiB) that only
          // buys the first container after a quiet spell a started shim; berthd's containers
          // share the namespace's shim, which the first one starts.
          "--shim-spare=false",
        ],
        // A process group of its own: a ^C meant for berthd in a terminal does not reach it.
        { stdio: ["ignore", log, log], detached: true },
      );
    } finally {
      closeSync(log);
    }
    this.#child = child;
    const exited = new Promise<string>((resolve) => {
      child.once("error", (err) => resolve(`could not start ${this.#binary}: ${errorMessage(err)}`));
      child.once("exit", (code, signal) => resolve(`exited (${signal ?? code})`));
    });
    child.once("exit", () => {
      if (this.#child === child) this.#child = undefined;
      if (!this.#stopping) this.#scheduleRestart(Date.now() - started);
    });
    if (child.pid !== undefined) writeFileAtomic(this.pidfile, `${child.pid}\n`, { mode: 0o644 });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const outcome = await Promise.race([exited, sleep(100).then(() => undefined)]);
      if (outcome !== undefined) {
        throw new BerthError("unavailable", `berth-containerd ${outcome}; see ${this.logPath}`);
      }
      if (await containerdVersion(this.address, 1_000)) break;
      if (Date.now() > deadline) {
        throw new BerthError("unavailable", `berth-containerd did not answer within 30 s; see ${this.logPath}`);
      }
    }
    this.#o.log.info("berth-containerd started", { pid: child.pid, address: this.address });
  }

  #adopt(pid: number): void {
    this.#adoptedPid = pid;
    // Not our child: no exit event comes. Its going is noticed by polling.
    this.#watch = setInterval(() => {
      if (isLiveProgram(pid, "berth-containerd")) return;
      clearInterval(this.#watch);
      this.#watch = undefined;
      this.#adoptedPid = undefined;
      if (!this.#stopping) this.#scheduleRestart(BACKOFF.healthyAfterMs);
    }, 1_000);
  }

  #scheduleRestart(ranMs: number): void {
    this.#backoff = nextBackoff(this.#backoff, ranMs);
    this.#o.log.warn("berth-containerd is gone: starting it again", { in_ms: this.#backoff });
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopping) return;
      this.#spawn().catch((err) => this.#o.log.error("berth-containerd restart failed", { error: errorMessage(err) }));
    }, this.#backoff);
  }

  /** Stops it (SIGTERM, SIGKILL after 10 s) and removes its pid file. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    clearInterval(this.#watch);
    const pid = this.pid;
    if (pid !== undefined) await stopPid(pid, this.#child);
    this.#child = undefined;
    this.#adoptedPid = undefined;
    rmSync(this.pidfile, { force: true });
  }
}

async function stopPid(pid: number, child?: ChildProcess): Promise<void> {
  const gone = () => (child ? child.exitCode !== null || child.signalCode !== null : !existsSync(`/proc/${pid}`));
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + STOP_GRACE_MS;
  while (!gone() && Date.now() < deadline) await sleep(50);
  if (!gone()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
    while (!gone()) await sleep(20);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
