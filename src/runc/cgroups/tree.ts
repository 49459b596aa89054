// Directory-level operations shared by both managers: make a cgroup path (remembering what was
// new, so a failed create can undo exactly that), list processes, remove a cgroup tree.

import { mkdirSync, readdirSync, rmdirSync } from "node:fs";
import { posix } from "node:path";
import { errnoCode } from "../../common/errors.ts";
import { CgroupBusyError } from "./errors.ts";
import { readOptional, sleepSync } from "./fsutil.ts";

/**
 * mkdir each missing directory from below `mountpoint` down to `dir`, calling `prepare(parent, child)`
 * before creating each child. Returns the directories created, outermost first.
 */
export function mkdirTracked(mountpoint: string, dir: string, prepare?: (parent: string) => void): string[] {
  const created: string[] = [];
  let current = mountpoint;
  for (const part of posix
    .relative(mountpoint, dir)
    .split("/")
    .filter((p) => p !== "")) {
    prepare?.(current);
    current = posix.join(current, part);
    try {
      mkdirSync(current);
      created.push(current);
    } catch (err) {
      if (errnoCode(err) !== "EEXIST") throw err;
    }
  }
  return created;
}

/** Pids in `dir` and every sub-cgroup below it. */
export function procsRecursive(dir: string): number[] {
  const out: number[] = [];
  const visit = (d: string) => {
    const text = readOptional(d, "cgroup.procs");
    if (text === undefined) return;
    for (const line of text.split("\n")) if (line.trim() !== "") out.push(Number(line));
    let entries: string[];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    for (const e of entries) visit(posix.join(d, e));
  };
  visit(dir);
  return out;
}

// A cgroup whose last process was just killed stays busy until the kernel finishes tearing the
// task down (longer when it was throttled or frozen); retry with backoff for a few seconds.
const RMDIR_BUDGET_MS = 5000;

/**
 * Removing a cgroup tree as steps: each value yielded is how long to wait (ms) before trying a
 * busy cgroup again. The caller chooses how to wait: `waitSync` blocks the thread (a runtime
 * command has nothing else to do), `waitAsync` lets the event loop run (a shim serving other
 * containers must not stall for seconds behind one that is slow to die).
 */
export type RemovalSteps = Generator<number, void, void>;

function* rmdirRetry(dir: string): RemovalSteps {
  const deadline = Date.now() + RMDIR_BUDGET_MS;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || Date.now() > deadline) throw new CgroupBusyError(dir, err);
      yield delay;
    }
  }
}

/** rmdir `dir` and any sub-cgroups (deepest first). Already gone is fine. */
export function* removeTree(dir: string): RemovalSteps {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  for (const e of entries) yield* removeTree(posix.join(dir, e));
  yield* rmdirRetry(dir);
}

/** Runs removal steps, blocking the thread through each wait. */
export function waitSync(steps: RemovalSteps): void {
  for (const ms of steps) sleepSync(ms);
}

/** Runs removal steps, waiting on timers. */
export async function waitAsync(steps: RemovalSteps): Promise<void> {
  for (const ms of steps) await new Promise((r) => setTimeout(r, ms));
}

/** Best-effort rmdir of now-empty parents a create made; siblings may have appeared since. */
export function removeCreatedParents(created: string[], leaves: Set<string>): void {
  for (const dir of [...created].reverse()) {
    if (leaves.has(dir)) continue;
    try {
      rmdirSync(dir);
    } catch {
      // Not empty or already gone: someone else's cgroup lives there now.
    }
  }
}

export function unique(paths: Record<string, string>): string[] {
  return [...new Set(Object.values(paths))];
}
