import assert from "node:assert/strict";
import { test } from "node:test";
import type { Seccomp, SeccompSyscall } from "../config/types.ts";
import { checkProgram, runBpf } from "./bpf-interpreter.ts";
import { compileSeccomp, SeccompProgramTooLargeError } from "./compile.ts";
import { SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO } from "./constants.ts";
import { X32_SYSCALLS } from "./syscalls-x32.ts";
import { X86_SYSCALLS } from "./syscalls-x86.ts";
import { X86_64_SYSCALLS } from "./syscalls-x86_64.ts";

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const EPERM = (SECCOMP_RET_ERRNO | 1) >>> 0;
const ENOSYS = (SECCOMP_RET_ERRNO | 38) >>> 0;

// Shaped like a container engine's default profile: allow almost everything by name, deny a few
// dangerous syscalls by omission, and restrict some with argument rules.
const DENIED = new Set([
  "mount",
  "umount2",
  "reboot",
  "kexec_load",
  "kexec_file_load",
  "init_module",
  "finit_module",
  "delete_module",
  "swapon",
  "swapoff",
  "pivot_root",
  "bpf",
  "perf_event_open",
  "add_key",
  "keyctl",
  "request_key",
  "open_by_handle_at",
  "setns",
  "unshare",
  "acct",
  "settimeofday",
  "clock_settime",
  "iopl",
  "ioperm",
  "quotactl",
  "lookup_dcookie",
  "userfaultfd",
  "vm86",
  "vm86old",
  "fsopen",
  "fsmount",
  "move_mount",
  "open_tree",
]);
const ARG_RULED = new Set(["personality", "clone", "socket", "clone3"]);

function engineLikeProfile(): Seccomp {
  const names = new Set([...X86_64_SYSCALLS.keys(), ...X86_SYSCALLS.keys(), ...X32_SYSCALLS.keys()]);
  const allowed = [...names].filter((n) => !DENIED.has(n) && !ARG_RULED.has(n)).sort();
  const syscalls: SeccompSyscall[] = [{ names: allowed, action: "SCMP_ACT_ALLOW" }];
  for (const v of [0, 8, 0x20000, 0x20008, 0xffffffff]) {
    syscalls.push({
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: v, op: "SCMP_CMP_EQ" }],
    });
  }
  syscalls.push(
    {
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }],
    },
    { names: ["socket"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 40, op: "SCMP_CMP_NE" }] },
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
  );
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 1,
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls,
  };
}

test("an engine-style default profile compiles compactly and decides every syscall right", () => {
  const { program } = compileSeccomp(engineLikeProfile(), { nativeArch: "SCMP_ARCH_X86_64" });
  checkProgram(program);
  assert.ok(program.length / 8 < 400, `program has ${program.length / 8} instructions`);
  for (const [table, arch] of [
    [X86_64_SYSCALLS, X86_64],
    [X86_SYSCALLS, I386],
    [X32_SYSCALLS, X86_64],
  ] as const) {
    for (const [name, nr] of table) {
      if (ARG_RULED.has(name)) continue;
      // runc resolves names on the native arch first, so i386-only names (waitpid...) are skipped.
      const want = DENIED.has(name) || !X86_64_SYSCALLS.has(name) ? EPERM : SECCOMP_RET_ALLOW;
      assert.equal(runBpf(program, { nr, arch }), want, `${name} (${nr}) on ${arch.toString(16)}`);
    }
  }
  const x = (name: string): number => X86_64_SYSCALLS.get(name)!;
  assert.equal(runBpf(program, { nr: x("personality"), arch: X86_64, args: [0x20008n] }), SECCOMP_RET_ALLOW);
  assert.equal(runBpf(program, { nr: x("personality"), arch: X86_64, args: [0x20009n] }), EPERM);
  assert.equal(runBpf(program, { nr: x("clone"), arch: X86_64, args: [0x11n] }), SECCOMP_RET_ALLOW);
  assert.equal(runBpf(program, { nr: x("clone"), arch: X86_64, args: [0x10000011n] }), EPERM);
  assert.equal(runBpf(program, { nr: x("socket"), arch: X86_64, args: [2n] }), SECCOMP_RET_ALLOW);
  assert.equal(runBpf(program, { nr: x("socket"), arch: X86_64, args: [40n] }), EPERM);
  assert.equal(runBpf(program, { nr: x("clone3"), arch: X86_64 }), ENOSYS);
  assert.equal(runBpf(program, { nr: 5000, arch: X86_64 }), ENOSYS);
});

test("long jumps: a program far beyond 255 instructions still jumps to the right places", () => {
  // One two-argument rule per syscall puts ~2000 instructions between the dispatch and the returns.
  const names = [...X86_64_SYSCALLS.keys()].filter((_, i) => i % 2 === 0);
  const syscalls: SeccompSyscall[] = names.map((name, i) => ({
    names: [name],
    action: "SCMP_ACT_ALLOW",
    args: [
      { index: 0, value: BigInt(i) << 33n, op: "SCMP_CMP_EQ" },
      { index: 5, value: BigInt(i), op: "SCMP_CMP_GE" },
    ],
  }));
  const { program } = compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", syscalls }, { nativeArch: "SCMP_ARCH_X86_64" });
  checkProgram(program);
  assert.ok(program.length / 8 > 2000, `program has ${program.length / 8} instructions`);
  names.forEach((name, i) => {
    const nr = X86_64_SYSCALLS.get(name)!;
    const a0 = BigInt(i) << 33n;
    assert.equal(runBpf(program, { nr, arch: X86_64, args: [a0, 0n, 0n, 0n, 0n, BigInt(i)] }), SECCOMP_RET_ALLOW, name);
    assert.equal(runBpf(program, { nr, arch: X86_64, args: [a0 + 1n, 0n, 0n, 0n, 0n, BigInt(i)] }), EPERM, name);
    if (i > 0) {
      assert.equal(runBpf(program, { nr, arch: X86_64, args: [a0, 0n, 0n, 0n, 0n, BigInt(i - 1)] }), EPERM, name);
    }
  });
});

test("programs over BPF_MAXINSNS are refused with a clear error", () => {
  const syscalls: SeccompSyscall[] = [];
  for (let i = 0; i < 1500; i++) {
    syscalls.push({ names: ["ioctl"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: i, op: "SCMP_CMP_EQ" }] });
  }
  assert.throws(
    () => compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO", syscalls }, { nativeArch: "SCMP_ARCH_X86_64" }),
    (err: unknown) => err instanceof SeccompProgramTooLargeError && /4096/.test(err.message),
  );
});
