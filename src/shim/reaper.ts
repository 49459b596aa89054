// The shim is the container's parent: PR_SET_CHILD_SUBREAPER makes every process the runtime
// leaves behind (the container's init once `runc create` exits, exec'd processes once `runc exec`
// exits, and their orphans) a child of the shim. libuv reaps only children it spawned itself, so
// on every SIGCHLD the Reaper lists the shim's children and reaps, one pid at a time, each one
// libuv does not own. Every ChildProcess (seen on Node's "child_process" diagnostics channel, so
// mount(8) run by a library counts too) is libuv's and is never taken from it: child_process
// keeps its exit codes.
//
// Claiming an exit: the shim learns a process's pid only from the runtime's pid file, and the
// process may have exited (and been reaped) by then, its pid even taken by another process. So
// the shim calls expect() before the runtime starts the process; from then on every exit the
// reaper collects is numbered and kept until the claim names its pid, and the claim gets the
// first exit of that pid after its mark. An exit before the mark was an earlier process's (pid
// reuse), and one that no open claim can ask for is an orphan's that nobody waits for: those
// are never kept (listeners still see them). Kept exits are bounded without a cap that could
// drop a claimed one: at most one per pid for each claim still open (a spawn in progress).
import type { ChildProcess } from "node:child_process";
import { subscribe } from "node:diagnostics_channel";
import { readdirSync, readFileSync } from "node:fs";
import { shimSys } from "../common/sys.ts";

/** An exit as containerd reports it: a signal death is 128 + the signal. */
export interface ExitStatus {
  pid: number;
  status: number;
  exitedAt: Date;
}

/** The exit of a process the shim is starting; see expect(). */
export interface ExitClaim {
  /** Resolves with the first exit of `pid` reaped after expect(). Called once. */
  wait(pid: number): Promise<ExitStatus>;
  /** The process was not started after all: keep no exits for this claim. */
  cancel(): void;
}

/** An exit with its place in the order the reaper collected them. */
interface Numbered {
  seq: number;
  exit: ExitStatus;
}

/** A claim that named its pid and waits for the exit. */
interface Waiter {
  since: number;
  resolve(e: ExitStatus): void;
}

export class Reaper {
  /** What libuv spawned and will reap itself (the pid is read at reap time: it is set later). */
  readonly #owned = new Set<ChildProcess>();
  /** Number of the last exit collected. */
  #seq = 0;
  /** Claims whose pid is not known yet, each with the last exit number before it opened. */
  readonly #open = new Map<object, number>();
  /** Exits an open claim may still ask for, per pid, oldest first. */
  readonly #kept = new Map<number, Numbered[]>();
  readonly #waiters = new Map<number, Waiter[]>();
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

  /**
   * Call before the runtime starts a process (the process may exit before its pid is known):
   * exits are kept from now until the claim names the pid or is cancelled.
   */
  expect(): ExitClaim {
    const key = {};
    const mark = this.#seq;
    this.#open.set(key, mark);
    return {
      wait: (pid) => {
        if (!this.#open.delete(key)) throw new Error("an exit claim is used once");
        const kept = this.#kept.get(pid);
        const i = kept?.findIndex((n) => n.seq > mark) ?? -1;
        const done = i >= 0 ? kept?.splice(i, 1)[0] : undefined;
        this.#prune();
        if (done) return Promise.resolve(done.exit);
        return new Promise((resolve) => {
          const list = this.#waiters.get(pid) ?? [];
          list.push({ since: mark, resolve });
          this.#waiters.set(pid, list);
          // It may have exited between the runtime writing its pid and this call.
          this.reap();
        });
      },
      cancel: () => {
        if (this.#open.delete(key)) this.#prune();
      },
    };
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
      this.#collected({ pid, status: sig ? 128 + sig : code, exitedAt: new Date() });
    }
  }

  #collected(exit: ExitStatus): void {
    const seq = ++this.#seq;
    for (const l of this.#listeners) l(exit);
    const waiters = this.#waiters.get(exit.pid);
    if (waiters) {
      // The claim that opened first gets the first exit (two only meet on a reused pid).
      const first = waiters.reduce((a, b) => (b.since < a.since ? b : a));
      waiters.splice(waiters.indexOf(first), 1);
      if (waiters.length === 0) this.#waiters.delete(exit.pid);
      first.resolve(exit);
      return;
    }
    if (this.#open.size === 0) return; // an orphan's: nobody can ask for it
    // Keep it unless this pid already has an exit after the newest open claim: an open claim
    // takes the first exit of its pid after its mark, never a later one.
    const newest = Math.max(...this.#open.values());
    const kept = this.#kept.get(exit.pid);
    if (!kept) this.#kept.set(exit.pid, [{ seq, exit }]);
    else if (kept[kept.length - 1]!.seq < newest) kept.push({ seq, exit });
  }

  /** Forgets the kept exits no open claim can ask for (those before the oldest open mark). */
  #prune(): void {
    if (this.#open.size === 0) {
      this.#kept.clear();
      return;
    }
    const oldest = Math.min(...this.#open.values());
    for (const [pid, kept] of this.#kept) {
      const rest = kept.filter((n) => n.seq > oldest);
      if (rest.length === 0) this.#kept.delete(pid);
      else if (rest.length !== kept.length) this.#kept.set(pid, rest);
    }
  }

  /** How many exits are kept for open claims (for tests). */
  get keptCount(): number {
    let n = 0;
    for (const kept of this.#kept.values()) n += kept.length;
    return n;
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
