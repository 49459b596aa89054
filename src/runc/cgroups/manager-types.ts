// The interface both cgroup managers implement.

import type { Resources } from "../config/types.ts";
import type { FreezerState } from "./freezer.ts";
import type { CgroupStats } from "./stats.ts";

export interface CgroupManager {
  readonly version: 1 | 2;
  /** Controller -> absolute directory; v1 keys are controller names, cgroup2's key is "". */
  readonly paths: Readonly<Record<string, string>>;
  /**
   * Makes the directories (v1 cpuset: with cpus/mems copied from the parent; v2: controllers
   * enabled in the ancestors' cgroup.subtree_control), then applies `resources` if given. On any
   * error it removes what it made and rethrows, so a bad value leaves nothing behind.
   */
  create(resources?: Resources): void;
  /** Writes limits; used by create and by `update`. Missing controllers fail only when asked for. */
  set(resources: Resources): void;
  /** The cgroup.procs files a process writes its own pid into to join (one per hierarchy). */
  procsFiles(): string[];
  addProcess(pid: number): void;
  /** Every pid in the cgroup and its sub-cgroups. */
  pids(): number[];
  freeze(): void;
  thaw(): void;
  freezerState(): FreezerState;
  stats(): CgroupStats;
  /** OOM kills so far (v1 memory.oom_control, v2 memory.events "oom_kill"). */
  oomKillCount(): number;
  /** A file whose changes signal memory events (v2 memory.events); undefined on v1. */
  memoryEventsFile(): string | undefined;
  /**
   * rmdir every directory (and sub-cgroups); retries for a few seconds while busy (blocking the
   * thread between tries); fine if already gone.
   */
  destroy(): void;
  /** destroy(), waiting on timers between tries: for a process that serves others meanwhile. */
  destroyAsync(): Promise<void>;
  exists(): boolean;
}
