// What the engine's integration and fault tests set up alike: one berthd with the busybox fixture
// per suite (started before its tests, cleaned up after), docker commands that must succeed, and
// ctr on the daemon's own berth-containerd ("berth" namespace).
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before } from "node:test";
import { type Berthd, berthdWithBusybox } from "./berthd.ts";

/** Registers the suite's berthd: made by `make` before its tests (handed to `set`), cleaned up after. */
export function useBerthd(set: (d: Berthd) => void, make: () => Promise<Berthd> = berthdWithBusybox): void {
  let made: Berthd | undefined;
  before(async () => {
    made = await make();
    set(made);
  });
  after(async () => {
    await made?.cleanup();
  });
}

/** `docker args` against `d`, which must exit 0; its stdout. */
export async function dockerOk(d: Berthd, args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.status, 0, `docker ${args.join(" ").slice(0, 200)}: ${r.stderr.slice(0, 2000)}`);
  return r.stdout;
}

/** ctr on berthd's berth-containerd, in its "berth" namespace. */
export function ctrOn(d: Berthd, args: string[]): SpawnSyncReturns<string> {
  const sock = join(d.execRoot, "containerd", "containerd.sock");
  return spawnSync("ctr", ["--address", sock, "-n", "berth", ...args], { encoding: "utf8", timeout: 60_000 });
}
