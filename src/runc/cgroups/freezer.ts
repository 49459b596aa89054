// Freezing, for both hierarchies. The kernel freezes asynchronously: v1 passes through FREEZING,
// v2 reports completion in cgroup.events, so both wait (briefly) for the final state.

import { CgroupReadError } from "./errors.ts";
import { parseFlatKeyed, readCgroupFile, readOptional, sleepSync, writeCgroupFile } from "./fsutil.ts";

export type FreezerState = "frozen" | "thawed" | "freezing";

const TIMEOUT_MS = 5000;

export function freezeV1(dir: string, freeze: boolean): void {
  const want = freeze ? "FROZEN" : "THAWED";
  const deadline = Date.now() + TIMEOUT_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    // Re-writing FROZEN nudges tasks that were in the middle of fork/exit when we first asked.
    writeCgroupFile(dir, "freezer.state", want);
    if (readCgroupFile(dir, "freezer.state").trim() === want) return;
    if (Date.now() > deadline) {
      // Leave the cgroup usable rather than half-frozen.
      if (freeze) writeCgroupFile(dir, "freezer.state", "THAWED");
      throw new CgroupReadError(`${dir}/freezer.state`, `timed out waiting for ${want}`);
    }
    sleepSync(delay);
  }
}

export function freezerStateV1(dir: string): FreezerState {
  const state = (readOptional(dir, "freezer.state") ?? "THAWED").trim();
  return state === "FROZEN" ? "frozen" : state === "FREEZING" ? "freezing" : "thawed";
}

export function freezeV2(dir: string, freeze: boolean): void {
  writeCgroupFile(dir, "cgroup.freeze", freeze ? "1" : "0");
  const want = freeze ? 1 : 0;
  const deadline = Date.now() + TIMEOUT_MS;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (parseFlatKeyed(readCgroupFile(dir, "cgroup.events")).get("frozen") === want) return;
    if (Date.now() > deadline) {
      if (freeze) writeCgroupFile(dir, "cgroup.freeze", "0");
      throw new CgroupReadError(`${dir}/cgroup.events`, `timed out waiting for frozen ${want}`);
    }
    sleepSync(delay);
  }
}

export function freezerStateV2(dir: string): FreezerState {
  const requested = (readOptional(dir, "cgroup.freeze") ?? "0").trim() === "1";
  if (!requested) return "thawed";
  const events = readOptional(dir, "cgroup.events");
  return events !== undefined && parseFlatKeyed(events).get("frozen") === 1 ? "frozen" : "freezing";
}
