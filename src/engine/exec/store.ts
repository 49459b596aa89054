// The exec instances berthd knows, by id and by container, bounded: at most MAX_EXECS_PER_CONTAINER
// per container (dockerd keeps every one until its container goes; berthd drops the oldest finished
// one, else the oldest never started, and refuses a new one when all are running). A container's
// execs go with it.
import { FailedPreconditionError, NotFoundError } from "../../common/errors.ts";
import type { ExecRecord } from "./record.ts";

/** Far more than a client keeps open at once; each record is a few hundred bytes. */
export const MAX_EXECS_PER_CONTAINER = 128;

export class ExecStore {
  readonly #byId = new Map<string, ExecRecord>();
  /** Per container, oldest first. */
  readonly #byContainer = new Map<string, ExecRecord[]>();
  readonly #max: number;

  constructor(max = MAX_EXECS_PER_CONTAINER) {
    this.#max = max;
  }

  /** Adds `r`, making room first; what was dropped to make it. */
  add(r: ExecRecord): ExecRecord[] {
    const list = this.#byContainer.get(r.ContainerID) ?? [];
    const dropped: ExecRecord[] = [];
    if (list.length >= this.#max) {
      const victim = list.find((e) => e.ExitCode !== null) ?? list.find((e) => !e.started);
      if (victim === undefined) {
        throw new FailedPreconditionError(
          `Container ${r.ContainerID} has ${list.length} exec instances running, the most it may have`,
        );
      }
      this.#drop(victim);
      dropped.push(victim);
    }
    this.#byId.set(r.ID, r);
    this.#byContainer.set(r.ContainerID, [...(this.#byContainer.get(r.ContainerID) ?? []), r]);
    return dropped;
  }

  /** The exec `id`; 404 in dockerd's words. */
  get(id: string): ExecRecord {
    const r = this.#byId.get(id);
    if (r === undefined) throw new NotFoundError(`No such exec instance: ${id}`);
    return r;
  }

  find(id: string): ExecRecord | undefined {
    return this.#byId.get(id);
  }

  ofContainer(containerId: string): readonly ExecRecord[] {
    return this.#byContainer.get(containerId) ?? [];
  }

  /** Forgets the container's execs; they are returned. */
  removeContainer(containerId: string): ExecRecord[] {
    const list = this.#byContainer.get(containerId) ?? [];
    for (const r of list) this.#byId.delete(r.ID);
    this.#byContainer.delete(containerId);
    return list;
  }

  get size(): number {
    return this.#byId.size;
  }

  #drop(r: ExecRecord): void {
    this.#byId.delete(r.ID);
    const rest = (this.#byContainer.get(r.ContainerID) ?? []).filter((e) => e !== r);
    if (rest.length === 0) this.#byContainer.delete(r.ContainerID);
    else this.#byContainer.set(r.ContainerID, rest);
  }
}
