// The lifecycle verbs on a container that exists: stop (its stop signal, SIGKILL after the
// timeout; a paused one thawed first), kill (a signal; SIGKILL waits for the exit), restart (stop
// then start), pause and unpause (the cgroup freezer). Each runs in the container's queue; a
// user's stop or kill ends the restart policy for the run (supervision.ts).
import { signalNumber } from "../../client/tasks.ts";
import { BerthError, FailedPreconditionError, InvalidArgumentError } from "../../common/errors.ts";
import { ApiError } from "../api/api-errors.ts";
import { KILL_WAIT_MS, type Live, within } from "./live.ts";
import { paused } from "./record.ts";
import { killEndsPolicy } from "./restart-policy.ts";
import { startContainer } from "./start.ts";
import { cancelRestart, manuallyStopped } from "./supervision.ts";
import type { ContainerTable } from "./table.ts";

/** POST /containers/{id}/stop: the stop signal, SIGKILL after the timeout; 304 when not running. */
export function stopContainer(
  t: ContainerTable,
  ref: string,
  opts: { timeout?: number; signal?: string } = {},
): Promise<void> {
  const live = t.find(ref);
  return t.serial(live, () => stopRunning(t, live, opts));
}

/** The stop itself, in the container's queue (stop and restart). */
async function stopRunning(t: ContainerTable, live: Live, opts: { timeout?: number; signal?: string }): Promise<void> {
  const r = live.record;
  if (!r.State.Running) throw new ApiError(304, "container already stopped", "failed-precondition");
  // A stop ends the restart policy for this run (and a pending restart at once).
  if (cancelRestart(t, live)) {
    t.events.container(live.record, "stop");
    return;
  }
  manuallyStopped(t, live, true);
  const signal = signalNumber(opts.signal || r.Config.StopSignal || "SIGTERM");
  const timeout = opts.timeout ?? r.Config.StopTimeout ?? 10;
  const exit = t.nextExit(live);
  // A frozen process acts on no signal: thawed first, as a paused container is stopped.
  await t.thaw(live);
  await t.signal(r.ID, signal);
  if (!(await within(exit, timeout < 0 ? undefined : timeout * 1000))) {
    await t.signal(r.ID, 9);
    if (!(await within(exit, KILL_WAIT_MS))) {
      throw new BerthError("internal", `container ${r.ID} did not exit ${KILL_WAIT_MS / 1000} s after SIGKILL`);
    }
  }
  t.events.container(live.record, "stop");
}

/** POST /containers/{id}/kill. */
export function killContainer(t: ContainerTable, ref: string, signal: string | null): Promise<void> {
  const live = t.find(ref);
  let n: number;
  try {
    n = signalNumber(signal || "SIGKILL");
  } catch {
    throw new InvalidArgumentError(`Invalid signal: ${signal}`);
  }
  return t.serial(live, async () => {
    const r = live.record;
    if (!r.State.Running) {
      throw new FailedPreconditionError(`Cannot kill container: ${ref}: Container ${r.ID} is not running`);
    }
    if (cancelRestart(t, live)) return;
    let stopSignal: number | undefined;
    try {
      stopSignal = r.Config.StopSignal ? signalNumber(r.Config.StopSignal) : undefined;
    } catch {}
    manuallyStopped(t, live, killEndsPolicy(n, stopSignal));
    const exit = n === 9 ? t.nextExit(live) : undefined;
    await t.signal(r.ID, n);
    // SIGKILL reaches a frozen process once it is thawed.
    if (n === 9) await t.thaw(live);
    if (exit) await within(exit, KILL_WAIT_MS);
  });
}

/** POST /containers/{id}/restart. */
export function restartContainer(
  t: ContainerTable,
  ref: string,
  opts: { timeout?: number; signal?: string } = {},
): Promise<void> {
  const live = t.find(ref);
  return t.serial(live, async () => {
    if (live.record.State.Running) await stopRunning(t, live, opts);
    await startContainer(t, live);
    t.events.container(live.record, "restart");
  });
}

/** POST /containers/{id}/pause: the task frozen (cgroup freezer). */
export function pauseContainer(t: ContainerTable, ref: string): Promise<void> {
  const live = t.find(ref);
  return t.serial(live, async () => {
    const r = live.record;
    if (!r.State.Running) throw new FailedPreconditionError(`Container ${r.ID} is not running`);
    if (r.State.Restarting) {
      throw new FailedPreconditionError(`Container ${r.ID} is restarting, wait until the container is running`);
    }
    if (r.State.Paused) throw new FailedPreconditionError(`Container ${r.ID} is already paused`);
    await t.conn.tasks.pause(r.ID);
    live.record = { ...live.record, State: paused(live.record.State, true) };
    t.save(live);
    t.events.container(live.record, "pause");
  });
}

/** POST /containers/{id}/unpause. */
export function unpauseContainer(t: ContainerTable, ref: string): Promise<void> {
  const live = t.find(ref);
  return t.serial(live, async () => {
    const r = live.record;
    if (!r.State.Paused) throw new FailedPreconditionError(`Container ${r.ID} is not paused`);
    await t.thaw(live);
    t.events.container(live.record, "unpause");
  });
}
