// --gpus values as docker 28 reads them (its bodies and words, recorded from /usr/local/bin/docker
// against a recording daemon; run-flags.test.ts compares whole bodies live), and hostile ones refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseGpuRequest } from "./gpus.ts";

test("quoted fields keep their commas; a bare field is the count", () => {
  assert.deepEqual(parseGpuRequest('"device=0,2",capabilities=compute'), {
    value: { Driver: "", Count: 0, DeviceIDs: ["0", "2"], Capabilities: [["compute", "gpu"]], Options: {} },
  });
  assert.deepEqual(parseGpuRequest("all"), {
    value: { Driver: "", Count: -1, DeviceIDs: null, Capabilities: [["gpu"]], Options: {} },
  });
});

test("broken quoting, an empty value, unknown keys, repeated keys: docker's words", () => {
  const problems: [string, string][] = [
    ['"abc', 'parse error on line 1, column 5: extraneous or missing " in quoted-field'],
    ['a"b', 'parse error on line 1, column 2: bare " in non-quoted-field'],
    ['"1"x', 'parse error on line 1, column 3: extraneous or missing " in quoted-field'],
    ["", "EOF"],
    ["bogus=1", "unexpected key 'bogus' in 'bogus=1'"],
    ["1,count=2", "gpu request key 'count' can be specified only once"],
    ["count=1e3", 'invalid count (1e3): value must be either "all" or an integer: invalid syntax'],
  ];
  for (const [v, words] of problems) assert.deepEqual(parseGpuRequest(v), { problem: words }, v);
});

test("a long value is read in one pass and refused or taken, not looped on", () => {
  const long = `"${"a,".repeat(100_000)}`;
  assert.ok("problem" in parseGpuRequest(long));
  const r = parseGpuRequest(`device=${"1,".repeat(1000)}1`);
  assert.ok("problem" in r);
});
