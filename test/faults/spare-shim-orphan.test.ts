// kill -9 of berth-containerd right after it starts, while its spare berth-shim (started ahead of
// need, see src/shim/serve.ts) is still starting Node: the spare must exit by itself however early
// its daemon died. Before, the spare noted its parent only once Node had started and compared
// that parent with its ppid every second, so a spare whose daemon was already gone had been
// re-parented before it looked and never exited (~57 MB each).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { faultIterations, faultSeed, restart, seededRandom } from "../helpers/fault-loop.ts";
import { shimsOf } from "../helpers/invariants.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Spares of the daemon at `address`, waiting up to `ms` for them to go. */
async function sparesLeft(address: string, ms: number) {
  let left = shimsOf(address);
  for (let waited = 0; waited < ms && left.length > 0; waited += 100) {
    await sleep(100);
    left = shimsOf(address);
  }
  return left;
}

describe("a spare shim whose daemon is kill -9'd as it starts", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  before(async () => {
    d = await startBerthContainerd();
    await d.kill9();
  });
  after(async () => {
    // A failed run leaves spares: they hold no task, so they are just killed.
    for (const p of shimsOf(d.address)) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {}
    }
    await d?.cleanup();
  });

  test("exits by itself, whenever the daemon died", { timeout: 300_000 }, async (t) => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const n = faultIterations(10);
    t.diagnostic(`seed ${seed} (BERTH_FAULT_SEED=${seed} replays it), ${n} iterations`);
    // The first daemon's spare went with it (or is counted below as a leak).
    const leaked: number[] = [];
    let seen = 0;
    for (let i = 0; i < n; i++) {
      // 0-300 ms after the daemon answers: its spare was spawned just before it listened, so the
      // kill falls anywhere in the spare's Node start-up, or after it is serving.
      const delay = Math.floor(random() * 300);
      await restart(d, `iteration ${i}`);
      await sleep(delay);
      const before = shimsOf(d.address).length;
      seen += before;
      await d.kill9();
      // A spare that saw its daemon go exits at once; allow 3 s for a loaded machine.
      const left = await sparesLeft(d.address, 3000);
      t.diagnostic(
        `iteration ${i}: kill -9 ${delay} ms after the daemon answered: ${before} spare(s) before, ${left.length} after`,
      );
      for (const p of left) {
        leaked.push(p.pid);
        process.kill(p.pid, "SIGKILL"); // so the next iteration counts afresh
      }
    }
    t.diagnostic(`${n} iterations: ${seen} spares seen at the kill, ${leaked.length} outlived their daemon`);
    assert.deepEqual(leaked, [], "spare shims that outlived their daemon (pids)");

    // The daemon still starts, keeps one spare, and a clean stop leaves none.
    await restart(d, "after the kills");
    await d.stop();
    assert.deepEqual(
      (await sparesLeft(d.address, 3000)).map((p) => p.argv.join(" ")),
      [],
      "shims left after a clean stop",
    );
  });
});
