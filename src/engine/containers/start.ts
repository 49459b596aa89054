// docker start: a task made for the container's snapshot, its output to its logger or through
// fifos berthd reads (task-output.ts), started; the record says so, the health check begins and
// stdin kept meanwhile is written. A start that fails leaves the container exited with the
// error (and removes an auto-removed one, as dockerd).
import { FifoSet } from "../../client/fifos.ts";
import { BerthError, errorMessage, FailedPreconditionError } from "../../common/errors.ts";
import { ApiError } from "../api/api-errors.ts";
import type { Live, RunningTask } from "./live.ts";
import { started, startFailed } from "./record.ts";
import { removeNow } from "./remove.ts";
import { TaskStdio } from "./stdio.ts";
import { endStdin } from "./streams.ts";
import { startHealth } from "./supervision.ts";
import type { ContainerTable } from "./table.ts";
import { loggerIo, outputThroughFifos } from "./task-output.ts";

/** `byPolicy`: the restart policy's start of a restarting container (a user's start resets the count). */
export async function startContainer(t: ContainerTable, live: Live, byPolicy = false): Promise<void> {
  if (live.removing)
    throw new FailedPreconditionError(`container ${live.record.ID} is marked for removal and cannot be started`);
  if ((live.record.State.Running && !(byPolicy && live.record.State.Restarting)) || live.task)
    throw new ApiError(304, "container already started", "failed-precondition");
  live.supervision.stopRequested = false;
  if (!byPolicy) {
    live.supervision.backoffMs = 0;
    live.record = { ...live.record, RestartCount: 0, HasBeenManuallyStopped: false };
  }
  const r = live.record;
  // Output straight to the logger (task-output.ts), or through fifos berthd reads.
  const fifos = outputThroughFifos(r)
    ? await FifoSet.create(t.fifoParent, r.ID, { stdin: r.Config.OpenStdin, terminal: r.Config.Tty })
    : undefined;
  const stdio = fifos ? new TaskStdio(fifos, t.fifoLogger(r), live.attachments) : undefined;
  let markStarted!: (ok: boolean) => void;
  const task: RunningTask = { stdio, started: new Promise((res) => (markStarted = res)), oom: false };
  live.task = task;
  for (const b of live.pendingStdin) stdio?.writeStdin(b);
  live.pendingStdin = [];
  live.pendingStdinBytes = 0;
  try {
    const io = fifos ? fifos.io : loggerIo(r);
    const rootfs = await t.conn.snapshots().mounts(r.ID);
    const { pid } = await t.conn.tasks.create({ containerId: r.ID, rootfs, io });
    await t.conn.tasks.start(r.ID);
    live.record = { ...live.record, State: started(live.record.State, pid, new Date()) };
    startHealth(t, live);
    t.save(live);
    t.events.container(live.record, "start");
    markStarted(true);
    if (live.stdinEnded && stdio) {
      live.stdinEnded = false;
      await endStdin(t, live.record.ID, stdio);
    }
  } catch (err) {
    if (live.task === task) live.task = undefined;
    markStarted(false);
    await t.conn.tasks.delete(r.ID).catch(() => {});
    await stdio?.close(0);
    live.record = { ...live.record, State: startFailed(live.record.State, errorMessage(err), new Date()) };
    t.save(live);
    live.attachments.endAll();
    // As dockerd: an auto-removed container that cannot start goes (`docker run --rm` waits for it).
    if (live.record.HostConfig.AutoRemove) {
      void t
        .serial(live, () => removeNow(t, live))
        .catch((e: unknown) =>
          t.log.warn("removing a container that failed to start failed", { id: r.ID, error: errorMessage(e) }),
        );
    }
    throw err instanceof BerthError && err.kind !== "not-found"
      ? err
      : new BerthError("internal", `failed to start container ${r.ID}: ${errorMessage(err)}`);
  }
}
