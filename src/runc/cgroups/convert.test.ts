import assert from "node:assert/strict";
import { test } from "node:test";
import {
  blkioWeightToIoWeight,
  cpuMax,
  hugePageSizeName,
  numToStr,
  parseCpuList,
  parseHugePageDir,
  pidsMax,
  sharesToWeight,
  swapToV2,
} from "./convert.ts";

test("shares -> weight (runc 1.1 linear formula)", () => {
  assert.equal(sharesToWeight(0), 0);
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
});

test("blkio weight -> io weight", () => {
  assert.equal(blkioWeightToIoWeight(0), 0);
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
});

test("memory+swap -> swap only", () => {
  assert.equal(swapToV2(undefined, undefined), undefined);
  assert.equal(swapToV2(undefined, 100), undefined);
  assert.equal(swapToV2(undefined, -1), "max");
  assert.equal(swapToV2(-1, 100), "max");
  assert.equal(swapToV2(300, 100), "200");
  assert.equal(swapToV2(100, 100), "0");
  assert.throws(() => swapToV2(50, 100), /should be >= memory limit/);
  assert.throws(() => swapToV2(300, undefined), /without memory limit/);
});

test("cpu.max, pids.max and number formatting", () => {
  assert.equal(cpuMax(undefined, undefined), undefined);
  assert.equal(cpuMax(50000, 100000), "50000 100000");
  assert.equal(cpuMax(-1, 100000), "max 100000");
  assert.equal(cpuMax(20000, undefined), "20000");
  assert.equal(pidsMax(100), "100");
  assert.equal(pidsMax(0), "max");
  assert.equal(pidsMax(-1), "max");
  assert.equal(numToStr(0), undefined);
  assert.equal(numToStr(-1), "max");
  assert.equal(numToStr(42), "42");
});

test("cpu lists and huge page names", () => {
  assert.deepEqual(parseCpuList("0-2,5\n"), [0, 1, 2, 5]);
  assert.deepEqual(parseCpuList(""), []);
  assert.equal(hugePageSizeName(2 * 1024 * 1024), "2MB");
  assert.equal(hugePageSizeName(1024 ** 3), "1GB");
  assert.equal(hugePageSizeName(64 * 1024), "64KB");
  assert.equal(parseHugePageDir("hugepages-2048kB"), 2 * 1024 * 1024);
  assert.equal(parseHugePageDir("other"), undefined);
});
