// Runs the native stage (native/nsexec/) with a plan and speaks its sync protocol: one text line
// per message on a socket shared with the process (see the comment at the top of native/nsexec/main.c).
// nsexec is spawned with child_process, or by a Launcher the caller gives (the shim's keeper, so
// that the container's processes are the keeper's children).
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, realpathSync } from "node:fs";
import { Socket } from "node:net";
import { dirname, join } from "node:path";
import { BerthError, errorMessage } from "../../common/errors.ts";
import { shimSys } from "../../common/sys.ts";
import { encodePlan, type PlanOp } from "../plan/ops.ts";
import type { Launcher } from "./launcher.ts";

/** A step of container setup failed inside the native stage; the message says which. */
export class ContainerSetupError extends BerthError {
  constructor(message: string) {
    super("failed-precondition", message);
  }
}

function locateNsexec(): string {
  const candidates = [
    process.env.BERTH_NSEXEC,
    process.argv[1] ? join(dirname(realpathSync(process.argv[1])), "nsexec") : undefined,
    join(import.meta.dirname, "../../../dist/nsexec"),
    join(import.meta.dirname, "nsexec"),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new BerthError("internal", "native stage nsexec not found (run `npm run build`)");
}

export interface LaunchOptions {
  plan: PlanOp[];
  /** fds 3..3+preserveFds-1 of this process are handed on unchanged. */
  preserveFds: number;
  /** stdio of the container process; default: this process's own. */
  stdio?: [number | "inherit", number | "inherit", number | "inherit"];
  /** Called at a hook point ("createRuntime"); returns the state JSON to pass to in-container hooks. */
  onHook?: (name: string, pid: number) => Promise<string>;
  /**
   * Called when a notify fd is ready for the seccomp agent; returns the container process state
   * JSON that nsexec sends to the agent with it (the fd itself never passes through here).
   */
  onSeccomp?: (pid: number) => Promise<string>;
  /** Starts nsexec instead of child_process; its fds are stdio, the preserved fds, the sync socket. */
  launcher?: Launcher | undefined;
  /**
   * Called with the container process's pid at a sync point right after the clone, before nsexec
   * can exit: a launcher that reads a pid file when nsexec exits (the keeper) needs it written by
   * then. A throw fails the run with its message.
   */
  onPid?: ((pid: number) => void) | undefined;
}

/** The name of the sync point onPid answers at (nsexec says "HOOK <name>" there). */
const PID_SYNC = "pid-recorded";

/** `plan` with a sync point right after the clone (and the parent half's id maps). Pure. */
export function withPidSync(plan: PlanOp[]): PlanOp[] {
  let at = plan.findIndex((o) => o.op === "CLONE");
  if (at < 0) throw new BerthError("internal", "a plan without a clone");
  for (at++; at < plan.length && plan[at]!.op === "IDMAP"; at++) {}
  return [...plan.slice(0, at), { op: "SYNC", args: [PID_SYNC] }, ...plan.slice(at)];
}

/** A one-line answer on the sync socket: "OK <payload>" or "FAIL <message>". */
function answerLine(payload: Promise<string>): Promise<string> {
  return payload.then(
    (p) => `OK ${p}`,
    (e: unknown) => `FAIL ${e instanceof Error ? e.message : String(e)}`,
  );
}

/** nsexec started by a Launcher: the sync socket is one end of a socketpair made here. */
function launchNsexec(
  launcher: Launcher,
  argv: string[],
  fds: number[],
): { sock: Socket; exit: Promise<number>; launched: Promise<void> } {
  const [mine, theirs] = shimSys().socketpair();
  const sock = new Socket({ fd: mine, readable: true, writable: true });
  const started = launcher.launch(argv, [], [...fds, theirs]);
  // The launcher has its own copy once it answered: ours would keep the socket open after nsexec.
  const launched = started.then(
    () => closeSync(theirs),
    (err: unknown) => {
      closeSync(theirs);
      throw new ContainerSetupError(`starting nsexec: ${errorMessage(err)}`);
    },
  );
  launched.catch(() => {});
  // A launch that failed ends the run as an exit would: nothing runs.
  const exit = started.then(
    (l) => l.exit,
    () => 127,
  );
  return { sock, exit, launched };
}

/** One nsexec run. `ready` settles when the process reports READY/EXEC, fails, or exits. */
export class NsexecRun {
  readonly pid: Promise<number>;
  /** READY (create) or EXEC (detached exec). */
  readonly ready: Promise<void>;
  /** nsexec's exit code (in run/exec-wait mode: the container process's status as a shell reports it). */
  readonly exit: Promise<number>;
  private sock: Socket;
  readonly #child: ChildProcess | undefined;

  constructor(opts: LaunchOptions) {
    const extra: number[] = [];
    for (let i = 0; i < opts.preserveFds; i++) extra.push(3 + i);
    const syncIndex = 3 + opts.preserveFds;
    const stdio = opts.stdio ?? ["inherit", "inherit", "inherit"];
    // Encoded before anything is spawned: a plan that cannot be encoded must leave no process behind.
    const encoded = encodePlan(opts.onPid ? withPidSync(opts.plan) : opts.plan);
    const argv = [locateNsexec(), String(syncIndex), String(syncIndex)];
    let launchFailed: Promise<void> | undefined;
    if (opts.launcher) {
      const fds = [...stdio.map((s, i) => (s === "inherit" ? i : s)), ...extra];
      const l = launchNsexec(opts.launcher, argv, fds);
      this.sock = l.sock;
      this.exit = l.exit;
      launchFailed = l.launched;
    } else {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: [...stdio, ...extra, "pipe"], env: {} });
      this.#child = child;
      this.sock = child.stdio[syncIndex] as Socket;
      this.exit = new Promise((res) => {
        child.on("exit", (code, signal) => res(code ?? (signal ? 128 : 1)));
      });
    }
    let resolvePid!: (pid: number) => void;
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    let rejectPid!: (e: Error) => void;
    this.pid = new Promise((res, rej) => {
      resolvePid = res;
      rejectPid = rej;
    });
    this.ready = new Promise((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    // Avoid unhandled-rejection noise when a caller only awaits one of them.
    this.pid.catch(() => {});
    this.ready.catch(() => {});
    let pid = 0;
    let buffered = "";
    let error: string | undefined;
    launchFailed?.catch((err: Error) => {
      error ??= err.message;
    });
    this.sock.setEncoding("utf8");
    this.sock.on("data", (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const sp = line.indexOf(" ");
        const verb = sp < 0 ? line : line.slice(0, sp);
        const rest = sp < 0 ? "" : line.slice(sp + 1);
        if (verb === "PID") {
          pid = Number(rest);
          resolvePid(pid);
        } else if (verb === "READY" || verb === "EXEC") {
          resolveReady();
        } else if (verb === "ERR") {
          error = rest;
          rejectReady(new ContainerSetupError(rest));
          rejectPid(new ContainerSetupError(rest));
        } else if (verb === "HOOK" && rest === PID_SYNC && opts.onPid) {
          let answer = "OK";
          try {
            opts.onPid(pid);
          } catch (e) {
            answer = `FAIL ${errorMessage(e)}`;
          }
          this.sock.write(`${answer.replaceAll("\n", " ")}\n`);
        } else if (verb === "HOOK" || verb === "SECCOMP") {
          const payload =
            verb === "HOOK"
              ? (opts.onHook?.(rest, pid) ?? Promise.resolve("{}"))
              : (opts.onSeccomp?.(pid) ?? Promise.reject(new Error("no state for the seccomp agent")));
          void answerLine(payload).then((a) => this.sock.write(`${a.replaceAll("\n", " ").trimEnd()}\n`));
        }
      }
    });
    this.sock.on("error", () => {});
    const closed = new Promise<void>((res) => this.sock.once("close", () => res()));
    this.sock.write(encoded);
    void this.exit.then(async (code) => {
      // The ERR line may still be in flight when the exit is seen: once every holder of the
      // socket is gone it has been read (or there was none).
      // After a clean exit the READY/EXEC line is already buffered: give it the moment to be read.
      const settled =
        code === 0
          ? this.ready.then(
              () => {},
              () => {},
            )
          : closed;
      // A referenced timer: with an unreferenced one, a process with nothing else to wait for
      // (the CLI) exited here with its create still pending.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled, new Promise((r) => (timer = setTimeout(r, 1000)))]);
      clearTimeout(timer);
      const why = error ?? `container setup ended early (exit status ${code})`;
      rejectReady(new ContainerSetupError(why));
      rejectPid(new ContainerSetupError(why));
    });
  }

  /** Stop listening: the process (or its child) may keep its end until it execs. */
  detach(): void {
    this.sock.destroy();
    this.#child?.unref();
  }
}
