// A container engine as ctr-run's burst sees it: start a detached container, list the running ones,
// remove one, name the processes of its shim side, say what a removal left behind. The ctr stacks
// (berth-containerd, containerd) and podman each implement it; the burst and its tables are written
// once against it.

import type { Memory } from "./host.ts";
import type { TimedRun } from "./spawn.ts";

/**
 * What runs beside containers: `shim` (berth-shim, containerd-shim-runc-v2), `keeper` (berth-keeper,
 * one per berth container), `conmon` (podman's monitor, one per container).
 */
export type Role = "shim" | "keeper" | "conmon";

export interface SideProcess {
  pid: number;
  role: Role;
}

export interface Subject {
  /** "berth", "containerd", "podman", or an --extra-berth name. */
  name: string;
  /** What drives what, e.g. "podman 4.3 → conmon → runc". */
  chain: string;
  /** Starts container `id` detached, running `sleep 3600`. Never rejects. */
  runDetached(id: string): Promise<TimedRun>;
  /** The running containers among `ids`, with their init's pid. */
  running(ids: readonly string[]): Promise<Map<string, number>>;
  /** The processes of the shim side now. */
  side(): SideProcess[];
  /** The daemon's own memory; undefined without a daemon (podman). */
  daemonMemory(): Memory | undefined;
  /** Kills and removes container `id`; the errors it met. */
  remove(id: string): Promise<string[]>;
  /** What of `ids` is still around after their removal; `served`: the side processes that served them. */
  leftovers(ids: readonly string[], served: ReadonlySet<number>): Promise<string[]>;
}
