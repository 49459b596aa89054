// What berthd holds in memory for each container besides its record: its running task, the
// clients waiting for its exit or removal, its attachments, the stdin kept until it starts, the
// queue its operations run in one at a time, and its restart policy's and health check's state.
import type { HealthMonitor } from "./health-monitor.ts";
import type { ContainerRecord } from "./record.ts";
import { Attachments, type TaskStdio } from "./stdio.ts";

export interface RunningTask {
  /** The fifos berthd reads; undefined when the output goes to the logger (or they are lost). */
  stdio: TaskStdio | undefined;
  /** Resolves true once started, false when the start failed. */
  started: Promise<boolean>;
  oom: boolean;
}

export interface Live {
  record: ContainerRecord;
  attachments: Attachments;
  task: RunningTask | undefined;
  /**
   * The exit of this run is being recorded (recordExit took `task`): a reconcile meanwhile leaves
   * the container alone, or an answer about the task it has just deleted would record a second exit.
   */
  exitRecording: boolean;
  exitWaiters: Set<(code: number) => void>;
  removeWaiters: Set<(code: number) => void>;
  removing: boolean;
  pendingStdin: Buffer[];
  pendingStdinBytes: number;
  /** The attached client ended stdin before the task had one: closed once it starts. */
  stdinEnded: boolean;
  /** Operations on one container run one at a time. */
  queue: Promise<unknown>;
  /** The restart policy's back-off and pending restart, and the health check (restart-policy.ts, health.ts). */
  supervision: Supervision;
}

export interface Supervision {
  /** The last back-off wait (0: none yet). */
  backoffMs: number;
  /** A restart the policy has scheduled. */
  restartTimer: NodeJS.Timeout | undefined;
  /** A user stopped or killed this run: its exit is not followed by a restart. */
  stopRequested: boolean;
  health: HealthMonitor | undefined;
}

export function newLive(record: ContainerRecord): Live {
  return {
    record,
    attachments: new Attachments(),
    task: undefined,
    exitRecording: false,
    exitWaiters: new Set(),
    removeWaiters: new Set(),
    removing: false,
    pendingStdin: [],
    pendingStdinBytes: 0,
    stdinEnded: false,
    queue: Promise.resolve(),
    supervision: { backoffMs: 0, restartTimer: undefined, stopRequested: false, health: undefined },
  };
}

/** How long a SIGKILLed container may take to be reported exited. */
export const KILL_WAIT_MS = 30_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether `p` settles within `ms` (undefined: wait for it). */
export async function within(p: Promise<unknown>, ms: number | undefined): Promise<boolean> {
  if (ms === undefined) {
    await p;
    return true;
  }
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p.then(() => true),
    new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms))),
  ]);
  clearTimeout(timer);
  return r;
}
