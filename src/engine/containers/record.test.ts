import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createdState,
  exited,
  exitPending,
  newContainerId,
  paused,
  pendingExit,
  removing,
  started,
  startFailed,
  ZERO_TIME,
} from "./record.ts";

test("container ids: 64 hex digits, never an all-digit short id", () => {
  assert.match(newContainerId(), /^[0-9a-f]{64}$/);
  let calls = 0;
  const digitsFirst = (n: number) => {
    calls++;
    return calls === 1 ? Buffer.from("1".repeat(n * 2), "hex") : Buffer.alloc(n, 0xab);
  };
  assert.equal(newContainerId(digitsFirst), "ab".repeat(32));
  assert.equal(calls, 2);
});

test("state transitions: created → running → exited, start failures, removal", () => {
  const c = createdState();
  assert.equal(c.Status, "created");
  assert.equal(c.StartedAt, ZERO_TIME);
  const at = new Date("2026-12-05T12:00:00.000Z");
  const r = started(c, 42, at);
  assert.deepEqual([r.Status, r.Running, r.Pid, r.StartedAt], ["running", true, 42, at.toISOString()]);
  const later = new Date("2026-12-05T12:00:05.000Z");
  const e = exited(r, 137, later, true);
  assert.deepEqual([e.Status, e.Running, e.Pid, e.ExitCode, e.OOMKilled], ["exited", false, 0, 137, true]);
  assert.equal(e.FinishedAt, later.toISOString());
  assert.equal(e.StartedAt, at.toISOString(), "the start is kept");
  const again = started(e, 43, later);
  assert.deepEqual(
    [again.ExitCode, again.OOMKilled, again.Error],
    [0, false, ""],
    "a new run clears the last one's end",
  );
  // A start that fails: created stays created, with dockerd's exit codes.
  const nf = startFailed(c, 'exec: "nope": executable file not found in $PATH', later);
  assert.deepEqual([nf.Status, nf.ExitCode, nf.Running], ["created", 127, false]);
  assert.equal(startFailed(c, "permission denied", later).ExitCode, 126);
  assert.equal(startFailed(e, "something else", later).Status, "exited");
  assert.equal(startFailed(e, "something else", later).ExitCode, 128);
  assert.equal(removing(e).Status, "removing");
  assert.deepEqual([paused(r, true).Status, paused(paused(r, true), false).Status], ["paused", "running"]);
});

test("an exit kept while it is recorded: found again at a restart, and only for the run it ended", () => {
  const at = new Date("2026-12-05T12:00:00.000Z");
  const r = started(createdState(), 42, at);
  assert.equal(pendingExit(r), undefined, "a fresh run has no exit");
  const later = new Date("2026-12-05T12:00:05.000Z");
  const p = exitPending(r, 3, later);
  assert.deepEqual([p.Status, p.Running, p.Pid], ["running", true, 42], "still running until recorded");
  assert.deepEqual(pendingExit(p), { exitCode: 3, at: later });
  // An exit timed before berthd noted the start counts, at the start.
  assert.deepEqual(pendingExit(exitPending(r, 0, new Date("2026-12-05T11:59:59.990Z"))), { exitCode: 0, at });
  // The next run's start is after the last run's end: that end is not its exit.
  const next = started(exited(p, 3, later), 43, new Date("2026-12-05T12:00:06.000Z"));
  assert.equal(pendingExit(next), undefined);
  assert.equal(pendingExit(exited(p, 3, later)), undefined, "an exit recorded is not pending");
});
