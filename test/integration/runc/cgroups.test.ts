// The cgroup managers against the real kernel (root). Every cgroup lives under a unique
// top-level name and is removed at the end, so this file can run beside other tests.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { CgroupControllerMissingError, CgroupWriteError } from "../../../src/runc/cgroups/errors.ts";
import { cgroupManagerFor, cgroupManagerFromPaths } from "../../../src/runc/cgroups/manager.ts";
import { readLayout } from "../../../src/runc/cgroups/mountinfo.ts";
import { runcStatsData, stringifyExact } from "../../../src/runc/cgroups/stats.ts";
import type { Resources } from "../../../src/runc/config/types.ts";

const root = `berth-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const layout = readLayout();
const isV2 = layout.mode === "v2";
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) c.kill("SIGKILL");
});

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), "utf8").trim();
}

function startChild(script = "exec sleep 30"): ChildProcess {
  const c = spawn("sh", ["-c", script], { stdio: ["pipe", "ignore", "ignore"] });
  children.push(c);
  return c;
}

function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

async function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  await new Promise((resolve) => c.once("exit", resolve));
}

/** Every hierarchy's copy of the test's top-level directory. */
function topDirs(): string[] {
  const mounts = [...layout.v1.values()].map((m) => m.mountpoint);
  if (layout.unified) mounts.push(layout.unified.mountpoint);
  return mounts.map((m) => join(m, root));
}

const limits: Resources = {
  memory: { limit: 100 * 1024 * 1024, reservation: 50 * 1024 * 1024, swap: 200 * 1024 * 1024 },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0", mems: "0" },
  pids: { limit: 50 },
  devices: [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
    { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
  ],
};

test("create + set writes the limits; a process joins, freezes, thaws; stats; destroy", async () => {
  const cg = cgroupManagerFor(`/${root}/c1`, "c1");
  cg.create(limits);
  let child: ChildProcess | undefined;
  try {
    if (isV2) {
      const d = cg.paths[""]!;
      assert.equal(read(d, "memory.max"), String(100 * 1024 * 1024));
      assert.equal(read(d, "memory.low"), String(50 * 1024 * 1024));
      assert.equal(read(d, "cpu.weight"), "20");
      assert.equal(read(d, "cpu.max"), "50000 100000");
      assert.equal(read(d, "cpuset.cpus"), "0");
      assert.equal(read(d, "pids.max"), "50");
    } else {
      const p = cg.paths;
      assert.equal(read(p["memory"]!, "memory.limit_in_bytes"), String(100 * 1024 * 1024));
      assert.equal(read(p["memory"]!, "memory.memsw.limit_in_bytes"), String(200 * 1024 * 1024));
      assert.equal(read(p["memory"]!, "memory.soft_limit_in_bytes"), String(50 * 1024 * 1024));
      assert.equal(read(p["cpu"]!, "cpu.shares"), "512");
      assert.equal(read(p["cpu"]!, "cpu.cfs_quota_us"), "50000");
      assert.equal(read(p["cpu"]!, "cpu.cfs_period_us"), "100000");
      assert.equal(read(p["cpuset"]!, "cpuset.cpus"), "0");
      assert.equal(read(p["cpuset"]!, "cpuset.mems"), "0");
      assert.equal(read(p["pids"]!, "pids.max"), "50");
      assert.deepEqual(read(p["devices"]!, "devices.list").split("\n"), ["c 1:3 rwm", "c 1:5 rwm"]);
    }

    // Once inside the cgroup, burn a little CPU so the usage counters move, then sleep.
    child = startChild("read _; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 30");
    const pid = child.pid!;
    cg.addProcess(pid);
    child.stdin!.write("go\n");
    assert.deepEqual(cg.pids(), [pid]);
    const own = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    assert.match(own, new RegExp(`/${root}/c1$`, "m"));
    assert.deepEqual(
      cg.procsFiles().map((f) => f.endsWith("/cgroup.procs")),
      cg.procsFiles().map(() => true),
    );

    // The loop may be slow on a busy host: wait for it to reach the sleep.
    for (let i = 0; i < 100 && !readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("sleep"); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const stats = cg.stats();
    assert.equal(stats.pids.current, 1);
    assert.equal(stats.pids.limit, 50);
    assert.ok(stats.cpu.usage.total > 0, "cpu usage counted");
    assert.ok(stats.memory.usage.usage > 0, "memory usage counted");
    assert.equal(stats.memory.usage.limit, 100 * 1024 * 1024);
    assert.deepEqual(stats.cpuset.cpus, [0]);
    const json = JSON.parse(stringifyExact(runcStatsData(stats))) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), [
      "cpu",
      "cpuset",
      "memory",
      "pids",
      "blkio",
      "hugetlb",
      "intel_rdt",
      "network_interfaces",
    ]);

    cg.freeze();
    assert.equal(cg.freezerState(), "frozen");
    if (!isV2) assert.equal(read(cg.paths["freezer"]!, "freezer.state"), "FROZEN");
    // A frozen task sleeps in the freezer (D) or is stopped; it is certainly not running.
    assert.notEqual(procState(pid), "R");
    cg.thaw();
    assert.equal(cg.freezerState(), "thawed");
    assert.equal(procState(pid), "S");

    // A manager rebuilt from saved paths sees the same cgroup.
    const again = cgroupManagerFromPaths({ ...cg.paths });
    assert.deepEqual(again.pids(), [pid]);
  } finally {
    // Kill first (also when an assertion failed), so destroy reports the real outcome.
    if (cg.freezerState() !== "thawed") cg.thaw();
    child?.kill("SIGKILL");
    if (child) await exited(child);
    cg.destroy();
  }
  for (const dir of Object.values(cg.paths)) assert.equal(existsSync(dir), false, `${dir} removed`);
  for (const dir of topDirs()) assert.equal(existsSync(dir), false, `${dir} removed`);
  assert.equal(cg.exists(), false);
  cg.destroy(); // already gone: fine
});

test("update raises and lowers memory with swap in either order", { skip: isV2 }, () => {
  const cg = cgroupManagerFor(`/${root}/c2`, "c2");
  cg.create({ memory: { limit: 100 * 1024 * 1024, swap: 100 * 1024 * 1024 } });
  try {
    const dir = cg.paths["memory"]!;
    // Up: memsw must rise before the limit.
    cg.set({ memory: { limit: 300 * 1024 * 1024, swap: 400 * 1024 * 1024 } });
    assert.equal(read(dir, "memory.limit_in_bytes"), String(300 * 1024 * 1024));
    assert.equal(read(dir, "memory.memsw.limit_in_bytes"), String(400 * 1024 * 1024));
    // Down: the limit must fall before memsw.
    cg.set({ memory: { limit: 50 * 1024 * 1024, swap: 60 * 1024 * 1024 } });
    assert.equal(read(dir, "memory.limit_in_bytes"), String(50 * 1024 * 1024));
    assert.equal(read(dir, "memory.memsw.limit_in_bytes"), String(60 * 1024 * 1024));
    // Unlimited memory lifts swap too.
    cg.set({ memory: { limit: -1 } });
    assert.equal(read(dir, "memory.memsw.limit_in_bytes"), "9223372036854771712");
    cg.set({ pids: { limit: 0 } });
    assert.equal(read(cg.paths["pids"]!, "pids.max"), "max");
  } finally {
    cg.destroy();
  }
});

test("a bad cpuset gives a clear error and leaves nothing behind", () => {
  const cg = cgroupManagerFor(`/${root}/bad`, "bad");
  assert.throws(
    () => cg.create({ cpu: { cpus: "999" } }),
    (err: unknown) => {
      assert.ok(err instanceof CgroupWriteError);
      assert.match(err.message, /failed to write "999" to .*cpuset\.cpus/);
      assert.equal(err.kind, "invalid-argument");
      return true;
    },
  );
  for (const dir of Object.values(cg.paths)) assert.equal(existsSync(dir), false);
  for (const dir of topDirs()) assert.equal(existsSync(dir), false, `${dir} left behind`);
});

test("a resource for a controller this host lacks fails before anything is written", () => {
  // hugetlb is only on the cgroup2 mount of a hybrid host; pure v2 hosts lack net_cls altogether.
  const wanted: Resources = isV2
    ? { network: { classID: 1 } }
    : layout.v1.has("hugetlb")
      ? { network: { classID: 1 } }
      : { hugepageLimits: [{ pageSize: "2MB", limit: 0 }] };
  if (!isV2 && layout.v1.has("net_cls") && layout.v1.has("hugetlb")) return;
  const cg = cgroupManagerFor(`/${root}/missing`, "missing");
  assert.throws(
    () => cg.create({ ...wanted, pids: { limit: 10 } }),
    isV2 ? /not supported/ : CgroupControllerMissingError,
  );
  for (const dir of topDirs()) assert.equal(existsSync(dir), false, `${dir} left behind`);
});

test("default path: the container id below the runtime's own cgroup", () => {
  const cg = cgroupManagerFor(undefined, `${root}-d`);
  cg.create();
  try {
    const ownLines = readFileSync("/proc/self/cgroup", "utf8");
    for (const [controller, dir] of Object.entries(cg.paths)) {
      assert.ok(existsSync(dir), `${controller}: ${dir}`);
      assert.ok(dir.endsWith(`/${root}-d`));
    }
    if (!isV2 && cg.paths["memory"]) {
      const own = /^\d+:memory:(.*)$/m.exec(ownLines)?.[1] ?? "/";
      assert.equal(cg.paths["memory"], join(layout.v1.get("memory")!.mountpoint, own, `${root}-d`));
    }
  } finally {
    cg.destroy();
  }
  assert.equal(cg.exists(), false);
});

test("destroy waits out a process that is just exiting", async () => {
  const cg = cgroupManagerFor(`/${root}/c3`, "c3");
  cg.create();
  const child = startChild();
  cg.addProcess(child.pid!);
  child.kill("SIGKILL");
  await exited(child);
  cg.destroy();
  assert.equal(cg.exists(), false);
  for (const dir of topDirs()) assert.equal(existsSync(dir), false);
});

test("destroyAsync retries a busy cgroup on timers: the event loop runs on meanwhile", async () => {
  const cg = cgroupManagerFor(`/${root}/c4`, "c4");
  cg.create();
  const child = startChild();
  cg.addProcess(child.pid!);
  // The cgroup stays busy until this timer kills its process: a wait that blocked the thread
  // (destroy()) would never see it fire and would give up after its budget with CgroupBusyError.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const killer = setTimeout(() => child.kill("SIGKILL"), 300);
  try {
    await cg.destroyAsync();
  } finally {
    clearInterval(ticker);
    clearTimeout(killer);
    child.kill("SIGKILL");
  }
  assert.equal(cg.exists(), false);
  assert.ok(ticks >= 10, `the event loop ran ${ticks} ticks of 10 ms while the cgroup was busy`);
  for (const dir of topDirs()) assert.equal(existsSync(dir), false);
});
