// A container's exit, recorded once its output is in: the task deleted (containerd and the shim
// answer once its logger has exited), its fifos drained and its fifo logger closed; then the
// restart policy's answer, the record, the "die" event, waiters and attachments, auto-removal.
// And what a starting berthd does with what ran while it was away: records made exits of
// pending restarts, running records reconciled with containerd's tasks (fifos opened again, exits
// found recorded), health checks resumed, containers started by their restart policies.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { FifoSet } from "../../client/fifos.ts";
import { errorMessage, NotFoundError } from "../../common/errors.ts";
import { type Live, type RunningTask, sleep } from "./live.ts";
import { exited, exitPending, pendingExit } from "./record.ts";
import { removeNow } from "./remove.ts";
import { startsOnBoot } from "./restart-policy.ts";
import { startContainer } from "./start.ts";
import { TaskStdio } from "./stdio.ts";
import { exitedOrRestarting, startHealth } from "./supervision.ts";
import type { ContainerTable } from "./table.ts";

/** How long an exited task's output may take to drain into the log before the fifos close. */
const DRAIN_MS = 2_000;
/** The same for an exit found while reconciling (its output is in the pipes already). */
const FOUND_DRAIN_MS = 300;

/**
 * Records that are not running at start-up: a restart that was pending when berthd went away
 * is made an exit with its last code first (the policy decides again, below).
 */
export function stoppedAtBoot(t: ContainerTable): Live[] {
  const out: Live[] = [];
  for (const live of t.live.values()) {
    const s = live.record.State;
    if (s.Restarting) {
      live.record = { ...live.record, State: exited(s, s.ExitCode, new Date(Date.parse(s.FinishedAt)), s.OOMKilled) };
      t.save(live);
    }
    if (!live.record.State.Running) out.push(live);
  }
  return out;
}

/**
 * After reconciling: the health checks of running containers go on, and stopped containers
 * whose policy says so are started (dockerd's restore: always, unless-stopped that no user
 * stopped, on-failure with retries left).
 */
export function resumeSupervision(t: ContainerTable, stopped: Live[]): void {
  for (const live of t.live.values()) {
    const s = live.record.State;
    if (s.Running && !s.Restarting && !live.supervision.health) startHealth(t, live, true);
  }
  for (const live of stopped) {
    const r = live.record;
    if (r.State.Running || r.State.Status === "created") continue;
    const facts = {
      exitCode: r.State.ExitCode,
      manuallyStopped: r.HasBeenManuallyStopped === true,
      restartCount: r.RestartCount,
    };
    if (!startsOnBoot(r.HostConfig.RestartPolicy, facts)) continue;
    void t
      .serial(live, () => startContainer(t, live))
      .catch((err: unknown) =>
        t.log.warn("starting a container by its restart policy failed", { id: r.ID, error: errorMessage(err) }),
      );
  }
}

/** The init process exited: record it, wake waiters, end attachments, auto-remove. */
export async function recordExit(
  t: ContainerTable,
  id: string,
  status: number,
  at: Date | undefined,
  drainMs = DRAIN_MS,
): Promise<void> {
  const live = t.live.get(id);
  const task = live?.task;
  if (!live || !task) return;
  live.task = undefined;
  live.exitRecording = true;
  try {
    await recordTaskExit(t, live, task, status, at, drainMs);
  } finally {
    live.exitRecording = false;
  }
}

async function recordTaskExit(
  t: ContainerTable,
  live: Live,
  task: RunningTask,
  status: number,
  at: Date | undefined,
  drainMs: number,
): Promise<void> {
  const id = live.record.ID;
  if (!(await task.started)) return;
  let code = status;
  let when = at ?? new Date();
  // Kept before the task's delete: once containerd has deleted it (the delete waits for the
  // task's logger), a berthd killed before the record below is saved finds no task at its
  // restart, and this is all that is left of the exit.
  live.record = { ...live.record, State: exitPending(live.record.State, code, when) };
  t.save(live);
  for (let attempt = 0; ; attempt++) {
    try {
      const d = await t.conn.tasks.delete(id);
      code = d.exitStatus;
      if (d.exitedAt && d.exitedAt.getTime() > 0) when = d.exitedAt;
      break;
    } catch (err) {
      if (err instanceof NotFoundError) break;
      if (attempt >= 20) {
        t.log.warn("deleting an exited task failed", { id, error: errorMessage(err) });
        break;
      }
      await sleep(100);
    }
  }
  if (code !== status || when !== at) {
    // The delete's answer is the exit's last word.
    live.record = { ...live.record, State: exitPending(live.record.State, code, when) };
    t.save(live);
  }
  await task.stdio?.close(drainMs);
  t.execHooks?.containerExited(id);
  exitedOrRestarting(t, live, code, when, task.oom, (l) => startContainer(t, l, true));
  t.save(live);
  t.events.container(live.record, "die", { exitCode: String(code) });
  live.attachments.endAll();
  const waiters = [...live.exitWaiters];
  live.exitWaiters.clear();
  for (const w of waiters) w(code);
  if (live.record.HostConfig.AutoRemove && !live.removing) {
    await t
      .serial(live, () => removeNow(t, live))
      .catch((err: unknown) => t.log.warn("auto-removing a container failed", { id, error: errorMessage(err) }));
  }
}

/** Containers running by their records whose tasks may have ended while nobody listened. */
export async function reconcile(t: ContainerTable): Promise<void> {
  // Exits found here are recorded before this returns (so before berthd serves, at start-up);
  // what their pipes still hold is there already, so their output is not waited for long.
  const found: Promise<void>[] = [];
  for (const live of t.live.values()) {
    if (!live.record.State.Running || live.exitRecording) continue;
    const id = live.record.ID;
    const run = live.record.State.StartedAt;
    live.task ??= { stdio: reopenStdio(t, live), started: Promise.resolve(true), oom: false };
    const task = live.task;
    // While containerd answers, the exit's event may come and be recorded (its delete is why the
    // task is gone), or a new run may start: then the answer says nothing of this run's exit.
    const stale = () => live.task !== task || live.exitRecording || live.record.State.StartedAt !== run;
    try {
      const st = await t.conn.tasks.get(id);
      if (stale()) continue;
      if (st.status === "stopped") found.push(recordExit(t, id, st.exitStatus, st.exitedAt, FOUND_DRAIN_MS));
    } catch (err) {
      // No task at all: it ended and was deleted, by a berthd that died before recording the exit
      // (the exit it kept is used) or without berthd (its status is lost: 255, as dockerd says).
      if (!(err instanceof NotFoundError)) throw err;
      if (stale()) continue;
      const kept = pendingExit(live.record.State);
      found.push(recordExit(t, id, kept?.exitCode ?? 255, kept?.at, FOUND_DRAIN_MS));
    }
  }
  await Promise.all(found);
}

/**
 * The stdio of a task that ran on while berthd was away: its fifos (still held by the shim)
 * opened again, so its output goes on into the log and to attached clients, and what the pipes
 * held meanwhile is read.
 */
export function reopenStdio(t: ContainerTable, live: Live): TaskStdio | undefined {
  const id = live.record.ID;
  const dir = readdirSync(t.fifoParent).find((e) => e.startsWith(`${id}-`));
  if (dir === undefined) return undefined;
  try {
    const fifos = FifoSet.reopen(join(t.fifoParent, dir), live.record.Config.Tty);
    return new TaskStdio(fifos, t.fifoLogger(live.record), live.attachments);
  } catch (err) {
    t.log.warn("the fifos of a running container could not be opened again", { id, error: errorMessage(err) });
    return undefined;
  }
}
