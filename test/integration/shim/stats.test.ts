// The shim's cgroup statistics of a real process in cgroups of its own (root, cgroup v1; the parsers
// are unit tested beside src/shim/stats.ts).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { MetricsSchema } from "../../../src/proto/gen/cgroups/v1/metrics_pb.js";
import { readCgroupV1Metrics, statsAny } from "../../../src/shim/stats.ts";

const v1 = existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") && existsSync("/sys/fs/cgroup/pids");
describe("cgroup statistics of a real process", { skip: v1 ? undefined : "cgroup v1 only" }, () => {
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
});
