// The shim is the container's parent: PR_SET_CHILD_SUBREAPER makes every process the runtime
// leaves behind (the container's init once `runc create` exits, exec'd processes once `runc exec`
// exits, and their orphans) a child of the shim. libuv reaps only children it spawned itself, so
// on every SIGCHLD the Reaper lists the shim's children and reaps, one pid at a time, each one
// libuv does not own. Every ChildProcess (seen on Node's "child_process" diagnostics channel, so
// mount(8) run by a library counts too) is libuv's and is never taken from it: child_process
// keeps its exit codes.
import type { ChildProcess } from "node:child_process";
import { subscribe } from "node:diagnostics_channel";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { shimSys } from "./sys.ts";

/** An exit as containerd reports it: a signal death is 128 + the signal. */
export interface ExitStatus {
  pid: number;
  status: number;
  exitedAt: Date;
}

export class Reaper {
  /** What libuv spawned and will reap itself (the pid is read at reap time: it is set later). */
  readonly #owned = new Set<ChildProcess>();
  /** Exits nobody asked for yet (a process may exit before its pid file is read). */
  readonly #unclaimed = new Map<number, ExitStatus>();
  readonly #waiters = new Map<number, Array<(e: ExitStatus) => void>>();
  #listeners: Array<(e: ExitStatus) => void> = [];

  start(): void {
    shimSys().setChildSubreaper();
    subscribe("child_process", (message) => {
      const child = (message as { process: ChildProcess }).process;
      this.#owned.add(child);
      child.once("exit", () => this.#owned.delete(child));
      child.once("error", () => this.#owned.delete(child));
    });
    process.on("SIGCHLD", () => this.reap());
  }

  /** Resolves when `pid` (a reparented process) has been reaped. */
  wait(pid: number): Promise<ExitStatus> {
    const done = this.#unclaimed.get(pid);
    if (done) {
      this.#unclaimed.delete(pid);
      // A reaped process is gone from /proc; if the pid is alive again, that exit was an
      // earlier process's (an orphan whose pid was reused), not this one's.
      if (!existsSync(`/proc/${pid}`)) return Promise.resolve(done);
    }
    return new Promise((resolve) => {
      const list = this.#waiters.get(pid) ?? [];
      list.push(resolve);
      this.#waiters.set(pid, list);
      // It may have exited between the runtime writing its pid and this call.
      this.reap();
    });
  }

  /** Sees every exit the reaper collects (orphans included). */
  onExit(listener: (e: ExitStatus) => void): void {
    this.#listeners.push(listener);
  }

  /** Reaps every exited child that libuv does not own. */
  reap(): void {
    const owned = new Set<number | undefined>([...this.#owned].map((c) => c.pid));
    for (const pid of childrenOf(process.pid)) {
      if (owned.has(pid)) continue;
      let r: [number, number] | null;
      try {
        r = shimSys().waitPid(pid);
      } catch {
        continue; // already reaped (ECHILD): libuv's, or a race with an earlier pass
      }
      if (!r) continue;
      const [code, sig] = r;
      const exit: ExitStatus = { pid, status: sig ? 128 + sig : code, exitedAt: new Date() };
      for (const l of this.#listeners) l(exit);
      const waiters = this.#waiters.get(pid);
      if (waiters) {
        this.#waiters.delete(pid);
        for (const w of waiters) w(exit);
      } else {
        this.#unclaimed.set(pid, exit);
        // Orphans of the container nobody asks for: keep only the recent ones.
        if (this.#unclaimed.size > 1024) this.#unclaimed.delete(this.#unclaimed.keys().next().value as number);
      }
    }
  }
}

/** The children of every thread of `pid` (reparented orphans may hang off any thread). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8");
    } catch {
      continue;
    }
    for (const s of text.split(" ")) if (s.trim()) out.push(Number(s));
  }
  return out;
}
