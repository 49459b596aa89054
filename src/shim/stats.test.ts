import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { MetricsSchema } from "../proto/gen/cgroups/v1/metrics_pb.js";
import { keyValues, memoryStatFields, numberOf, readCgroupV1Metrics, statsAny } from "./stats.ts";

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

const v1 = existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") && existsSync("/sys/fs/cgroup/pids");
describe("cgroup statistics of a real process", {
  skip: process.getuid?.() !== 0 || !v1 ? "root, cgroup v1" : undefined,
}, () => {
  test("limits, usage and pids of a process in its own cgroups", { timeout: 30_000 }, async () => {
    const child = spawn("sleep", ["30"], { stdio: "ignore" });
    const name = `berth-stats-test-${child.pid}`;
    const mem = `/sys/fs/cgroup/memory/${name}`;
    const pids = `/sys/fs/cgroup/pids/${name}`;
    try {
      mkdirSync(mem);
      mkdirSync(pids);
      writeFileSync(`${mem}/memory.limit_in_bytes`, String(64 << 20));
      writeFileSync(`${pids}/pids.max`, "50");
      writeFileSync(`${mem}/cgroup.procs`, String(child.pid));
      writeFileSync(`${pids}/cgroup.procs`, String(child.pid));
      const m = await readCgroupV1Metrics(child.pid!);
      assert.equal(m.memory?.usage?.limit, BigInt(64 << 20));
      assert.ok((m.pids?.current ?? 0n) >= 1n);
      assert.equal(m.pids?.limit, 50n);
      assert.ok((m.cpu?.usage?.perCpu?.length ?? 0) > 0);
      const any = await statsAny(child.pid!);
      assert.equal(any.typeUrl, "io.containerd.cgroups.v1.Metrics");
      assert.equal(fromBinary(MetricsSchema, any.value).pids?.limit, 50n);
    } finally {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await gone;
      for (const d of [mem, pids]) if (existsSync(d)) rmdirSync(d);
    }
  });

  test("a process that does not exist is not found", async () => {
    await assert.rejects(readCgroupV1Metrics(2 ** 22 + 7), /not found/);
  });
});
