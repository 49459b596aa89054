// A berth-shim driven directly over ttrpc, as a daemon would: `start` in a bundle (no daemon
// behind -address, so events have nowhere to go: they are dropped after retries, never block),
// then Task calls; and what a test asks of the processes around it (parents, keepers).
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Task } from "../../src/proto/gen/containerd/task/v2/shim_pb.js";
import { createTtrpcClient, type TtrpcClient } from "../../src/rpc/ttrpc/client.ts";
import { makeTempDir } from "../fixtures/busybox.ts";

const repo = join(import.meta.dirname, "..", "..");
export const SHIM = join(repo, "dist", "berth-shim.mjs");
const RUNC = join(repo, "dist", "berth-runc.mjs");

export interface DirectShim {
  address: string;
  task: TtrpcClient<typeof Task>;
  shimPid: number;
  /** The runtime's --root base (the namespace's root is below it). */
  runtimeRoot: string;
  /** Ends the shim and force-deletes what the tests left in the runtime's state. */
  stop(ids: string[]): Promise<void>;
}

/** Runs `berth-shim ... start` in `bundleDir` for task `id` of namespace `ns` and connects. */
export async function startDirectShim(ns: string, id: string, bundleDir: string): Promise<DirectShim> {
  const runtimeRoot = await makeTempDir("berth-shim-runc-");
  const address = execFileSync(SHIM, ["-namespace", ns, "-address", "/nonexistent.sock", "-id", id, "start"], {
    cwd: bundleDir,
    encoding: "utf8",
    env: { ...process.env, TTRPC_ADDRESS: "", BERTH_SHIM_RUNTIME_ROOT: runtimeRoot },
  }).trim();
  const task = createTtrpcClient(Task, address, { namespace: ns, timeoutMs: 30_000 });
  const shimPid = (await task.connect({ id })).shimPid;
  return {
    address,
    task,
    shimPid,
    runtimeRoot,
    stop: async (ids) => {
      // What a failed test left: killed and deleted through the shim (so its keepers end too),
      // then the shim ends; whatever still runs after that is killed.
      for (const i of ids) {
        await task.kill({ id: i, signal: 9, all: true }).catch(() => {});
        await Promise.race([task.wait({ id: i }).catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
        await task.delete({ id: i }).catch(() => {});
      }
      try {
        await task.shutdown({ id, now: true });
      } catch {}
      task.close();
      await until("the shim exits", () => !isRunning(shimPid), 5000).catch(() => process.kill(shimPid, "SIGKILL"));
      for (const i of ids) spawnSync(RUNC, ["--root", join(runtimeRoot, ns), "delete", "--force", i]);
      spawnSync("rm", ["-rf", runtimeRoot]);
    },
  };
}

/** A process's parent, from /proc/PID/status. */
export function ppidOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
}

/** Whether `pid` runs (a zombie does not). */
export function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** Polls `ok` every 20 ms until it holds; fails with `what` after `ms`. */
export async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
  }
}
