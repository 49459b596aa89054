// The shim is still a subreaper, for what it parents itself: the keepers (native/berth-keeper)
// are the containers' parents and reap them, but a keeper that dies hands its children (the
// container's init, until the shim's kill lands) to the shim. libuv reaps only children it spawned
// itself (the keepers, runtime binaries, mount(8)), so on every SIGCHLD the Reaper lists the
// shim's children and reaps, one pid at a time, each one libuv does not own. Every ChildProcess
// (seen on Node's "child_process" diagnostics channel, so mount(8) run by a library counts too) is
// libuv's and is never taken from it: child_process keeps its exit codes. Nobody waits for the
// exits reaped here (the keeper reports its container's), so none is kept; listeners see them.
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

export class Reaper {
  /** What libuv spawned and will reap itself (the pid is read at reap time: it is set later). */
  readonly #owned = new Set<ChildProcess>();
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

  /** Sees every exit the reaper collects. */
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
      const exit = { pid, status: sig ? 128 + sig : code, exitedAt: new Date() };
      for (const l of this.#listeners) l(exit);
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
