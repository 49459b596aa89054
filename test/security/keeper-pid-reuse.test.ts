// Hole (first found in the shim's reaper, whose place the keeper took): a container process that
// exits before its pid is known (the runtime has not exited yet, so its pid file is not read) has
// its exit kept; if its pid is then taken by another process (any process on the host, not the
// keeper's child) before the pid file is read, the keeper must still report the kept exit, not
// wait for the new process (the task's wait would hang for ever). The attacker: a container whose
// process exits at once while the host is busy making processes. The scenario runs in a private
// pid namespace, where the test chooses the next pid (ns_last_pid), so the reuse is exact.
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
  spawnAtPid,
} from "../helpers/pid-scenario.ts";

const repo = join(import.meta.dirname, "..", "..");
const skip =
  process.getuid?.() !== 0 ? "root only" : existsSync(join(repo, "dist", "berth-keeper")) ? undefined : "build first";

/** Runs in the private pid namespace (as its pid 1); prints what the keeper reported. */
async function scenario(): Promise<void> {
  const t = await keeperWithExitedMain(7);
  await reportScenario(t, async (out) => {
    // The main process's pid goes to a process that is not the keeper's child.
    const squatter = await spawnAtPid(t.main - 1, "sleep 30; :");
    out.reused = squatter.pidOfChild === t.main;
    t.release();
    out.mainPid = (await t.ran).mainPid === t.main;
    out.exit = await exitStatusOf(t, 3000);
    squatter.child.kill("SIGKILL");
  });
}

if (process.env[SCENARIO_ENV]) {
  await scenario();
} else {
  describe("the keeper keeps an exit whose pid is reused", { skip }, () => {
    test("an exit before the pid file is read is reported, though its pid was taken again", {
      timeout: 60_000,
    }, () => {
      const got = runScenario<{ reused: boolean; mainPid: boolean; exit: number | string }>(
        import.meta.filename,
        50_000,
      );
      assert.equal(got.reused, true, "the test could not reuse the pid");
      assert.equal(got.mainPid, true, "the keeper read the pid file");
      assert.equal(got.exit, 7, `the early exit: ${JSON.stringify(got)}`);
    });
  });
}
