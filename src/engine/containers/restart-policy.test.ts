import assert from "node:assert/strict";
import { test } from "node:test";
import { afterExit, BACKOFF, killEndsPolicy, nextDelayMs, policyRestarts, startsOnBoot } from "./restart-policy.ts";
import type { RestartPolicy } from "./spec/types.ts";

const policy = (Name: RestartPolicy["Name"], MaximumRetryCount = 0): RestartPolicy => ({ Name, MaximumRetryCount });
const exit = (exitCode: number, restartCount = 0, manuallyStopped = false) => ({
  exitCode,
  restartCount,
  manuallyStopped,
});

test("back-off: 100 ms first, doubled each time, capped at a minute, reset by a run of 10 s", () => {
  const seen: number[] = [];
  let d = 0;
  for (let i = 0; i < 12; i++) {
    d = nextDelayMs(d, 50);
    seen.push(d);
  }
  assert.deepEqual(seen.slice(0, 5), [100, 200, 400, 800, 1600]);
  assert.equal(seen.at(-1), BACKOFF.maxMs);
  assert.ok(seen.every((v) => v <= 60_000));
  assert.equal(nextDelayMs(60_000, 9_999), 60_000);
  assert.equal(nextDelayMs(60_000, 10_000), 100);
  assert.equal(nextDelayMs(-5, 0), 100, "a bad previous value starts over");
});

test("policies: no never, always always, unless-stopped unless stopped by a user", () => {
  for (const name of ["", "no"] as const) assert.equal(policyRestarts(policy(name), exit(1)), false);
  assert.equal(policyRestarts(policy("always"), exit(0)), true);
  assert.equal(policyRestarts(policy("always"), exit(0, 0, true)), true);
  assert.equal(policyRestarts(policy("unless-stopped"), exit(0)), true);
  assert.equal(policyRestarts(policy("unless-stopped"), exit(137, 0, true)), false);
});

test("on-failure: only a non-zero exit, and only while the count is below the maximum (0: none)", () => {
  assert.equal(policyRestarts(policy("on-failure"), exit(0)), false);
  assert.equal(policyRestarts(policy("on-failure"), exit(1, 1_000_000)), true);
  assert.equal(policyRestarts(policy("on-failure", 2), exit(1, 0)), true);
  assert.equal(policyRestarts(policy("on-failure", 2), exit(1, 1)), true);
  assert.equal(policyRestarts(policy("on-failure", 2), exit(1, 2)), false);
});

test("an exit after a user's stop or kill never restarts, and the back-off still advances", () => {
  const base = { ...exit(137), ranMs: 1, previousDelayMs: 100 };
  assert.deepEqual(afterExit(policy("always"), { ...base, cancelled: true }), { restart: false, delayMs: 200 });
  assert.deepEqual(afterExit(policy("always"), { ...base, cancelled: false }), { restart: true, delayMs: 200 });
  assert.deepEqual(afterExit(policy("no"), { ...base, cancelled: false }), { restart: false, delayMs: 200 });
});

test("on a daemon's start: always even when stopped, unless-stopped not when stopped, on-failure with retries left", () => {
  assert.equal(startsOnBoot(policy("always"), exit(137, 0, true)), true);
  assert.equal(startsOnBoot(policy("unless-stopped"), exit(137, 0, true)), false);
  assert.equal(startsOnBoot(policy("unless-stopped"), exit(0, 0, false)), true);
  assert.equal(startsOnBoot(policy("on-failure", 3), exit(2, 3)), false);
  assert.equal(startsOnBoot(policy("on-failure", 3), exit(2, 2)), true);
  assert.equal(startsOnBoot(policy("no"), exit(2)), false);
});

test("kill ends the policy for SIGKILL, the stop signal, or any signal when none is set", () => {
  assert.equal(killEndsPolicy(9, 15), true);
  assert.equal(killEndsPolicy(15, 15), true);
  assert.equal(killEndsPolicy(1, 15), false);
  assert.equal(killEndsPolicy(1, undefined), true);
});
