// Hole: the shim's reaper lost an exit when the pid was reused. A container process that exits
// before the shim asks for it has its exit stored; if its pid is taken by another process (any
// process on the host, not the shim's child) before the shim asks, the stored exit was dropped
// and the task's wait hung for ever. The attacker: a container whose process exits at once while
// the host is busy making processes. The scenario runs in a private pid namespace, where the
// test chooses the next pid (ns_last_pid), so the reuse is exact and no other process interferes.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Reaper } from "../../src/shim/reaper.ts";
import {
  type Claimed,
  ExitLog,
  orphan,
  runScenario,
  SCENARIO_ENV,
  spawnAtPid,
  statusOf,
  withTimeout,
} from "../helpers/reaper-scenario.ts";

const addon = join(import.meta.dirname, "..", "..", "dist", "shimsys.node");
const skip = process.getuid?.() !== 0 ? "root only" : existsSync(addon) ? undefined : "build first";

/** Runs in the private pid namespace (as its pid 1); prints what the claims got. */
async function scenario(): Promise<void> {
  const reaper = new Reaper();
  reaper.start();
  const exits = new ExitLog(reaper);
  // Signal handlers do not keep Node's loop alive (the shim's server does).
  setInterval(() => {}, 1000);
  const out: Record<string, unknown> = {};

  // 1. The process the shim expects exits before the shim asks; its pid is then taken by a
  //    process that is not the shim's child (a grandchild whose parent is alive).
  const claim = reaper.expect();
  const early = await orphan("sleep 0.1; exit 7");
  await exits.seen(early);
  const squatter = await spawnAtPid(early - 1, "sleep 30; :");
  out.reused = squatter.pidOfChild === early;
  out.early = await withTimeout(claim.wait(early), 3000);
  squatter.child.kill("SIGKILL");

  // 2. An exit kept while another spawn was in progress belongs to the earlier process only: a
  //    later process given the same pid gets its own exit.
  const other = reaper.expect();
  const first = await orphan("sleep 0.1; exit 9");
  await exits.seen(first);
  const later = reaper.expect();
  const second = await spawnAtPid(first - 1, "sh -c 'sleep 0.3; exit 3' </dev/null >/dev/null & echo $!", {
    printsPid: true,
  });
  out.second = second.printed === first;
  out.secondExit = await withTimeout(later.wait(first), 3000);
  other.cancel();
  out.kept = reaper.keptCount;
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

if (process.env[SCENARIO_ENV]) {
  await scenario();
} else {
  describe("the reaper keeps an exit whose pid is reused", { skip }, () => {
    test("a claim gets the exit of the process it expects, before and after pid reuse", { timeout: 60_000 }, () => {
      const got = runScenario<{
        reused: boolean;
        second: boolean;
        early: Claimed;
        secondExit: Claimed;
        kept: number;
      }>(import.meta.filename, 50_000);
      assert.equal(got.reused, true, "the test could not reuse the pid");
      assert.equal(got.second, true, "the test could not reuse the pid");
      assert.equal(statusOf(got.early), 7, `the early exit: ${JSON.stringify(got.early)}`);
      assert.equal(statusOf(got.secondExit), 3, `the later process's exit: ${JSON.stringify(got.secondExit)}`);
      assert.equal(got.kept, 0, "no exit kept once no claim is open");
    });
  });
}
