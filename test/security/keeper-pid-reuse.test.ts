// Hole (first found in the shim's reaper, whose place the keeper took): a container process that
// exits before its pid is known (the runtime has not exited yet, so its pid file is not read) has
// its exit kept; if its pid is then taken by another process (any process on the host, not the
// keeper's child) before the pid file is read, the keeper must still report the kept exit, not
// wait for the new process (the task's wait would hang for ever). The attacker: a container whose
// process exits at once while the host is busy making processes. The scenario runs in a private
// pid namespace, where the test chooses the next pid (ns_last_pid), so the reuse is exact.
import assert from "node:assert/strict";
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { shimSys } from "../../src/common/sys.ts";
import { type ExitEvent, Keeper } from "../../src/shim/keeper.ts";
import { runScenario, SCENARIO_ENV, spawnAtPid, withTimeout } from "../helpers/pid-scenario.ts";

const repo = join(import.meta.dirname, "..", "..");
const skip =
  process.getuid?.() !== 0 ? "root only" : existsSync(join(repo, "dist", "berth-keeper")) ? undefined : "build first";

/** Runs in the private pid namespace (as its pid 1); prints what the keeper reported. */
async function scenario(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "berth-keeper-reuse-"));
  const k = await Keeper.start(dir);
  const out: Record<string, unknown> = {};
  try {
    const exited = new Promise<ExitEvent>((r) => k.onExit(r));
    // The spawned shell (the runtime) starts the main process as an orphan (it is the keeper's
    // from the start), names it in the pid file, and waits for stdin to close before it exits.
    const [stdin, release] = shimSys().pipe();
    const devNull = openSync("/dev/null", constants.O_RDWR);
    const s = await k.spawn(
      "init",
      { pidFile: "init.pid", exitFile: "init.exit" },
      [
        "/bin/sh",
        "-c",
        '(sh -c "exit 7" </dev/null >/dev/null 2>&1 & echo $! > init.pid.tmp); mv init.pid.tmp init.pid; read x; exit 0',
      ],
      ["PATH=/usr/bin:/bin"],
      [stdin, devNull, devNull],
    );
    closeSync(stdin);
    closeSync(devNull);
    const pidFile = join(dir, "init.pid");
    for (let i = 0; i < 500 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 10));
    const early = Number(readFileSync(pidFile, "utf8"));
    // It exits and the keeper reaps it (kept: the spawn is still running).
    for (let i = 0; i < 500 && existsSync(`/proc/${early}`); i++) await new Promise((r) => setTimeout(r, 10));
    // Its pid goes to a process that is not the keeper's child.
    const squatter = await spawnAtPid(early - 1, "sleep 30; :");
    out.reused = squatter.pidOfChild === early;
    closeSync(release);
    const ran = await s.ran;
    out.mainPid = ran.mainPid === early;
    const e = await withTimeout(exited, 3000);
    out.exit = e === "timeout" ? e : e.status;
    squatter.child.kill("SIGKILL");
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
