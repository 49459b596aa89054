// Hole (first found in the shim's reaper, whose place the keeper took): exits of pids nobody
// watches yet are kept while a spawn runs (the main process may exit before its pid file is read),
// but a cap that drops the oldest lets a burst of orphans push out the one exit that will be asked
// for, and the task's wait hangs for ever. The attacker: a container sharing the keeper's pid
// namespace whose processes leave more than the cap of orphans exiting just after its main
// process. The scenario runs in a private pid namespace (the test is its pid 1). The contract
// (native/berth-keeper/README.md, Reaping): the exit is reported, with its status if it was kept,
// else 255 at once. berth-keeper does not do that yet: with 3000 orphans the exit comes (5), with
// 4500 it never does; the test is `todo` until it does.
import assert from "node:assert/strict";
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { shimSys } from "../../src/common/sys.ts";
import { type ExitEvent, Keeper } from "../../src/shim/keeper.ts";
import { runScenario, SCENARIO_ENV, withTimeout } from "../helpers/pid-scenario.ts";

const repo = join(import.meta.dirname, "..", "..");
const skip =
  process.getuid?.() !== 0 ? "root only" : existsSync(join(repo, "dist", "berth-keeper")) ? undefined : "build first";

/** More orphans than the keeper keeps exits of (its PENDING_MAX, 4096). */
const BURST = 4500;

async function scenario(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "berth-keeper-burst-"));
  const k = await Keeper.start(dir);
  const out: Record<string, unknown> = {};
  try {
    const exited = new Promise<ExitEvent>((r) => k.onExit(r));
    const [stdin, release] = shimSys().pipe();
    const devNull = openSync("/dev/null", constants.O_RDWR);
    // The main process exits at once (an orphan: the keeper's from the start); once released, the
    // spawned shell leaves BURST orphans that exit, then exits itself.
    const script = [
      '(sh -c "exit 5" </dev/null >/dev/null 2>&1 & echo $! > init.pid.tmp)',
      "mv init.pid.tmp init.pid",
      "read x",
      `i=0; while [ $i -lt ${BURST} ]; do (true &); i=$((i+1)); done`,
      "exit 0",
    ].join("; ");
    const s = await k.spawn(
      "init",
      { pidFile: "init.pid", exitFile: "init.exit" },
      ["/bin/sh", "-c", script],
      ["PATH=/usr/bin:/bin"],
      [stdin, devNull, devNull],
    );
    closeSync(stdin);
    closeSync(devNull);
    const pidFile = join(dir, "init.pid");
    for (let i = 0; i < 500 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 10));
    const main = Number(readFileSync(pidFile, "utf8"));
    for (let i = 0; i < 500 && existsSync(`/proc/${main}`); i++) await new Promise((r) => setTimeout(r, 10));
    closeSync(release);
    const ran = await withTimeout(s.ran, 100_000);
    out.ran = ran === "timeout" ? ran : ran.mainPid === main;
    const e = await withTimeout(exited, 3000);
    out.exit = e === "timeout" ? e : e.status;
  } finally {
    await k.quit();
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

if (process.env[SCENARIO_ENV]) {
  await scenario();
} else {
  describe("the keeper never drops an exit it will be asked for", { skip }, () => {
    test(`a main process's exit is reported past ${BURST} orphans exiting after it`, {
      timeout: 150_000,
      todo: "berth-keeper drops the oldest kept exit past 4096 and then waits for it for ever",
    }, () => {
      const got = runScenario<{ ran: boolean | string; exit: number | string }>(import.meta.filename, 140_000);
      assert.equal(got.ran, true, `the keeper read the pid file: ${JSON.stringify(got)}`);
      // Its status if the keeper still had it, else 255 (lost): never no exit at all.
      assert.ok(got.exit === 5 || got.exit === 255, `the main process's exit: ${JSON.stringify(got)}`);
    });
  });
}
