// One interface over both cgroup versions. A container's cgroups are a set of directories (one per
// v1 hierarchy, or one unified directory); the manager creates them, writes limits, moves
// processes in, reads stats, freezes, and removes them.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { Resources } from "../spec/types.ts";
import { CgroupBusyError, CgroupControllerMissingError, errnoCode } from "./errors.ts";
import { readCgroupFile, sleepSync, writeCgroupFile } from "./fsutil.ts";
import { type CgroupLayout, readLayout } from "./mountinfo.ts";
import { readOwnCgroup, resolveCgroupDirs } from "./paths.ts";
import { type CgroupStats, emptyStats } from "./stats.ts";
import { createCpusetDir } from "./v1/cpuset.ts";
import { isFrozenV1, setFrozenV1 } from "./v1/freezer.ts";
import { V1_CONTROLLER_ORDER } from "./v1/index.ts";
import { oomKillCountV1 } from "./v1/memory.ts";
import { controllersFor, setV2 } from "./v2/resources.ts";
import { oomKillCountV2, statsV2 } from "./v2/stats.ts";

export interface CgroupManager {
  /** Controller -> directory; v1 hierarchies by controller name, the unified one as "". */
  readonly paths: Record<string, string>;
  create(): void;
  set(resources: Resources): void;
  /** cgroup.procs files a process writes its own pid into to join every hierarchy. */
  procsFiles(): string[];
  addProcess(pid: number): void;
  /** Every process in the container's cgroups, sub-cgroups included. */
  pids(): number[];
  freeze(): void;
  thaw(): void;
  freezerState(): "frozen" | "thawed";
  stats(): CgroupStats;
  oomKillCount(): number;
  exists(): boolean;
  /** Remove the directories; already-gone is fine, still-busy is retried briefly, then an error. */
  destroy(): void;
}

export interface ManagerOptions {
  systemd?: boolean;
  layout?: CgroupLayout;
  ownCgroup?: Map<string, string>;
}

function isV2Only(paths: Record<string, string>): boolean {
  const keys = Object.keys(paths);
  return keys.length === 1 && keys[0] === "";
}

function procsOf(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    let text = "";
    try {
      text = readFileSync(join(d, "cgroup.procs"), "utf8");
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    for (const line of text.split("\n")) if (line) out.push(Number(line));
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
  };
  walk(dir);
  return out;
}

function removeTree(dir: string): void {
  // Sub-cgroups (made inside the container) go first; rmdir of a cgroup removes its files.
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  for (const e of entries) removeTree(join(dir, e));
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ENOENT") return;
      // EBUSY while the last tasks finish exiting (a killed init takes a moment to be reaped).
      if (code === "EBUSY" && attempt < 200) {
        sleepSync(attempt < 20 ? 2 : 20);
        continue;
      }
      throw new CgroupBusyError(dir, err);
    }
  }
}

class Manager implements CgroupManager {
  readonly paths: Record<string, string>;
  private readonly layout: CgroupLayout | undefined;

  constructor(paths: Record<string, string>, layout?: CgroupLayout) {
    this.paths = paths;
    this.layout = layout;
  }

  private get v2(): boolean {
    return isV2Only(this.paths);
  }

  private dirFor(controller: string): string | undefined {
    return this.paths[controller];
  }

  create(): void {
    for (const [controller, dir] of Object.entries(this.paths)) {
      const cpusetMount = controller === "cpuset" ? this.layout?.v1.get("cpuset")?.mountpoint : undefined;
      if (cpusetMount) createCpusetDir(cpusetMount, dir);
      else mkdirSync(dir, { recursive: true });
    }
    if (this.v2) this.enableControllers(["cpu", "cpuset", "io", "memory", "pids", "hugetlb"]);
  }

  // v2: a controller works in a cgroup only if every ancestor lists it in cgroup.subtree_control.
  private enableControllers(wanted: string[]): void {
    const dir = this.paths[""]!;
    const mount = this.layout?.unified?.mountpoint ?? "/sys/fs/cgroup";
    const rel = posix.relative(mount, posix.dirname(dir));
    let current = mount;
    const parts = rel === "" ? [] : rel.split("/");
    for (let i = 0; i <= parts.length; i++) {
      const available = new Set(readCgroupFile(current, "cgroup.controllers").trim().split(/\s+/));
      const enable = wanted.filter((c) => available.has(c));
      if (enable.length) {
        try {
          writeCgroupFile(current, "cgroup.subtree_control", enable.map((c) => `+${c}`).join(" "));
        } catch {
          // A cgroup with processes of its own cannot delegate (no internal processes rule);
          // set() reports a missing controller if a limit then needs it.
        }
      }
      if (i < parts.length) current = posix.join(current, parts[i]!);
    }
  }

  set(r: Resources): void {
    if (this.v2) {
      const dir = this.paths[""]!;
      for (const c of controllersFor(r)) {
        const enabled = readCgroupFile(dir, "cgroup.controllers").trim().split(/\s+/);
        if (!enabled.includes(c)) throw new CgroupControllerMissingError(c);
      }
      setV2(dir, r);
      return;
    }
    for (const ctrl of V1_CONTROLLER_ORDER) {
      const dir = this.dirFor(ctrl.name);
      if (dir === undefined) {
        if (ctrl.wants(r)) throw new CgroupControllerMissingError(ctrl.name);
        continue;
      }
      ctrl.set(dir, r);
    }
    // On a hybrid host some controllers (e.g. hugetlb) live only in the unified hierarchy.
    if (r.unified && this.paths[""]) setV2(this.paths[""], { unified: r.unified });
  }

  procsFiles(): string[] {
    return Object.values(this.paths).map((d) => join(d, "cgroup.procs"));
  }

  addProcess(pid: number): void {
    for (const f of this.procsFiles()) writeFileSync(f, String(pid));
  }

  pids(): number[] {
    const dir = this.v2 ? this.paths[""] : (this.paths["pids"] ?? this.paths["memory"] ?? Object.values(this.paths)[0]);
    return dir ? [...new Set(procsOf(dir))] : [];
  }

  freeze(): void {
    this.setFrozen(true);
  }

  thaw(): void {
    this.setFrozen(false);
  }

  private setFrozen(frozen: boolean): void {
    if (this.v2) {
      const dir = this.paths[""]!;
      writeCgroupFile(dir, "cgroup.freeze", frozen ? "1" : "0");
      for (let i = 0; i < 1000; i++) {
        const events = readCgroupFile(dir, "cgroup.events");
        if (events.includes(`frozen ${frozen ? 1 : 0}`)) return;
        sleepSync(1);
      }
      return;
    }
    const dir = this.paths["freezer"];
    if (!dir) throw new CgroupControllerMissingError("freezer");
    setFrozenV1(dir, frozen);
  }

  freezerState(): "frozen" | "thawed" {
    if (this.v2) {
      const f = readCgroupFile(this.paths[""]!, "cgroup.freeze").trim();
      return f === "1" ? "frozen" : "thawed";
    }
    const dir = this.paths["freezer"];
    return dir && isFrozenV1(dir) ? "frozen" : "thawed";
  }

  stats(): CgroupStats {
    const s = emptyStats();
    if (this.v2) {
      statsV2(this.paths[""]!, s);
      return s;
    }
    for (const ctrl of V1_CONTROLLER_ORDER) {
      const dir = this.dirFor(ctrl.name);
      if (dir !== undefined && existsSync(dir)) ctrl.stats?.(dir, s);
    }
    return s;
  }

  oomKillCount(): number {
    if (this.v2) return oomKillCountV2(this.paths[""]!);
    const dir = this.paths["memory"];
    return dir ? oomKillCountV1(dir) : 0;
  }

  exists(): boolean {
    return Object.values(this.paths).some((d) => existsSync(d));
  }

  destroy(): void {
    for (const dir of Object.values(this.paths)) removeTree(dir);
  }
}

/** The manager for a new container: where its cgroups go under linux.cgroupsPath (or its id). */
export function cgroupManagerFor(
  cgroupsPath: string | undefined,
  containerId: string,
  opts: ManagerOptions = {},
): CgroupManager {
  const layout = opts.layout ?? readLayout();
  const paths = resolveCgroupDirs({
    layout,
    ownCgroup: opts.ownCgroup ?? readOwnCgroup(),
    cgroupsPath,
    containerId,
    systemd: opts.systemd,
  });
  return new Manager(paths, layout);
}

/** The manager for an existing container, from the directories recorded at create. */
export function cgroupManagerFromPaths(paths: Record<string, string>): CgroupManager {
  return new Manager(paths);
}
