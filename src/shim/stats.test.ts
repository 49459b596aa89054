import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { keyValues, memoryStatFields, numberOf, readCgroupV1Metrics } from "./stats.ts";

describe("cgroup statistics: parsers", () => {
  test("numbers, max, key/value files", () => {
    assert.equal(numberOf("42\n"), 42n);
    assert.equal(numberOf("max\n"), 0n);
    assert.equal(numberOf("garbage"), undefined);
    assert.deepEqual(
      keyValues("user 5\nsystem 7\nbad\n"),
      new Map([
        ["user", 5n],
        ["system", 7n],
      ]),
    );
  });

  test("memory.stat keys become MemoryStat fields", () => {
    const f = memoryStatFields(
      keyValues("cache 1\nrss 2\npgpgin 3\ntotal_cache 4\ntotal_pgmajfault 5\nhierarchical_memsw_limit 6\nshmem 9\n"),
    );
    assert.deepEqual(f, {
      cache: 1n,
      rss: 2n,
      pgPgIn: 3n,
      totalCache: 4n,
      totalPgMajFault: 5n,
      hierarchicalSwapLimit: 6n,
    });
  });
});

// A real process in its own cgroups: test/integration/shim/stats.test.ts (root, cgroup v1).
test("a process that does not exist is not found", async () => {
  await assert.rejects(readCgroupV1Metrics(2 ** 22 + 7), /not found/);
});
