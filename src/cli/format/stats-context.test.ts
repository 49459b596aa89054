import assert from "node:assert/strict";
import { test } from "node:test";
import { cpuPercent, emptyEntry, entryOf, memoryUsage, statsRow } from "./stats-context.ts";

test("docker's numbers: CPU % from the deltas times the CPUs, memory less inactive file (v1 and v2)", () => {
  const doc = {
    name: "/web",
    id: "0123456789abcdef0123",
    cpu_stats: { cpu_usage: { total_usage: 3_000_000_000 }, system_cpu_usage: 20_000_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000_000 }, system_cpu_usage: 10_000_000_000 },
    memory_stats: { usage: 10 * 1024 * 1024, limit: 64 * 1024 * 1024, stats: { inactive_file: 2 * 1024 * 1024 } },
    blkio_stats: {
      io_service_bytes_recursive: [
        { op: "Read", value: 4096 },
        { op: "write", value: 1_500_000 },
        { op: "Total", value: 9 },
      ],
    },
    pids_stats: { current: 3 },
    networks: { eth0: { rx_bytes: 1000, tx_bytes: 2000 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
  };
  assert.equal(cpuPercent(doc), 40);
  assert.equal(memoryUsage(doc), 8 * 1024 * 1024);
  // cgroup v1: total_inactive_file wins.
  assert.equal(
    memoryUsage({ memory_stats: { usage: 100, stats: { total_inactive_file: 30, inactive_file: 10 } } }),
    70,
  );
  // More inactive than used: usage as it is.
  assert.equal(memoryUsage({ memory_stats: { usage: 100, stats: { inactive_file: 300 } } }), 100);
  assert.deepEqual(statsRow(entryOf("web", doc), true), {
    BlockIO: "4.1kB / 1.5MB",
    CPUPerc: "40.00%",
    Container: "web",
    ID: "0123456789ab",
    MemPerc: "12.50%",
    MemUsage: "8MiB / 64MiB",
    Name: "web",
    NetIO: "1.5kB / 2kB",
    PIDs: "3",
  });
});

test("a hostile or empty document counts nothing and throws nothing", () => {
  for (const doc of [
    {},
    { cpu_stats: "x", precpu_stats: [], memory_stats: { usage: -5, limit: "big", stats: null } },
    {
      cpu_stats: { cpu_usage: { total_usage: Number.NaN, percpu_usage: "no" } },
      networks: [1, 2],
      blkio_stats: { io_service_bytes_recursive: [null, { op: 7 }] },
    },
    { name: 42, id: {}, pids_stats: { current: Number.POSITIVE_INFINITY } },
  ]) {
    const row = statsRow(entryOf("c", doc as never), true);
    assert.equal(row.CPUPerc, "0.00%");
    assert.equal(row.MemUsage, "0B / 0B");
    assert.equal(row.PIDs, "0");
    assert.equal(row.Name, "--");
  }
  assert.equal(statsRow({ ...emptyEntry("c"), invalid: true }, true).MemUsage, "-- / --");
});
