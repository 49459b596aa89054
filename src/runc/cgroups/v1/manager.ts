// The cgroup v1 manager (also used on hybrid hosts, where it joins the cgroup2 hierarchy too,
// as runc does, but sets nothing there).

import { existsSync } from "node:fs";
import { posix } from "node:path";
import { InvalidArgumentError } from "../../../common/errors.ts";
import type { Resources } from "../../config/types.ts";
import { CgroupControllerMissingError } from "../errors.ts";
import type { FreezerState } from "../freezer.ts";
import { freezerStateV1, freezeV1 } from "../freezer.ts";
import { writeCgroupFile } from "../fsutil.ts";
import type { CgroupManager } from "../manager-types.ts";
import type { CgroupLayout } from "../mountinfo.ts";
import type { CgroupStats } from "../stats.ts";
import { emptyStats } from "../stats.ts";
import {
  mkdirTracked,
  procsRecursive,
  type RemovalSteps,
  removeCreatedParents,
  removeTree,
  unique,
  waitAsync,
  waitSync,
} from "../tree.ts";
import { blkio } from "./blkio.ts";
import type { V1Controller } from "./controller.ts";
import { cpu } from "./cpu.ts";
import { cpuacct } from "./cpuacct.ts";
import { cpuset, createCpusetDir } from "./cpuset.ts";
import { devices } from "./devices.ts";
import { hugetlb } from "./hugetlb.ts";
import { memory, oomKillCountV1 } from "./memory.ts";
import { netCls, netPrio } from "./net.ts";
import { pids } from "./pids.ts";
import { rdma } from "./rdma.ts";

/** In the order they are set: cpuset first (tasks need cpus/mems), devices before anything runs. */
export const V1_TABLE: V1Controller[] = [
  cpuset,
  devices,
  memory,
  cpu,
  cpuacct,
  pids,
  blkio,
  hugetlb,
  netCls,
  netPrio,
  rdma,
];

// Where pids() and exists() look: a hierarchy every v1 host has.
const PRIMARY = ["pids", "freezer", "devices", "memory", "cpu", "name=systemd"];

export class V1Manager implements CgroupManager {
  readonly version = 1;
  readonly paths: Readonly<Record<string, string>>;
  readonly #layout: CgroupLayout;
  #created: string[] = [];

  constructor(paths: Record<string, string>, layout: CgroupLayout) {
    this.paths = Object.freeze({ ...paths });
    this.#layout = layout;
  }

  #mountpoint(key: string): string {
    const mount = key === "" ? this.#layout.unified : this.#layout.v1.get(key);
    const dir = this.paths[key]!;
    // A manager rebuilt from saved paths may outlive a remount; fall back to "no parents to make".
    return mount !== undefined && dir.startsWith(mount.mountpoint) ? mount.mountpoint : posix.dirname(dir);
  }

  create(resources?: Resources): void {
    // Without the devices controller a container could open any device node: refuse, as runc does.
    if (this.paths["devices"] === undefined)
      throw new CgroupControllerMissingError("devices", "the devices cgroup controller is not mounted");
    try {
      for (const [key, dir] of Object.entries(this.paths)) {
        const mount = this.#mountpoint(key);
        this.#created.push(...(key === "cpuset" ? createCpusetDir(mount, dir) : mkdirTracked(mount, dir)));
      }
      if (resources !== undefined) this.set(resources);
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  set(r: Resources): void {
    if (r.unified !== undefined && Object.keys(r.unified).length > 0) {
      throw new InvalidArgumentError("linux.resources.unified: cannot be used on a cgroup v1 host");
    }
    // Check every wanted controller before writing anything, so a refusal changes nothing.
    for (const c of V1_TABLE) {
      if (this.paths[c.name] === undefined && c.wants(r)) throw new CgroupControllerMissingError(c.name);
    }
    for (const c of V1_TABLE) {
      const dir = this.paths[c.name];
      if (dir !== undefined) c.set(dir, r);
    }
  }

  procsFiles(): string[] {
    return unique(this.paths).map((d) => posix.join(d, "cgroup.procs"));
  }

  addProcess(pid: number): void {
    for (const dir of unique(this.paths)) writeCgroupFile(dir, "cgroup.procs", String(pid));
  }

  #primary(): string {
    for (const k of PRIMARY) if (this.paths[k] !== undefined) return this.paths[k];
    return unique(this.paths)[0]!;
  }

  pids(): number[] {
    return procsRecursive(this.#primary());
  }

  #freezer(): string {
    const dir = this.paths["freezer"];
    if (dir === undefined)
      throw new CgroupControllerMissingError("freezer", "the freezer cgroup controller is not mounted");
    return dir;
  }

  freeze(): void {
    freezeV1(this.#freezer(), true);
  }

  thaw(): void {
    freezeV1(this.#freezer(), false);
  }

  freezerState(): FreezerState {
    const dir = this.paths["freezer"];
    return dir === undefined ? "thawed" : freezerStateV1(dir);
  }

  stats(): CgroupStats {
    const s = emptyStats();
    for (const c of V1_TABLE) {
      const dir = this.paths[c.name];
      if (dir !== undefined && c.stats !== undefined && existsSync(dir)) c.stats(dir, s);
    }
    return s;
  }

  oomKillCount(): number {
    const dir = this.paths["memory"];
    return dir === undefined ? 0 : oomKillCountV1(dir);
  }

  memoryEventsFile(): string | undefined {
    return undefined;
  }

  destroy(): void {
    waitSync(this.#removal());
  }

  destroyAsync(): Promise<void> {
    return waitAsync(this.#removal());
  }

  *#removal(): RemovalSteps {
    const leaves = unique(this.paths);
    let firstError: unknown;
    for (const dir of leaves) {
      try {
        yield* removeTree(dir);
      } catch (err) {
        firstError ??= err;
      }
    }
    removeCreatedParents(this.#created, new Set(leaves));
    this.#created = [];
    if (firstError !== undefined) throw firstError;
  }

  exists(): boolean {
    return existsSync(this.#primary());
  }
}
