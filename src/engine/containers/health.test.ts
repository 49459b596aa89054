import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applyResult,
  boundedOutput,
  goDuration,
  HEALTH,
  type HealthResult,
  type HealthState,
  healthText,
  healthTimings,
  nextProbeMs,
  parseHealthState,
  probeArgs,
  startingHealth,
  stoppedHealth,
} from "./health.ts";

const at = (ms: number) => new Date(1_700_000_000_000 + ms).toISOString();
const result = (code: number, startMs = 0): HealthResult => ({
  Start: at(startMs),
  End: at(startMs + 10),
  ExitCode: code,
  Output: "",
});
const START = Date.parse(at(0));

test("probe: CMD's argv, CMD-SHELL under /bin/sh -c, none for NONE, empty or unknown kinds", () => {
  assert.deepEqual(probeArgs({ Test: ["CMD", "cat", "/x"] }), ["cat", "/x"]);
  assert.deepEqual(probeArgs({ Test: ["CMD-SHELL", "test -f /ok"] }), ["/bin/sh", "-c", "test -f /ok"]);
  for (const t of [[], ["NONE"], ["CMD"], ["CMD-SHELL"], ["SHELL", "x"], ["cmd", "x"]]) {
    assert.equal(probeArgs({ Test: t }), undefined, JSON.stringify(t));
  }
  assert.equal(probeArgs(undefined), undefined);
});

test("timings: dockerd's defaults (30 s, 30 s, 0, 5 s, 3) for zero or negative fields", () => {
  assert.deepEqual(healthTimings({}), {
    intervalMs: 30_000,
    timeoutMs: 30_000,
    startPeriodMs: 0,
    startIntervalMs: 5_000,
    retries: 3,
  });
  const t = healthTimings({ Interval: 1e9, Timeout: 5e8, StartPeriod: 2e9, StartInterval: 1e8, Retries: 2 });
  assert.deepEqual(t, { intervalMs: 1000, timeoutMs: 500, startPeriodMs: 2000, startIntervalMs: 100, retries: 2 });
  assert.equal(healthTimings({ Retries: -4 }).retries, 3);
});

test("results: failures count up to retries for unhealthy, a success resets; the log keeps five", () => {
  const t = healthTimings({ Retries: 2 });
  let h: HealthState = startingHealth(undefined);
  h = applyResult(h, result(1), t, START);
  assert.deepEqual([h.Status, h.FailingStreak], ["starting", 1]);
  h = applyResult(h, result(1), t, START);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 2]);
  h = applyResult(h, result(-1), t, START);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 3]);
  h = applyResult(h, result(0), t, START);
  assert.deepEqual([h.Status, h.FailingStreak], ["healthy", 0]);
  for (let i = 0; i < 10; i++) h = applyResult(h, result(0, i), t, START);
  assert.equal(h.Log.length, HEALTH.maxLogEntries);
  assert.equal(h.Log.at(-1)!.Start, at(9));
});

test("start period: failures while starting within it do not count; after it they do", () => {
  const t = healthTimings({ StartPeriod: 10e9, Retries: 1 });
  let h = startingHealth(undefined);
  h = applyResult(h, result(1, 5_000), t, START);
  assert.deepEqual([h.Status, h.FailingStreak, h.Log.length], ["starting", 0, 1]);
  h = applyResult(h, result(1, 11_000), t, START);
  assert.deepEqual([h.Status, h.FailingStreak], ["unhealthy", 1]);
  // StartInterval applies while starting within the start period only.
  const si = healthTimings({ StartPeriod: 10e9, StartInterval: 1e9, Interval: 30e9 });
  assert.equal(nextProbeMs(startingHealth(undefined), si, 1_000), 1_000);
  assert.equal(nextProbeMs(startingHealth(undefined), si, 11_000), 30_000);
  assert.equal(nextProbeMs({ ...startingHealth(undefined), Status: "healthy" }, si, 1_000), 30_000);
});

test("starting again keeps the log; a stop shows unhealthy; ps's words", () => {
  const h: HealthState = { Status: "healthy", FailingStreak: 0, Log: [result(0)] };
  assert.deepEqual(startingHealth(h), { Status: "starting", FailingStreak: 0, Log: [result(0)] });
  assert.equal(stoppedHealth(h).Status, "unhealthy");
  assert.equal(healthText(startingHealth(undefined)), "health: starting");
  assert.equal(healthText(h), "healthy");
});

test("output: at most 4 KiB, with ... when more came", () => {
  assert.equal(boundedOutput(Buffer.from("ok\n"), false), "ok\n");
  const big = boundedOutput(Buffer.alloc(5000, "y"), false);
  assert.equal(big.length, 4096 + 3);
  assert.ok(big.endsWith("y..."));
  assert.equal(boundedOutput(Buffer.from("abc"), true), "abc...");
});

test("Go's duration text for the timeout message", () => {
  assert.equal(goDuration(1e9), "1s");
  assert.equal(goDuration(5e8), "500ms");
  assert.equal(goDuration(1.5e9), "1.5s");
  assert.equal(goDuration(90e9), "1m30s");
  assert.equal(goDuration(3600e9), "1h0m0s");
  assert.equal(goDuration(1_500), "1.5µs");
  assert.equal(goDuration(0), "0s");
});

test("a stored health state: checked, anything malformed dropped", () => {
  const good = { Status: "healthy", FailingStreak: 0, Log: [result(0)] };
  assert.deepEqual(parseHealthState(good), good);
  for (const bad of [
    null,
    [],
    "healthy",
    { ...good, Status: "fine" },
    { ...good, FailingStreak: 1.5 },
    { ...good, Log: Array(6).fill(result(0)) },
    { ...good, Log: [{ ...result(0), ExitCode: "0" }] },
    { ...good, Log: [{ ...result(0), Output: "x".repeat(10_000) }] },
    { ...good, Log: [null] },
  ]) {
    assert.equal(parseHealthState(bad), undefined, JSON.stringify(bad)?.slice(0, 80));
  }
});
