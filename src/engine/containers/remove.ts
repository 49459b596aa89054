// docker rm: a running container refused without force, killed with it (a pending restart called
// off instead); then, in the container's queue, its task, containerd container and snapshot
// removed, its record and name released, waiters and attachments told. Also the auto-removal of
// a container that exited or failed to start (--rm).
import { FailedPreconditionError, NotFoundError } from "../../common/errors.ts";
import { KILL_WAIT_MS, type Live, within } from "./live.ts";
import { removing } from "./record.ts";
import { cancelRestart } from "./supervision.ts";
import type { ContainerTable } from "./table.ts";

/** DELETE /containers/{id}. */
export async function removeContainer(t: ContainerTable, ref: string, opts: { force: boolean }): Promise<void> {
  const live = t.find(ref);
  if (live.removing) throw new FailedPreconditionError(`removal of container ${ref} is already in progress`);
  if (live.record.State.Running) {
    if (!opts.force) {
      const state = live.record.State.Restarting ? "restarting" : "running";
      throw new FailedPreconditionError(
        `cannot remove container "${live.record.Name}": container is ${state}: stop the container before removing or force remove`,
      );
    }
    // A restarting one has no process: its pending restart is called off instead. A policy's
    // start under way when the restart was called off runs: once it is done, it is killed too.
    for (let i = 0; i < 3 && live.record.State.Running; i++) {
      if (!cancelRestart(t, live)) {
        live.supervision.stopRequested = true;
        const exit = t.nextExit(live);
        await t.signal(live.record.ID, 9);
        await t.thaw(live).catch(() => {});
        await within(exit, KILL_WAIT_MS);
      }
      await t.serial(live, async () => {});
    }
  }
  // An auto-removed container may be gone by now.
  if (!t.live.has(live.record.ID)) return;
  await t.serial(live, () => removeNow(t, live));
}

/** The removal itself, in the container's queue: its task, containerd record and snapshot, its record and name. */
export async function removeNow(t: ContainerTable, live: Live): Promise<void> {
  if (live.removing || !t.live.has(live.record.ID)) return;
  if (live.record.State.Running) {
    throw new FailedPreconditionError(`cannot remove container "${live.record.Name}": container is running`);
  }
  const id = live.record.ID;
  const before = live.record.State;
  live.removing = true;
  clearTimeout(live.supervision.restartTimer);
  live.supervision.health?.stop();
  live.record = { ...live.record, State: removing(before) };
  try {
    await t.conn.tasks.delete(id).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err;
    });
    await t.conn.removeContainer(id).catch((err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err;
    });
  } catch (err) {
    live.removing = false;
    live.record = { ...live.record, State: before };
    throw err;
  }
  t.store.remove(id);
  t.names.release(live.record.Name, id);
  t.live.delete(id);
  t.events.container(live.record, "destroy");
  t.execHooks?.removed(id);
  live.attachments.endAll();
  const code = before.ExitCode;
  for (const w of [...live.exitWaiters, ...live.removeWaiters]) w(code);
  live.exitWaiters.clear();
  live.removeWaiters.clear();
}
