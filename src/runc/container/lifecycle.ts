// start, state, kill, delete, pause, resume, ps: operations on a container that exists.
import { closeSync, constants, existsSync, openSync, readSync, rmSync } from "node:fs";
import { FailedPreconditionError, InvalidArgumentError } from "../../common/errors.ts";
import type { TraceContext } from "../../rpc/trace.ts";
import type { Resources, State, Status } from "../config/types.ts";
import { cgroupsOf } from "./cgroups.ts";
import { ociState } from "./create.ts";
import { runHooks } from "./hooks.ts";
import { isSameLiveProcess, sleep } from "./proc.ts";
import { signalNumber } from "./signals.ts";
import type { RuncContainerState, StateStore } from "./state-store.ts";

export function statusOf(store: StateStore, rec: RuncContainerState): Status {
  if (rec.pid <= 0 || !isSameLiveProcess(rec.pid, rec.initStartTime)) return "stopped";
  if (rec.creating) return "creating";
  if (existsSync(store.execFifo(rec.id))) return "created";
  const cg = cgroupsOf(rec);
  if (cg.exists() && cg.freezerState() === "frozen") return "paused";
  return "running";
}

export function containerState(store: StateStore, id: string): State {
  const rec = store.load(id);
  return ociState(rec, statusOf(store, rec));
}

/** Open the exec fifo: the blocked init writes one byte and goes on to execve. */
export async function startContainer(store: StateStore, id: string, trace?: TraceContext): Promise<void> {
  const rec = store.load(id);
  const status = statusOf(store, rec);
  if (status === "stopped") throw new FailedPreconditionError("cannot start a container that has stopped");
  if (status === "creating") throw new FailedPreconditionError("cannot start a container that is still being created");
  if (status !== "created") throw new FailedPreconditionError(`cannot start an already running container`);
  const fifo = store.execFifo(id);
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(1);
    const readByte = (): boolean => {
      try {
        return readSync(fd, buf, 0, 1, null) === 1;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
        return false;
      }
    };
    for (;;) {
      if (readByte()) break;
      if (!isSameLiveProcess(rec.pid, rec.initStartTime)) {
        // A quick process may have written its byte, exec'd and exited since the read above.
        if (readByte()) break;
        throw new FailedPreconditionError("container init exited before start");
      }
      await sleep(1);
    }
  } finally {
    closeSync(fd);
  }
  rmSync(fifo, { force: true });
  await runHooks(rec.spec.hooks?.poststart, ociState(rec, "running"), trace);
}

export function killContainer(store: StateStore, id: string, signal: string, all: boolean): void {
  const rec = store.load(id);
  const sig = signalNumber(signal);
  const status = statusOf(store, rec);
  if (status === "stopped") throw new FailedPreconditionError("container not running");
  if (all) {
    for (const pid of cgroupsOf(rec).pids()) {
      try {
        process.kill(pid, sig);
      } catch {
        // Exited meanwhile.
      }
    }
    return;
  }
  process.kill(rec.pid, sig);
}

async function waitStopped(rec: RuncContainerState, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!isSameLiveProcess(rec.pid, rec.initStartTime)) return true;
    await sleep(2);
  }
  return false;
}

export async function deleteContainer(
  store: StateStore,
  id: string,
  force: boolean,
  onWarning: (msg: string) => void = () => {},
  trace?: TraceContext,
): Promise<void> {
  const rec = store.load(id);
  const status = statusOf(store, rec);
  if (status !== "stopped" && status !== "created" && !force) {
    throw new FailedPreconditionError(`cannot delete container ${id} that is not stopped: ${status}`);
  }
  const cg = cgroupsOf(rec);
  if (status !== "stopped") {
    // A frozen cgroup cannot die: thaw it after the kill is queued.
    // No pid yet (a create that died before its init was cloned): never kill(0), the caller's group.
    for (const pid of cg.exists() ? cg.pids() : rec.pid > 0 ? [rec.pid] : []) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    if (status === "paused") cg.thaw();
    if (!(await waitStopped(rec, 10_000)))
      throw new FailedPreconditionError(`container ${id} did not stop after SIGKILL`);
  } else if (cg.exists()) {
    // The init is gone but other members of its pid namespace's cgroup might not be (no pidns).
    for (const pid of cg.pids()) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone.
      }
    }
  }
  await cg.destroyAsync();
  store.remove(id);
  // A failing poststop hook is only a warning: the container is gone either way (as runc).
  await runHooks(rec.spec.hooks?.poststop, ociState(rec, "stopped"), trace).catch((err: unknown) =>
    onWarning(`poststop hook: ${err instanceof Error ? err.message : String(err)}`),
  );
}

export function pauseContainer(store: StateStore, id: string): void {
  const rec = store.load(id);
  const status = statusOf(store, rec);
  if (status !== "running" && status !== "created")
    throw new FailedPreconditionError("container not running or created");
  cgroupsOf(rec).freeze();
}

export function resumeContainer(store: StateStore, id: string): void {
  const rec = store.load(id);
  if (statusOf(store, rec) !== "paused") throw new FailedPreconditionError("container not paused");
  cgroupsOf(rec).thaw();
}

/** Applies `next` to the container's cgroups and records the merged resources in its state. */
export function updateContainer(store: StateStore, id: string, next: Resources): void {
  const rec = store.load(id);
  if (statusOf(store, rec) === "stopped") throw new FailedPreconditionError("container not running");
  cgroupsOf(rec).set(next);
  rec.spec.linux = { ...rec.spec.linux, resources: mergeResources(rec.spec.linux?.resources, next) };
  store.save(rec);
}

/** `next` over `base`; cpu and memory merge field by field (an update names only what changes). */
export function mergeResources(base: Resources | undefined, next: Resources): Resources {
  return {
    ...base,
    ...next,
    ...(base?.cpu || next.cpu ? { cpu: { ...base?.cpu, ...next.cpu } } : {}),
    ...(base?.memory || next.memory ? { memory: { ...base?.memory, ...next.memory } } : {}),
  };
}

export function containerPids(store: StateStore, id: string): number[] {
  const rec = store.load(id);
  if (statusOf(store, rec) === "stopped") return [];
  return cgroupsOf(rec).pids();
}

export function requireRunning(store: StateStore, rec: RuncContainerState): void {
  const status = statusOf(store, rec);
  if (status === "stopped") throw new FailedPreconditionError("cannot exec in a stopped container");
  if (status === "paused") throw new FailedPreconditionError("cannot exec in a paused container");
  if (status !== "running" && status !== "created") throw new InvalidArgumentError(`container is ${status}`);
}
