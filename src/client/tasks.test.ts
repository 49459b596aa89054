import assert from "node:assert/strict";
import { test } from "node:test";
import { FailedPreconditionError, InvalidArgumentError } from "../common/errors.ts";
import { bounded, signalNumber } from "./tasks.ts";

test("signals by number or name", () => {
  assert.equal(signalNumber(15), 15);
  assert.equal(signalNumber("SIGTERM"), 15);
  assert.equal(signalNumber("term"), 15);
  assert.equal(signalNumber("KILL"), 9);
  assert.equal(signalNumber("9"), 9);
  assert.equal(signalNumber(64), 64);
});

test("what is not a signal is refused", () => {
  for (const s of [0, -1, 65, 1.5, Number.NaN, "SIGNOPE", "", "0", "99", "SIG"]) {
    assert.throws(() => signalNumber(s), InvalidArgumentError, String(s));
  }
});

test("a list over its bound is refused, naming what was listed", () => {
  assert.deepEqual(bounded("tasks", [1, 2], 2), [1, 2]);
  assert.throws(
    () => bounded("task c1: pids", [1, 2, 3], 2),
    (e: Error) =>
      e instanceof FailedPreconditionError && e.message === "task c1: pids: the daemon lists 3, more than 2",
  );
});
