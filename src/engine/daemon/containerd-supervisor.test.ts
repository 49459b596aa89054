import assert from "node:assert/strict";
import { test } from "node:test";
import { BACKOFF, nextBackoff } from "./containerd-supervisor.ts";

test("restarts back off: doubling from 0.5 s to 15 s, back to 0.5 s after a healthy run", () => {
  let wait: number | undefined;
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    wait = nextBackoff(wait, 100);
    waits.push(wait);
  }
  assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  assert.equal(nextBackoff(15_000, BACKOFF.healthyAfterMs), 500);
});
