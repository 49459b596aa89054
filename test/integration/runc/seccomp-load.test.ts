// Loads compiled filters into a real process on the running kernel (root, x86_64, gcc needed):
// test/fixtures/seccomp-apply-filter.c installs the program and reports what a few syscalls return.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Seccomp, SeccompSyscall } from "../../../src/runc/config/types.ts";
import { compileSeccomp } from "../../../src/runc/seccomp/compile.ts";
import { X86_64_SYSCALLS } from "../../../src/runc/seccomp/syscalls-x86_64.ts";

const EPERM = 1;
const EBADF = 9;
const EFAULT = 14;
const usable =
  process.getuid?.() === 0 && process.arch === "x64" && spawnSync("gcc", ["--version"]).status === 0
    ? true
    : "needs root, x86_64 and gcc";

let dir = "";
let bin = "";

before(() => {
  if (usable !== true) return;
  dir = mkdtempSync(join(tmpdir(), "berth-seccomp-"));
  bin = join(dir, "apply-filter");
  const src = join(import.meta.dirname, "../../fixtures/seccomp-apply-filter.c");
  const cc = spawnSync("gcc", ["-O1", "-Wall", "-o", bin, src], { encoding: "utf8" });
  assert.equal(cc.status, 0, cc.stderr);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  results: Map<string, number>;
  signal: NodeJS.Signals | null;
  status: number | null;
  stderr: string;
}

function run(profile: Seccomp, mode?: "x32"): Run {
  const { program, flags } = compileSeccomp(profile);
  const work = mkdtempSync(join(dir, "w-"));
  const args = [String(flags), work, ...(mode ? [mode] : [])];
  const r = spawnSync(bin, args, { input: program, encoding: "utf8" });
  const results = new Map<string, number>();
  for (const line of r.stdout.split("\n")) {
    const m = line.match(/^(\w+)=(-?\d+)$/);
    if (m) results.set(m[1]!, Number(m[2]));
  }
  return { results, signal: r.signal, status: r.status, stderr: r.stderr };
}

const ALLOWED_BY_HELPER = ["write", "exit_group", "getpid"];

test("deny-by-default profile: allowed syscalls run, others get EPERM, argument rules apply", {
  skip: usable !== true && usable,
}, () => {
  const syscalls: SeccompSyscall[] = [
    { names: ALLOWED_BY_HELPER, action: "SCMP_ACT_ALLOW" },
    { names: ["kill"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: 0, op: "SCMP_CMP_EQ" }] },
    { names: ["lseek"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: 0x100000000n, op: "SCMP_CMP_GE" }] },
  ];
  const r = run({ defaultAction: "SCMP_ACT_ERRNO", syscalls });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.results.get("getpid"), 0);
  assert.equal(r.results.get("mkdir"), -EPERM);
  assert.equal(r.results.get("kill0"), 0);
  assert.equal(r.results.get("kill18"), -EPERM);
  assert.equal(r.results.get("lseek_hi"), -EBADF); // reached the kernel
  assert.equal(r.results.get("lseek_lo"), -EPERM);
  assert.equal(r.results.get("mount"), -EPERM);
});

test("allow-by-default profile with a custom errno and logged flags", { skip: usable !== true && usable }, () => {
  const r = run({
    defaultAction: "SCMP_ACT_ALLOW",
    flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"],
    syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 122 }],
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.results.get("mkdir"), -122);
  assert.equal(r.results.get("mount"), -EFAULT);
});

test("an x32 syscall is killed when x32 is not in the filter", { skip: usable !== true && usable }, () => {
  const r = run({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }] }, "x32");
  assert.equal(r.signal, "SIGSYS");
  assert.equal(r.results.get("mkdir"), -EPERM);
  assert.equal(r.results.has("x32"), false);
});

test("a NOTIFY rule makes seccomp() return a listener fd", { skip: usable !== true && usable }, () => {
  const r = run({
    defaultAction: "SCMP_ACT_ALLOW",
    flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
    listenerPath: "/unused",
    syscalls: [{ names: ["acct"], action: "SCMP_ACT_NOTIFY" }],
  });
  assert.equal(r.status, 0, r.stderr);
  assert.ok((r.results.get("seccomp") ?? -1) > 2, `listener fd ${r.results.get("seccomp")}`);
});

test("a large engine-style allow-list loads and behaves", { skip: usable !== true && usable }, () => {
  const denied = new Set(["mount", "umount2", "kill", "reboot", "bpf", "unshare", "setns"]);
  const names = [...X86_64_SYSCALLS.keys()].filter((n) => !denied.has(n));
  const r = run({
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [
      { names, action: "SCMP_ACT_ALLOW" },
      { names: ["kill"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: 0, op: "SCMP_CMP_EQ" }] },
    ],
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.results.get("mkdir"), 0);
  assert.equal(r.results.get("kill0"), 0);
  assert.equal(r.results.get("kill18"), -EPERM);
  assert.equal(r.results.get("mount"), -EPERM);
  assert.equal(r.results.get("lseek_lo"), -EBADF);
});
