import assert from "node:assert/strict";
import { test } from "node:test";
import { logDriverOf, parseByteSize } from "./log-config.ts";

const json = (Config: Record<string, string>) => logDriverOf({ Type: "json-file", Config });

test("docker's sizes: plain bytes, k/m/g binary multiples, fractions, an optional b or ib", () => {
  assert.equal(parseByteSize("10"), 10);
  assert.equal(parseByteSize("10k"), 10240);
  assert.equal(parseByteSize("10m"), 10 << 20);
  assert.equal(parseByteSize("1g"), 1 << 30);
  assert.equal(parseByteSize("1.5m"), 1572864);
  assert.equal(parseByteSize("2KiB"), 2048);
  assert.equal(parseByteSize("3 MB"), 3 << 20);
  for (const bad of ["", "abc", "-1", "1x", "m", "1e3", "1mm", "99999999999p"])
    assert.equal(parseByteSize(bad), undefined, bad);
});

test("json-file (also for an empty Type) with max-size and max-file; max-file alone does nothing", () => {
  assert.deepEqual(logDriverOf({ Type: "", Config: {} }), { driver: "json-file" });
  assert.deepEqual(json({ "max-size": "10m", "max-file": "3" }), {
    driver: "json-file",
    maxSize: 10 << 20,
    maxFile: 3,
  });
  assert.deepEqual(json({ "max-file": "3" }), { driver: "json-file" });
  assert.deepEqual(json({ compress: "false", tag: "x", labels: "a" }), { driver: "json-file" });
  assert.deepEqual(logDriverOf({ Type: "none", Config: {} }), { driver: "none" });
});

test("bad options and drivers: dockerd's messages", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [() => json({ "max-size": "abc" }), /^failed to initialize logging driver: invalid size: 'abc'$/],
    [() => json({ "max-size": "-1" }), /invalid size: '-1'/],
    [() => json({ "max-size": "0" }), /max-size must be a positive number/],
    [() => json({ "max-size": "1m", "max-file": "0" }), /max-file cannot be less than 1/],
    [() => json({ "max-size": "1m", "max-file": "x" }), /strconv.Atoi: parsing "x": invalid syntax/],
    [() => json({ "max-size": "1m", "max-file": "1001" }), /at most 1000/],
    [() => json({ foo: "bar" }), /^unknown log opt 'foo' for json-file log driver$/],
    [() => json({ compress: "true" }), /does not compress/],
    [() => logDriverOf({ Type: "foo", Config: {} }), /^error looking up logging plugin foo: plugin "foo" not found$/],
    [() => logDriverOf({ Type: "local", Config: {} }), /does not support the local log driver/],
    [() => logDriverOf({ Type: "none", Config: { "max-size": "1m" } }), /^invalid logging opts for driver none$/],
  ];
  for (const [fn, re] of cases)
    assert.throws(fn, (e: Error & { kind?: string }) => re.test(e.message) && e.kind === "invalid-argument");
});
