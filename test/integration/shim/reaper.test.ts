// The reaper against the real kernel: this test process becomes a subreaper, so an orphan of a
// child is reparented to it (as a dead keeper's container init is to the shim) and reaped with
// its own exit status, while processes spawned through child_process keep theirs (libuv reaps
// them, not the reaper).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { childrenOf, Reaper } from "../../../src/shim/reaper.ts";

const addon = join(import.meta.dirname, "..", "..", "..", "dist", "shimsys.node");
const skip = existsSync(addon) ? undefined : "dist/shimsys.node is built by scripts/build.mjs";

const exitOf = (cmd: string, args: string[]) =>
  new Promise<number | null>((resolve) => spawn(cmd, args, { stdio: "ignore" }).once("exit", (c) => resolve(c)));

/** Runs `sh -c script`; once the shell has exited, resolves the first line it printed (an orphan's pid). */
async function firstLine(script: string): Promise<number> {
  const child = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  // Both watched from the start: stdout may close before the exit is reported, or after.
  await Promise.all([new Promise((r) => child.once("exit", r)), new Promise((r) => child.stdout.once("close", r))]);
  return Number(out.trim());
}

describe("Reaper", { skip }, () => {
  // One per process, as in the shim: two reapers would race for the same exits.
  const reaper = new Reaper();
  const exits = new Map<number, number>();
  reaper.onExit((e) => exits.set(e.pid, e.status));
  const reaped = async (pid: number): Promise<number> => {
    for (let i = 0; i < 500 && !exits.has(pid); i++) await new Promise((r) => setTimeout(r, 10));
    const status = exits.get(pid);
    assert.ok(status !== undefined, `pid ${pid} was not reaped`);
    return status;
  };

  test("reaps reparented orphans with their status; child_process keeps its own exits", {
    timeout: 30_000,
  }, async () => {
    reaper.start();
    // The shell prints the orphan's pid and exits at once; the orphan exits 7 a little later.
    const child = spawn("sh", ["-c", "sh -c 'sleep 0.3; exit 7' & echo $!"], { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    assert.equal(code, 0, "libuv kept the shell's exit");
    assert.ok(!exits.has(child.pid!), "the reaper left libuv's child alone");
    const orphan = Number(out.trim());
    assert.ok(orphan > 0);
    // Meanwhile many child_process exits, each with its own code.
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => exitOf("sh", ["-c", `exit ${i}`])));
    assert.deepEqual(
      codes,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(await reaped(orphan), 7);
    assert.ok(!childrenOf(process.pid).includes(orphan), "no zombie left");
  });

  test("a signal death is reported as 128 + the signal", { timeout: 30_000 }, async () => {
    const orphan = await firstLine("sleep 30 </dev/null >/dev/null & echo $!");
    assert.ok(orphan > 1);
    process.kill(orphan, "SIGKILL");
    assert.equal(await reaped(orphan), 137);
  });
});
