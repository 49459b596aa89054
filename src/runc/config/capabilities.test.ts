import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CAP_LAST_KNOWN,
  CAPABILITY_NAMES,
  capabilityNumber,
  isKnownCapability,
  kernelLastCap,
  parseCapLastCap,
} from "./capabilities.ts";
import { isRlimInfinity, RLIMITS, rlimitNumber } from "./rlimits.ts";

test("capability numbers", () => {
  assert.equal(capabilityNumber("CAP_CHOWN"), 0);
  assert.equal(capabilityNumber("CAP_SYS_ADMIN"), 21);
  assert.equal(capabilityNumber("CAP_CHECKPOINT_RESTORE"), 40);
  assert.equal(capabilityNumber("CAP_NOPE"), undefined);
  assert.equal(capabilityNumber("toString"), undefined);
  assert.equal(isKnownCapability("CAP_BPF"), true);
});

test("names are dense and ordered by number", () => {
  assert.equal(CAPABILITY_NAMES.length, CAP_LAST_KNOWN + 1);
  for (const [i, name] of CAPABILITY_NAMES.entries()) assert.equal(capabilityNumber(name), i);
});

test("cap_last_cap", () => {
  assert.equal(parseCapLastCap("40\n"), 40);
  assert.equal(parseCapLastCap("garbage"), undefined);
  assert.equal(parseCapLastCap("99"), undefined);
  const last = kernelLastCap();
  assert.ok(last >= 30 && last < 64);
});

test("rlimit numbers", () => {
  assert.equal(rlimitNumber("RLIMIT_NOFILE"), 7);
  assert.equal(rlimitNumber("RLIMIT_NPROC"), 6);
  assert.equal(rlimitNumber("RLIMIT_RTTIME"), 15);
  assert.equal(rlimitNumber("RLIMIT_NOPE"), undefined);
  assert.equal(Object.keys(RLIMITS).length, 16);
  assert.equal(isRlimInfinity(Number(2n ** 64n - 1n)), true);
  assert.equal(isRlimInfinity(1024), false);
});
