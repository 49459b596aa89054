import assert from "node:assert/strict";
import { test } from "node:test";
import { type CgroupStats, emptyStats } from "../../runc/cgroups/stats.ts";
import { plainCgroupsPath } from "./cgroup-stats.ts";
import { memTotal, systemCpuNs } from "./host.ts";
import { statsJson, ZERO_TIME } from "./stats-json.ts";

test("plainCgroupsPath: a plain absolute path only (no .., no systemd form, no NUL, not empty)", () => {
  assert.equal(plainCgroupsPath("/berth/abc"), "/berth/abc");
  assert.equal(plainCgroupsPath("//berth//abc/"), "/berth/abc");
  for (const bad of [
    "berth/abc",
    "/berth/../../etc",
    "/",
    "system.slice:berth:abc",
    "/a\0b",
    7,
    undefined,
    `/${"a".repeat(5000)}`,
  ]) {
    assert.equal(plainCgroupsPath(bad), undefined, String(bad).slice(0, 40));
  }
});

test("host: /proc/stat's cpu line in ns, MemTotal in bytes", () => {
  assert.equal(systemCpuNs("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 1 1 1 1 1 1 1\n"), 36 * 10_000_000);
  assert.equal(systemCpuNs("nothing"), 0);
  assert.equal(memTotal("MemTotal:       8000 kB\nMemFree: 1 kB\n"), 8000 * 1024);
});

/** A v1 reading as berth-runc's cgroup code gives it. */
function v1Stats(): CgroupStats {
  const s = emptyStats();
  s.cpu.usage = { total: 5e9, percpu: [3e9, 2e9], percpuKernel: [], percpuUser: [], kernel: 1e9, user: 3e9 };
  s.cpu.throttling = { periods: 10, throttledPeriods: 2, throttledTime: 777 };
  s.memory.usage = { usage: 1048576, max: 2097152, failcnt: 0, limit: 2 ** 63 };
  s.memory.raw = { cache: 4096, total_inactive_file: 4096 };
  s.pids = { current: 3, limit: 0 };
  s.blkio.ioServiceBytesRecursive = [{ major: 8, minor: 0, op: "Read", value: 4096 }];
  return s;
}

test("statsJson: zeros with name and id for a container that is not running (dockerd's)", () => {
  const zeroCpu = {
    cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  };
  assert.deepEqual(statsJson({ Name: "/c", ID: "abc" }, undefined, undefined), {
    read: ZERO_TIME,
    preread: ZERO_TIME,
    pids_stats: {},
    blkio_stats: {
      io_service_bytes_recursive: null,
      io_serviced_recursive: null,
      io_queue_recursive: null,
      io_service_time_recursive: null,
      io_wait_time_recursive: null,
      io_merged_recursive: null,
      io_time_recursive: null,
      sectors_recursive: null,
    },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: zeroCpu,
    precpu_stats: zeroCpu,
    memory_stats: {},
    name: "/c",
    id: "abc",
  });
});

test("statsJson: a v1 reading over the one before; the machine's memory for no limit", () => {
  const at = new Date("2026-12-05T10:00:01.000Z");
  const cur = { at, version: 1 as const, stats: v1Stats(), systemCpu: 9e9, onlineCpus: 2, machineMemory: 8 * 2 ** 30 };
  const prev = { ...cur, at: new Date("2026-12-05T10:00:00.000Z"), systemCpu: 7e9 };
  const j = statsJson({ Name: "/c", ID: "abc" }, cur, prev) as Record<string, Record<string, unknown>>;
  assert.equal(j.read, "2026-12-05T10:00:01.000Z");
  assert.equal(j.preread, "2026-12-05T10:00:00.000Z");
  assert.deepEqual(j.pids_stats, { current: 3 });
  assert.deepEqual(j.cpu_stats, {
    cpu_usage: { total_usage: 5e9, percpu_usage: [3e9, 2e9], usage_in_kernelmode: 1e9, usage_in_usermode: 3e9 },
    system_cpu_usage: 9e9,
    online_cpus: 2,
    throttling_data: { periods: 10, throttled_periods: 2, throttled_time: 777 },
  });
  assert.equal((j.precpu_stats as { system_cpu_usage: number }).system_cpu_usage, 7e9);
  assert.deepEqual(j.memory_stats, {
    usage: 1048576,
    max_usage: 2097152,
    stats: { cache: 4096, total_inactive_file: 4096 },
    limit: 8 * 2 ** 30,
  });
  assert.deepEqual(j.blkio_stats?.io_service_bytes_recursive, [{ major: 8, minor: 0, op: "Read", value: 4096 }]);
  assert.deepEqual(j.blkio_stats?.io_queue_recursive, [], "v1: every list, empty ones as []");
});

test("statsJson: v2 as dockerd shows it: its own limit, no max_usage or failcnt, two blkio lists in lower case", () => {
  const stats = v1Stats();
  stats.cpu.usage.percpu = [];
  stats.memory.usage = { usage: 1048576, max: 5, failcnt: 1, limit: 67108864 };
  stats.pids = { current: 2, limit: 100 };
  stats.blkio.ioServicedRecursive = [{ major: 8, minor: 0, op: "Write", value: 2 }];
  const cur = { at: new Date(0), version: 2 as const, stats, systemCpu: 1, onlineCpus: 2, machineMemory: 8 * 2 ** 30 };
  const j = statsJson({ Name: "/c", ID: "abc" }, cur, undefined) as Record<string, Record<string, unknown>>;
  assert.deepEqual(j.memory_stats, {
    usage: 1048576,
    stats: { cache: 4096, total_inactive_file: 4096 },
    limit: 67108864,
  });
  assert.deepEqual(j.pids_stats, { current: 2, limit: 100 });
  assert.equal((j.cpu_stats!.cpu_usage as Record<string, unknown>).percpu_usage, undefined);
  assert.deepEqual(j.blkio_stats?.io_service_bytes_recursive, [{ major: 8, minor: 0, op: "read", value: 4096 }]);
  assert.deepEqual(j.blkio_stats?.io_serviced_recursive, [{ major: 8, minor: 0, op: "write", value: 2 }]);
  assert.equal(j.blkio_stats?.io_queue_recursive, null);
});
