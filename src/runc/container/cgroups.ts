// The container's cgroups: made from the spec at create, found again from the recorded paths.
import { type CgroupManager, cgroupManagerFor, cgroupManagerFromPaths } from "../cgroups/manager.ts";
import type { Spec } from "../config/types.ts";
import type { RuncContainerState } from "./state-store.ts";

export function openCgroups(spec: Spec, id: string, systemd = false): CgroupManager {
  return cgroupManagerFor(spec.linux?.cgroupsPath, id, { systemd });
}

export function cgroupsOf(rec: RuncContainerState): CgroupManager {
  return cgroupManagerFromPaths(rec.cgroupPaths);
}
