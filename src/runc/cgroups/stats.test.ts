import assert from "node:assert/strict";
import { test } from "node:test";
import { emptyStats, runcStatsData, stringifyExact } from "./stats.ts";
import { parseBlkioStat } from "./v1/blkio.ts";
import { parseIoStat } from "./v2/stats.ts";

test("empty stats render like runc's events --stats (omitempty)", () => {
  const s = emptyStats();
  assert.equal(
    stringifyExact(runcStatsData(s)),
    JSON.stringify({
      cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
      cpuset: {
        cpu_exclusive: 0,
        mem_hardwall: 0,
        mem_exclusive: 0,
        memory_migrate: 0,
        memory_spread_page: 0,
        memory_spread_slab: 0,
        memory_pressure: 0,
        sched_load_balance: 0,
        sched_relax_domain_level: 0,
      },
      memory: {
        usage: { limit: 0, failcnt: 0 },
        swap: { limit: 0, failcnt: 0 },
        kernel: { limit: 0, failcnt: 0 },
        kernelTCP: { limit: 0, failcnt: 0 },
      },
      pids: {},
      blkio: {},
      hugetlb: {},
      intel_rdt: {},
      network_interfaces: null,
    }),
  );
});

test("filled stats keep runc's field names; big integers print exactly", () => {
  const s = emptyStats();
  s.cpu.usage.total = 16731878;
  s.cpu.usage.percpu = [16731878, 0];
  s.cpu.throttling.periods = 2;
  s.memory.kernel.limit = 2 ** 63 - 4096; // the kernel's "unlimited", exact as a double
  s.memory.raw = { rss: 49152, cache: 12288 };
  s.pids = { current: 1, limit: 100 };
  s.blkio.ioServiceBytesRecursive = [{ major: 8, minor: 0, op: "Read", value: 4096 }];
  s.hugetlb["2MB"] = { usage: 0, max: 0, failcnt: 0 };
  const text = stringifyExact(runcStatsData(s));
  assert.match(text, /"usage":\{"total":16731878,"percpu":\[16731878,0\],"kernel":0,"user":0\}/);
  assert.match(text, /"throttling":\{"periods":2\}/);
  assert.match(text, /"kernel":\{"limit":9223372036854771712,"failcnt":0\}/);
  assert.match(text, /"raw":\{"cache":12288,"rss":49152\}/);
  assert.match(text, /"pids":\{"current":1,"limit":100\}/);
  assert.match(text, /"blkio":\{"ioServiceBytesRecursive":\[\{"major":8,"op":"Read","value":4096\}\]\}/);
  assert.match(text, /"hugetlb":\{"2MB":\{"failcnt":0\}\}/);
  assert.equal(stringifyExact({ max: 2 ** 64 }), '{"max":18446744073709551615}');
});

test("v1 blkio and v2 io.stat parsing", () => {
  assert.deepEqual(parseBlkioStat("8:0 Read 100\n8:0 Write 5\nTotal 105\n8:16 7\n"), [
    { major: 8, minor: 0, op: "Read", value: 100 },
    { major: 8, minor: 0, op: "Write", value: 5 },
    { major: 8, minor: 16, op: "", value: 7 },
  ]);
  const io = parseIoStat("253:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
  assert.deepEqual(io.bytes, [
    { major: 253, minor: 0, op: "Read", value: 10 },
    { major: 253, minor: 0, op: "Write", value: 20 },
  ]);
  assert.deepEqual(
    io.ios.map((e) => e.value),
    [1, 2],
  );
});
