// Two calls the engine's tests make against a Berthd: `ctr` on its berth-containerd in the
// "berth" namespace, and a docker CLI command that must succeed (its stdout).
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { join } from "node:path";
import type { Berthd } from "./berthd.ts";

export function berthdCtr(d: Berthd, args: string[]): SpawnSyncReturns<string> {
  return spawnSync("ctr", ["--address", join(d.execRoot, "containerd", "containerd.sock"), "-n", "berth", ...args], {
    encoding: "utf8",
    timeout: 60_000,
  });
}

export async function dockerOk(d: Berthd, args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
