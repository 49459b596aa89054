// berthd's exec: create (checked against the container's state, kept in the bounded ExecStore),
// start (the process built from the container's spec, run with containerd's task Exec, its stdio
// through fifos in <exec-root>/execs/ copied to the client's hijacked connection), resize and
// inspect. Exits come from the containers' event subscription (ContainerManager's ExecHooks): the
// exit code is recorded first, then the output is drained (2 s at most) and the client's
// connection ended, so a client that inspects once its stream ends (docker CLI) reads the code.
import { randomBytes } from "node:crypto";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import type { ContainerdConnection } from "../../client/connection.ts";
import { FifoSet } from "../../client/fifos.ts";
import { errorMessage, FailedPreconditionError, NotFoundError } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { makeDir } from "../../common/secure-fs.ts";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "../containers/detach-keys.ts";
import type { ContainerManager, ExecHooks } from "../containers/manager.ts";
import type { ContainerRecord } from "../containers/record.ts";
import { allCapabilities } from "../containers/spec/capabilities.ts";
import { workingDir } from "../containers/spec/process.ts";
import { readBounded } from "../containers/store.ts";
import { type EngineEvents, NO_EVENTS } from "../events/emit.ts";
import { execAction } from "../events/event.ts";
import { decodeExecConfig, type ExecStartCheck } from "./decode.ts";
import { execProcess, heldCapabilities } from "./process.ts";
import { type ExecRecord, inspectExec } from "./record.ts";
import { ExecStore } from "./store.ts";
import { type ExecClient, errorBytes, pumpInput, pumpOutput } from "./streams.ts";
import { resolveExecUser } from "./user.ts";

/** How long an exited exec's output may take to drain before its client's stream ends (dockerd's). */
const DRAIN_MS = 2_000;
/** How long a resize waits for the exec to start (dockerd's). */
const RESIZE_WAIT_MS = 10_000;
/** How long execs may take to report their exits after their container's (then they count as killed). */
const CONTAINER_EXIT_GRACE_MS = 2_000;
/** dockerd's exit code for an exec whose start failed. */
const START_FAILED = 126;
/** 128 + SIGKILL: what the kernel does to a container's processes when its init is gone. */
const KILLED = 137;

export interface ExecServiceOptions {
  conn: ContainerdConnection;
  containers: ContainerManager;
  execRoot: string;
  log: DaemonLogger;
  /** Where exec_create, exec_start and exec_die go (GET /events); none: nowhere. */
  events?: EngineEvents;
}

/** A started exec's moving parts. */
interface Session {
  record: ExecRecord;
  fifos: FifoSet;
  client: ExecClient | undefined;
  /** Resolves true once started, false when the start failed. */
  started: Promise<boolean>;
  drained: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class ExecService {
  readonly #conn: ContainerdConnection;
  readonly #containers: ContainerManager;
  readonly #log: DaemonLogger;
  readonly #store = new ExecStore();
  readonly #sessions = new Map<string, Session>();
  readonly #fifoParent: string;
  readonly #events: EngineEvents;
  #allCaps: string[] | undefined;

  constructor(opts: ExecServiceOptions) {
    this.#conn = opts.conn;
    this.#containers = opts.containers;
    this.#log = opts.log;
    this.#events = opts.events ?? NO_EVENTS;
    this.#fifoParent = join(opts.execRoot, "execs");
    makeDir(this.#fifoParent, 0o700);
    // Exec sessions do not outlive berthd (as dockerd's): fifos an earlier run left are stale.
    for (const e of readdirSync(this.#fifoParent)) rmSync(join(this.#fifoParent, e), { recursive: true, force: true });
  }

  /** An exec event on its container (gone already: none), with the exec's id, as dockerd's. */
  #event(r: ExecRecord, action: string, extra: Record<string, string> = {}): void {
    let c: ContainerRecord;
    try {
      c = this.#containers.get(r.ContainerID);
    } catch {
      return;
    }
    this.#events.container(c, action, { execID: r.ID, ...extra });
  }

  /** The hooks ContainerManager calls. */
  hooks(): ExecHooks {
    return {
      exit: (cid, execId, status, at) => void this.#onExit(cid, execId, status, at),
      containerExited: (cid) => void this.#containerExited(cid),
      removed: (cid) => this.#removed(cid),
      live: () => this.#reconcile(),
    };
  }

  /** POST /containers/{id}/exec. */
  create(ref: string, body: unknown): { Id: string } {
    const config = decodeExecConfig(body);
    if (config.DetachKeys !== "") parseDetachKeys(config.DetachKeys);
    if (config.WorkingDir !== "") workingDir(config.WorkingDir, {});
    const c = this.#containers.get(ref);
    runnable(c, ref);
    if (config.User === "") config.User = c.Config.User;
    const record: ExecRecord = {
      ID: randomBytes(32).toString("hex"),
      ContainerID: c.ID,
      config,
      started: false,
      Running: false,
      ExitCode: null,
      Pid: 0,
    };
    this.#store.add(record);
    this.#event(record, execAction("exec_create", config.Cmd[0] ?? "", config.Cmd.slice(1)));
    return { Id: record.ID };
  }

  /** GET /exec/{id}/json. */
  inspect(id: string): Record<string, unknown> {
    return inspectExec(this.#store.get(id));
  }

  /** What start checks before the client's connection is taken over (dockerd's ExecExists). */
  checkStart(id: string): void {
    const r = this.#store.get(id);
    runnable(this.#containers.get(r.ContainerID));
  }

  /**
   * POST /exec/{id}/start: runs the exec; with `socket` its stdio is the client's until it exits.
   * Resolves once the process has started (the session goes on without the caller).
   */
  async start(id: string, opts: ExecStartCheck, socket: Duplex | undefined): Promise<void> {
    const r = this.#store.get(id);
    if (r.ExitCode !== null) throw new FailedPreconditionError(`Error: Exec command ${id} has already run`);
    if (r.started) throw new FailedPreconditionError(`Error: Exec command ${id} is already running`);
    r.started = true;
    r.Running = true;
    let markStarted!: (ok: boolean) => void;
    const started = new Promise<boolean>((res) => (markStarted = res));
    let fifos: FifoSet | undefined;
    let added = false;
    try {
      const c = this.#containers.get(r.ContainerID);
      runnable(c);
      const spec = (await this.#conn.containers.get(c.ID)).spec as { process?: unknown } | undefined;
      const user =
        r.config.User === ""
          ? undefined
          : await resolveExecUser(this.#conn, c.ID, r.config.User, c.HostConfig.GroupAdd);
      const proc = execProcess({
        base: spec?.process,
        exec: r.config,
        containerEnv: c.Config.Env,
        hostname: c.Config.Hostname,
        user,
        allCapabilities: this.#privilegedCaps(),
        consoleSize: opts.ConsoleSize ?? r.config.ConsoleSize,
      });
      fifos = await FifoSet.create(this.#fifoParent, id, { stdin: r.config.AttachStdin, terminal: r.config.Tty });
      const client: ExecClient | undefined = socket && {
        socket,
        raw: opts.Tty,
        stdout: r.config.AttachStdout,
        stderr: r.config.AttachStderr,
      };
      const session: Session = { record: r, fifos, client, started, drained: pumpOutput(fifos, client) };
      this.#sessions.set(id, session);
      if (socket) this.#wireInput(session, socket);
      added = true;
      await this.#conn.tasks.exec({ containerId: c.ID, execId: id, process: proc, io: fifos.io });
      r.Pid = await this.#conn.tasks.start(c.ID, id);
      this.#event(r, execAction("exec_start", r.config.Cmd[0] ?? "", r.config.Cmd.slice(1)));
      markStarted(true);
    } catch (err) {
      r.Running = false;
      r.ExitCode = START_FAILED;
      markStarted(false);
      this.#sessions.delete(id);
      if (added) await this.#conn.tasks.deleteProcess(r.ContainerID, id).catch(() => {});
      await fifos?.close();
      throw err;
    }
  }

  /** POST /exec/{id}/start of an attached client: an error of the start goes to it as output. */
  async startAttached(id: string, opts: ExecStartCheck, socket: Duplex): Promise<void> {
    try {
      await this.start(id, opts, socket);
    } catch (err) {
      if (!socket.destroyed) socket.end(errorBytes(errorMessage(err), opts.Tty));
      this.#log.warn("an exec failed to start", { id, error: errorMessage(err) });
    }
  }

  /** POST /exec/{id}/resize: once the exec has started (waited for, as dockerd waits, 10 s). */
  async resize(id: string, height: number, width: number): Promise<void> {
    const r = this.#store.get(id);
    const deadline = Date.now() + RESIZE_WAIT_MS;
    while (r.Pid === 0 && r.ExitCode === null) {
      if (Date.now() > deadline) throw new FailedPreconditionError("timeout waiting for exec session ready");
      await sleep(50);
    }
    if (r.ExitCode !== null) throw new FailedPreconditionError(`Exec ${id} is not running`);
    await this.#conn.tasks.resizePty(r.ContainerID, { width, height }, id);
  }

  #wireInput(s: Session, socket: Duplex): void {
    const r = s.record;
    const stdin = s.fifos.stdin;
    if (!r.config.AttachStdin || !stdin) {
      socket.resume();
      return;
    }
    const keys = parseDetachKeys(r.config.DetachKeys || DEFAULT_DETACH_KEYS);
    pumpInput(socket, keys, {
      data: (b) => {
        if (!stdin.writableEnded && !stdin.destroyed) stdin.write(b);
      },
      end: () => {
        // As dockerd: without a TTY the process reads EOF; with one, the client's attach ends.
        if (r.config.Tty) socket.end();
        else void this.#closeStdin(s);
      },
      detach: () => socket.end(),
    });
  }

  async #closeStdin(s: Session): Promise<void> {
    if (!(await s.started)) return;
    await s.fifos.closeStdin();
    await this.#conn.tasks.closeStdin(s.record.ContainerID, s.record.ID).catch(() => {});
  }

  /** An exec's process exited: the code recorded, the output drained, the client's stream ended. */
  async #onExit(containerId: string, execId: string, status: number, _at: Date | undefined): Promise<void> {
    const s = this.#sessions.get(execId);
    if (!s || s.record.ContainerID !== containerId) return;
    this.#sessions.delete(execId);
    if (!(await s.started)) return;
    s.record.ExitCode = status;
    s.record.Running = false;
    this.#event(s.record, "exec_die", { exitCode: String(status) });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([s.drained, new Promise<void>((res) => (timer = setTimeout(res, DRAIN_MS)))]);
    clearTimeout(timer);
    // The fifos go before the client's stream ends: once a client has seen the end, nothing of the
    // exec is left but its record.
    await s.fifos.close();
    if (s.client && !s.client.socket.destroyed) s.client.socket.end();
    await this.#conn.tasks.deleteProcess(containerId, execId).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) {
        this.#log.warn("deleting an exited exec failed", { id: execId, error: errorMessage(err) });
      }
    });
  }

  /** The container's init exited: its execs die with it; one not reported by then counts as killed. */
  async #containerExited(containerId: string): Promise<void> {
    await sleep(CONTAINER_EXIT_GRACE_MS);
    for (const s of [...this.#sessions.values()]) {
      if (s.record.ContainerID === containerId) await this.#onExit(containerId, s.record.ID, KILLED, undefined);
    }
  }

  #removed(containerId: string): void {
    for (const r of this.#store.removeContainer(containerId)) {
      const s = this.#sessions.get(r.ID);
      if (!s) continue;
      this.#sessions.delete(r.ID);
      s.client?.socket.end();
      void s.fifos.close();
    }
  }

  /** After the event stream broke: execs that exited meanwhile are found through their state. */
  async #reconcile(): Promise<void> {
    for (const s of [...this.#sessions.values()]) {
      if (!(await s.started)) continue;
      const r = s.record;
      try {
        const st = await this.#conn.tasks.get(r.ContainerID, r.ID);
        if (st.status === "stopped") void this.#onExit(r.ContainerID, r.ID, st.exitStatus, st.exitedAt);
      } catch (err) {
        if (err instanceof NotFoundError) void this.#onExit(r.ContainerID, r.ID, KILLED, undefined);
      }
    }
  }

  /** Every capability of the kernel the daemon holds (what --privileged gives), read once. */
  #privilegedCaps(): string[] {
    if (this.#allCaps === undefined) {
      const read = (path: string) => {
        try {
          return readBounded(path, 64 * 1024);
        } catch {
          return "";
        }
      };
      const last = Number(read("/proc/sys/kernel/cap_last_cap").trim());
      const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(read("/proc/self/status"))?.[1];
      this.#allCaps = heldCapabilities(allCapabilities(Number.isInteger(last) && last > 0 ? last : 40), bnd);
    }
    return this.#allCaps;
  }
}

/**
 * dockerd's refusals of an exec in a container that is not running. A paused one is named as the
 * request named it (`given`: create's path; start has only the id), the others by id, as dockerd does.
 */
function runnable(c: ContainerRecord, given = c.ID): void {
  if (!c.State.Running) throw new FailedPreconditionError(`Container ${c.ID} is not running`);
  if (c.State.Paused) {
    throw new FailedPreconditionError(`Container ${given} is paused, unpause the container before exec`);
  }
  if (c.State.Restarting) {
    throw new FailedPreconditionError(`Container ${c.ID} is restarting, wait until the container is running`);
  }
}
