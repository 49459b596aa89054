// Hole: the shim's reaper kept at most 1024 exits nobody had asked for yet and dropped the oldest
// beyond that, whoever they belonged to. A container that makes a burst of orphans exit just as
// one of the shim's own processes (an exec) exits pushed that exit out before the shim asked for
// it, and the exec's wait hung for ever. The attacker: a container with more than 1024 processes
// exiting at once. The scenario runs in a private pid namespace (the test is its pid 1).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type { Socket } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { Reaper } from "../../src/shim/reaper.ts";
import {
  type Claimed,
  ExitLog,
  orphan,
  runScenario,
  SCENARIO_ENV,
  statusOf,
  withTimeout,
} from "../helpers/reaper-scenario.ts";

const addon = join(import.meta.dirname, "..", "..", "dist", "shimsys.node");
const skip = process.getuid?.() !== 0 ? "root only" : existsSync(addon) ? undefined : "build first";

const BURST = 1500;

async function scenario(): Promise<void> {
  const reaper = new Reaper();
  reaper.start();
  const exits = new ExitLog(reaper);
  setInterval(() => {}, 1000);

  // The burst's processes wait on one pipe (their fd 3; Node closes a child's stdin when it
  // exits); closing it makes them all exit at once, orphans of this process by then.
  const maker = spawn("sh", ["-c", `for i in $(seq ${BURST}); do (read x <&3; exit 1) & done; echo started`], {
    stdio: ["ignore", "pipe", "ignore", "pipe"],
  });
  await new Promise((r) => maker.stdout?.once("data", r));
  await new Promise((r) => (maker.exitCode === null ? maker.once("exit", r) : r(undefined)));

  // The exec exits first; then the burst.
  const claim = reaper.expect();
  const exec = await orphan("exit 5");
  await exits.seen(exec);
  (maker.stdio[3] as Socket).destroy();
  for (let i = 0; i < 300 && exits.count < BURST + 1; i++) await new Promise((r) => setTimeout(r, 50));
  const out = { reaped: exits.count, exec: await withTimeout(claim.wait(exec), 3000), kept: reaper.keptCount };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

if (process.env[SCENARIO_ENV]) {
  await scenario();
} else {
  describe("the reaper never drops an exit the shim will ask for", { skip }, () => {
    test(`an exec's exit survives ${BURST} orphans exiting after it`, { timeout: 120_000 }, () => {
      const got = runScenario<{ reaped: number; exec: Claimed; kept: number }>(import.meta.filename, 110_000);
      assert.ok(got.reaped >= BURST + 1, `the burst was reaped: ${JSON.stringify(got)}`);
      assert.equal(statusOf(got.exec), 5, `the exec's exit: ${JSON.stringify(got)}`);
      assert.equal(got.kept, 0, "nothing kept once the claim is done");
    });
  });
}
