// GET /containers/{id}/stats: readings of the container's cgroup (cgroup-stats.ts) at the path its
// spec names, turned into dockerd's JSON (stats-json.ts): one a second while streaming, each with
// the one before as precpu; without streaming the second reading (so CPU % has a base, as dockerd
// answers), or the first with one-shot. A container that is not running reads as zeros.
import { existsSync } from "node:fs";
import type { ContainerdConnection } from "../../client/connection.ts";
import { InvalidArgumentError } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import type { CgroupStats } from "../../runc/cgroups/stats.ts";
import type { ContainerManager } from "../containers/manager.ts";
import type { ContainerRecord } from "../containers/record.ts";
import { cgroupReader } from "./cgroup-stats.ts";
import { onlineCpus, readMachineMemory, readSystemCpuNs } from "./host.ts";
import { type Reading, statsJson } from "./stats-json.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";
/** dockerd's collection interval. */
export const INTERVAL_MS = 1_000;

export interface StatsOptions {
  stream: boolean;
  oneShot: boolean;
}

/** stream and one-shot as dockerd reads them; `bool` reads a query boolean with a default. */
export function statsOptions(bool: (name: string, fallback: boolean) => boolean): StatsOptions {
  const stream = bool("stream", true);
  const oneShot = bool("one-shot", false);
  if (stream && oneShot) throw new InvalidArgumentError("cannot have stream=true and one-shot=true");
  return { stream, oneShot };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

export class StatsService {
  readonly #conn: ContainerdConnection;
  readonly #containers: ContainerManager;
  readonly #log: DaemonLogger;
  readonly #version: 1 | 2 = existsSync(`${CGROUP_ROOT}/cgroup.controllers`) ? 2 : 1;

  constructor(conn: ContainerdConnection, containers: ContainerManager, log: DaemonLogger) {
    this.#conn = conn;
    this.#containers = containers;
    this.#log = log;
  }

  /**
   * The stats of `ref` as JSON documents, given to `emit` (false: the client is gone) until the
   * options say stop or `signal` aborts. The container is looked up first (a 404 before any byte).
   */
  async run(ref: string, opts: StatsOptions, begin: () => void, emit: (doc: unknown) => boolean, signal: AbortSignal) {
    const first = this.#containers.get(ref);
    const id = first.ID;
    begin();
    let reader: (() => CgroupStats | undefined) | undefined;
    let prev: Reading | undefined;
    let firstRound = true;
    while (!signal.aborted) {
      let record: ContainerRecord;
      try {
        record = this.#containers.get(id);
      } catch {
        return; // removed meanwhile: the stream ends
      }
      const running = record.State.Running && !record.State.Restarting;
      if (!running) {
        prev = undefined;
        reader = undefined;
        if (!emit(statsJson(record, undefined, undefined)) || !opts.stream) return;
      } else {
        reader ??= await this.#reader(id);
        const cur = reader ? await this.#read(reader) : undefined;
        // Without streaming (and without one-shot) the first reading is only the base of the second.
        const skip = !opts.stream && !opts.oneShot && firstRound;
        if (!skip) {
          if (!emit(statsJson(record, cur, prev)) || !opts.stream) return;
        }
        prev = cur;
      }
      firstRound = false;
      await sleep(INTERVAL_MS, signal);
    }
  }

  async #reader(id: string): Promise<(() => CgroupStats | undefined) | undefined> {
    const spec = (await this.#conn.containers.get(id)).spec as { linux?: { cgroupsPath?: unknown } } | undefined;
    return cgroupReader(spec?.linux?.cgroupsPath, id, (why) => this.#log.debug("stats: no reading", { id, why }));
  }

  async #read(reader: () => CgroupStats | undefined): Promise<Reading | undefined> {
    const stats = reader();
    if (stats === undefined) return undefined;
    const [systemCpu, machineMemory] = await Promise.all([readSystemCpuNs(), readMachineMemory()]);
    return { at: new Date(), version: this.#version, stats, systemCpu, onlineCpus: onlineCpus(), machineMemory };
  }
}
