// The cgroup v2 (unified hierarchy) manager.

import { existsSync } from "node:fs";
import { posix } from "node:path";
import type { Resources } from "../../config/types.ts";
import { CgroupControllerMissingError } from "../errors.ts";
import type { FreezerState } from "../freezer.ts";
import { freezerStateV2, freezeV2 } from "../freezer.ts";
import { fileExists, parseFlatKeyed, readOptional, writeCgroupFile } from "../fsutil.ts";
import type { CgroupManager } from "../manager-types.ts";
import type { CgroupStats } from "../stats.ts";
import {
  mkdirTracked,
  procsRecursive,
  type RemovalSteps,
  removeCreatedParents,
  removeTree,
  waitAsync,
  waitSync,
} from "../tree.ts";
import { availableControllers, setV2 } from "./resources.ts";
import { statsV2 } from "./stats.ts";

/**
 * Makes `dir`'s controllers available by enabling, in each ancestor, every controller the
 * ancestor itself has. One at a time when the batch fails: an ancestor holding processes (or a
 * threaded one) may refuse some, and a child simply goes without those.
 */
export function enableControllers(dir: string): void {
  const controllers = [...availableControllers(dir)];
  if (controllers.length === 0) return;
  try {
    writeCgroupFile(dir, "cgroup.subtree_control", controllers.map((c) => `+${c}`).join(" "));
  } catch {
    for (const c of controllers) {
      try {
        writeCgroupFile(dir, "cgroup.subtree_control", `+${c}`);
      } catch {
        // Unavailable below this point; set() reports it if the container asks for it.
      }
    }
  }
}

export class V2Manager implements CgroupManager {
  readonly version = 2;
  readonly paths: Readonly<Record<string, string>>;
  readonly #dir: string;
  readonly #mountpoint: string;
  #created: string[] = [];

  constructor(dir: string, mountpoint: string) {
    this.#dir = dir;
    this.#mountpoint = dir.startsWith(mountpoint) ? mountpoint : posix.dirname(dir);
    this.paths = Object.freeze({ "": dir });
  }

  create(resources?: Resources): void {
    try {
      this.#created = mkdirTracked(this.#mountpoint, this.#dir, enableControllers);
      if (resources !== undefined) this.set(resources);
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /**
   * Device rules are not written here: v2 enforces them with an eBPF program attached with
   * bpf(2), which Node cannot call. deviceFilterProgram() (./device-filter.ts) compiles them and
   * the runtime's native stage attaches the program when the container is created.
   */
  set(resources: Resources): void {
    setV2(this.#dir, resources);
  }

  procsFiles(): string[] {
    return [posix.join(this.#dir, "cgroup.procs")];
  }

  addProcess(pid: number): void {
    writeCgroupFile(this.#dir, "cgroup.procs", String(pid));
  }

  pids(): number[] {
    return procsRecursive(this.#dir);
  }

  #checkFreezer(): void {
    if (!fileExists(this.#dir, "cgroup.freeze")) {
      throw new CgroupControllerMissingError(
        "freezer",
        "cgroup v2 freezer (cgroup.freeze) is not supported by this kernel",
      );
    }
  }

  freeze(): void {
    this.#checkFreezer();
    freezeV2(this.#dir, true);
  }

  thaw(): void {
    this.#checkFreezer();
    freezeV2(this.#dir, false);
  }

  freezerState(): FreezerState {
    return freezerStateV2(this.#dir);
  }

  stats(): CgroupStats {
    return statsV2(this.#dir);
  }

  oomKillCount(): number {
    const text = readOptional(this.#dir, "memory.events");
    return text === undefined ? 0 : (parseFlatKeyed(text).get("oom_kill") ?? 0);
  }

  memoryEventsFile(): string | undefined {
    return posix.join(this.#dir, "memory.events");
  }

  destroy(): void {
    waitSync(this.#removal());
  }

  destroyAsync(): Promise<void> {
    return waitAsync(this.#removal());
  }

  *#removal(): RemovalSteps {
    yield* removeTree(this.#dir);
    removeCreatedParents(this.#created, new Set([this.#dir]));
    this.#created = [];
  }

  exists(): boolean {
    return existsSync(this.#dir);
  }
}
