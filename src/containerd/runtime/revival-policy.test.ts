import assert from "node:assert/strict";
import { test } from "node:test";
import {
  planRevival,
  REVIVAL_FIRST_DELAY_MS,
  REVIVAL_LIMIT,
  REVIVAL_MAX_DELAY_MS,
  REVIVAL_WINDOW_MS,
} from "./revival-policy.ts";

test("a shim's first death is restarted at once; each further one within the window waits twice as long", () => {
  const now = 1_000_000;
  assert.deepEqual(planRevival([], now), { giveUp: false, delayMs: 0 });
  assert.deepEqual(planRevival([now - 1000], now), { giveUp: false, delayMs: REVIVAL_FIRST_DELAY_MS });
  assert.deepEqual(planRevival([now - 2000, now - 1000], now), { giveUp: false, delayMs: 2 * REVIVAL_FIRST_DELAY_MS });
  const delays = [];
  for (let n = 1; n < REVIVAL_LIMIT; n++) {
    const plan = planRevival(
      Array.from({ length: n }, (_, i) => now - i),
      now,
    );
    assert.equal(plan.giveUp, false);
    if (!plan.giveUp) delays.push(plan.delayMs);
  }
  for (const [i, d] of delays.entries()) if (i > 0) assert.ok(d >= delays[i - 1]!, `${delays}`);
  assert.ok(delays.every((d) => d <= REVIVAL_MAX_DELAY_MS));
});

test("past the limit within the window it gives up; restarts older than the window do not count", () => {
  const now = 5_000_000;
  const burst = Array.from({ length: REVIVAL_LIMIT }, (_, i) => now - 1000 * (i + 1));
  assert.deepEqual(planRevival(burst, now), { giveUp: true, restarts: REVIVAL_LIMIT });
  const old = burst.map((t) => t - REVIVAL_WINDOW_MS);
  assert.deepEqual(planRevival(old, now), { giveUp: false, delayMs: 0 });
  // Only the recent ones count: one recent restart, many old ones.
  assert.deepEqual(planRevival([...old, now - 10], now), { giveUp: false, delayMs: REVIVAL_FIRST_DELAY_MS });
});
