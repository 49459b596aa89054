// Clients attached to a container, on berthd's side: an attachment added to the container's
// set (stdio.ts sends the output of a fifo container to it; routes.ts has the others follow the
// log), and an attached client's stdin: kept (bounded) until the task starts, written to the
// stdin fifo, and its end passed on (with StdinOnce; not with a TTY, where it is a detach).
import { type Attachment, MAX_PENDING_STDIN, type TaskStdio } from "./stdio.ts";
import type { ContainerTable } from "./table.ts";

/** Attaches a client to the container's output (and stdin); the detach function. */
export function attachClient(t: ContainerTable, ref: string, a: Attachment): () => void {
  const live = t.find(ref);
  // A new client's stdin: an end seen from an earlier one no longer counts.
  if (a.stdin) live.stdinEnded = false;
  const detach = live.attachments.add(a);
  if (!a.follower) t.events.container(live.record, "attach");
  return detach;
}

/** Bytes from an attached client for the container's stdin (kept, bounded, until it starts). */
export function writeStdin(t: ContainerTable, id: string, data: Buffer): void {
  const live = t.live.get(id);
  if (!live?.record.Config.OpenStdin) return;
  const stdio = live.task?.stdio;
  if (stdio) {
    stdio.writeStdin(data);
    return;
  }
  if (live.pendingStdinBytes + data.length > MAX_PENDING_STDIN) return;
  live.pendingStdin.push(data);
  live.pendingStdinBytes += data.length;
}

/**
 * The attached client ended its stdin: with StdinOnce the process sees EOF, but not with a TTY
 * (as dockerd): there the client going away is a detach (docker's ctrl-p ctrl-q), and the
 * container runs on.
 */
export async function closeStdin(t: ContainerTable, id: string): Promise<void> {
  const live = t.live.get(id);
  if (!live?.record.Config.StdinOnce || live.record.Config.Tty) return;
  const task = live.task;
  if (!task?.stdio || !(await task.started)) {
    live.stdinEnded = true;
    return;
  }
  await endStdin(t, id, task.stdio);
}

/** The process's stdin ended: its fifo closed, and containerd told. */
export async function endStdin(t: ContainerTable, id: string, stdio: TaskStdio): Promise<void> {
  await stdio.fifos.closeStdin();
  await t.conn.tasks.closeStdin(id).catch(() => {});
}
