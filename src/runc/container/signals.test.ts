import assert from "node:assert/strict";
import { test } from "node:test";
import { signalNumber } from "./signals.ts";

test("signal names, SIG-prefixed names and numbers", () => {
  assert.equal(signalNumber("KILL"), 9);
  assert.equal(signalNumber("SIGTERM"), 15);
  assert.equal(signalNumber("term"), 15);
  assert.equal(signalNumber("10"), 10);
  assert.equal(signalNumber("SIGRTMIN+2"), 36);
  assert.throws(() => signalNumber("SIGNOPE"), /unknown signal/);
  assert.throws(() => signalNumber("99"), /invalid signal/);
});
