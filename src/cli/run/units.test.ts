// Sizes, durations and --cpus read as the docker CLI reads them, refused in its words.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBytes, parseDuration, parseNanoCpus } from "./units.ts";

test("sizes: binary units, b/ib after them, fractions, docker 28's refusals", () => {
  assert.deepEqual(parseBytes("64m"), { value: 64 * 1024 ** 2 });
  assert.deepEqual(parseBytes("1.5g"), { value: 1.5 * 1024 ** 3 });
  assert.deepEqual(parseBytes("512KiB"), { value: 512 * 1024 });
  assert.deepEqual(parseBytes("10 MB"), { value: 10 * 1024 ** 2 });
  assert.deepEqual(parseBytes("100b"), { value: 100 });
  assert.deepEqual(parseBytes("3"), { value: 3 });
  assert.deepEqual(parseBytes("12q"), { problem: "invalid suffix: 'q'" });
  assert.deepEqual(parseBytes("1KBB"), { problem: "invalid suffix: 'kbb'" });
  assert.deepEqual(parseBytes("1kx"), { problem: "invalid suffix: 'kx'" });
  assert.deepEqual(parseBytes("x"), { problem: "invalid size: 'x'" });
  assert.deepEqual(parseBytes("-1"), { problem: "invalid size: '-1'" });
  assert.deepEqual(parseBytes("1.2.3m"), { problem: 'strconv.ParseFloat: parsing "1.2.3": invalid syntax' });
});

test("durations: Go's units and forms", () => {
  assert.deepEqual(parseDuration("5s"), { value: 5e9 });
  assert.deepEqual(parseDuration("1m30s"), { value: 90e9 });
  assert.deepEqual(parseDuration("1.5h"), { value: 5400e9 });
  assert.deepEqual(parseDuration("250ms"), { value: 250e6 });
  assert.deepEqual(parseDuration("-2us"), { value: -2000 });
  assert.deepEqual(parseDuration("0"), { value: 0 });
  assert.deepEqual(parseDuration("5"), { problem: 'time: missing unit in duration "5"' });
  assert.deepEqual(parseDuration("5x"), { problem: 'time: unknown unit "x" in duration "5x"' });
  assert.deepEqual(parseDuration(""), { problem: 'time: invalid duration ""' });
  assert.deepEqual(parseDuration("s"), { problem: 'time: invalid duration "s"' });
});

test("--cpus: rationals to nano-CPUs, too precise refused", () => {
  assert.deepEqual(parseNanoCpus("1.5"), { value: 1_500_000_000 });
  assert.deepEqual(parseNanoCpus("3/2"), { value: 1_500_000_000 });
  assert.deepEqual(parseNanoCpus("2e-3"), { value: 2_000_000 });
  assert.deepEqual(parseNanoCpus(".5"), { value: 500_000_000 });
  assert.deepEqual(parseNanoCpus("-1"), { value: -1_000_000_000 });
  assert.deepEqual(parseNanoCpus("0.0000000001"), { problem: "value is too precise" });
  assert.deepEqual(parseNanoCpus("abc"), { problem: "failed to parse abc as a rational number" });
  assert.deepEqual(parseNanoCpus("1/0"), { problem: "failed to parse 1/0 as a rational number" });
  // A huge exponent is bounded (4 digits), not a bigint the size of memory.
  assert.deepEqual(parseNanoCpus("1e99999"), { problem: "failed to parse 1e99999 as a rational number" });
});
