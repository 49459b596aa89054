// Hole (first found in the shim's reaper, whose place the keeper took): exits of pids nobody
// watches yet are kept while a spawn runs (the main process may exit before its pid file is read),
// but a cap that drops the oldest lets a burst of orphans push out the one exit that will be asked
// for, and the task's wait hangs for ever. The attacker: a container sharing the keeper's pid
// namespace whose processes leave more than the cap of orphans exiting just after its main
// process. The scenario runs in a private pid namespace (the test is its pid 1). The contract
// (native/berth-keeper/README.md, Reaping): the exit is reported, with its status if it was kept,
// else 255 at once (before 9192858 berth-keeper never reported it past 4096 orphans).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  exitStatusOf,
  keeperWithExitedMain,
  reportScenario,
  runScenario,
  SCENARIO_ENV,
  withTimeout,
} from "../helpers/pid-scenario.ts";

const repo = join(import.meta.dirname, "..", "..");
const skip =
  process.getuid?.() !== 0 ? "root only" : existsSync(join(repo, "dist", "berth-keeper")) ? undefined : "build first";

/** More orphans than the keeper keeps exits of (its PENDING_MAX, 4096). */
const BURST = 4500;

async function scenario(): Promise<void> {
  // Once released, the spawned shell leaves BURST orphans that exit, then exits itself.
  const t = await keeperWithExitedMain(5, `i=0; while [ $i -lt ${BURST} ]; do (true &); i=$((i+1)); done`);
  await reportScenario(t, async (out) => {
    t.release();
    const ran = await withTimeout(t.ran, 100_000);
    out.ran = ran === "timeout" ? ran : ran.mainPid === t.main;
    out.exit = await exitStatusOf(t, 3000);
  });
}

if (process.env[SCENARIO_ENV]) {
  await scenario();
} else {
  describe("the keeper never drops an exit it will be asked for", { skip }, () => {
    test(`a main process's exit is reported past ${BURST} orphans exiting after it`, {
      timeout: 150_000,
    }, () => {
      const got = runScenario<{ ran: boolean | string; exit: number | string }>(import.meta.filename, 140_000);
      assert.equal(got.ran, true, `the keeper read the pid file: ${JSON.stringify(got)}`);
      // Its status if the keeper still had it, else 255 (lost): never no exit at all.
      assert.ok(got.exit === 5 || got.exit === 255, `the main process's exit: ${JSON.stringify(got)}`);
    });
  });
}
