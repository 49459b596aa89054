// The cgroup v2 device filter on the real kernel: nsexec loads the compiled eBPF program, attaches
// it to a cgroup of the unified hierarchy, and a process in that cgroup is held to the policy.
// (Runs on a hybrid host too: device programs apply to the unified hierarchy's members.)
import assert from "node:assert/strict";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { devicePolicy } from "../../../src/runc/cgroups/devices.ts";
import { readLayout } from "../../../src/runc/cgroups/mountinfo.ts";
import { deviceFilterProgram } from "../../../src/runc/cgroups/v2/device-filter.ts";
import { NsexecRun } from "../../../src/runc/container/nsexec.ts";
import { CloneMode } from "../../../src/runc/plan/ops.ts";
import { makeTempDir } from "../../fixtures/busybox.ts";

const unified = readLayout().unified?.mountpoint;

test("a process in the cgroup may use only the devices the policy allows", {
  skip: !unified && "no cgroup2 mount",
}, async (t) => {
  const dir = join(unified!, `berth-devtest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(dir);
  t.after(() => {
    for (let i = 0; i < 100 && existsSync(dir); i++) {
      try {
        rmdirSync(dir);
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
  });
  const program = deviceFilterProgram(
    devicePolicy([
      { allow: false, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rw" }, // /dev/null only
    ]),
  );
  const scratch = await makeTempDir("berth-devtest-");
  const out = join(scratch, "out");
  const probe = [
    "echo x > /dev/null && echo null-ok",
    "head -c1 /dev/zero > /dev/null 2>&1 && echo zero-ok || echo zero-denied",
    `mknod ${scratch}/n c 1 3 2>/dev/null && echo mknod-ok || echo mknod-denied`,
  ].join("; ");
  const fds = [openSync("/dev/null", "r"), openSync(out, "w"), openSync(out, "a")];
  const run = new NsexecRun({
    plan: [
      { op: "CGROUP_OPEN", args: [join(dir, "cgroup.procs")] },
      { op: "BPF_DEVICE_FILTER", args: [dir, program] },
      { op: "CLONE", args: [0, CloneMode.WAIT] },
      { op: "CGROUP_JOIN_OPENED", args: [] },
      { op: "EXEC", args: ["/bin:/usr/bin", 3, "/bin/sh", "-c", probe, "PATH=/bin:/usr/bin"] },
    ],
    preserveFds: 0,
    stdio: [fds[0]!, fds[1]!, fds[2]!],
  });
  await run.ready;
  const code = await run.exit;
  run.detach();
  for (const fd of fds) closeSync(fd);
  assert.equal(code, 0);
  assert.equal(readFileSync(out, "utf8"), "null-ok\nzero-denied\nmknod-denied\n");
});
