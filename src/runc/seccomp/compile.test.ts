import assert from "node:assert/strict";
import { test } from "node:test";
import type { Seccomp, SeccompSyscall } from "../config/types.ts";
import { checkProgram, runBpf, type SeccompData } from "./bpf-interpreter.ts";
import { compileSeccomp } from "./compile.ts";
import {
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_KILL_THREAD,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_TRAP,
  SECCOMP_RET_USER_NOTIF,
} from "./constants.ts";
import { X86_64_SYSCALLS } from "./syscalls-x86_64.ts";

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const X32 = 0x40000000;
const errno = (e: number): number => (SECCOMP_RET_ERRNO | e) >>> 0;
const nr = (name: string): number => X86_64_SYSCALLS.get(name)!;

function decide(profile: Seccomp, data: Partial<SeccompData> & { nr: number }, native = true): number {
  const { program } = compileSeccomp(profile, { nativeArch: "SCMP_ARCH_X86_64", enosysStub: native });
  checkProgram(program);
  return runBpf(program, { arch: X86_64, ...data });
}

const allow = (names: string[], extra: Partial<SeccompSyscall> = {}): SeccompSyscall => ({
  names,
  action: "SCMP_ACT_ALLOW",
  ...extra,
});

test("default action applies to unlisted syscalls; listed ones get their action", () => {
  const p: Seccomp = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [allow(["getpid", "read"])] };
  assert.equal(decide(p, { nr: nr("getpid") }), SECCOMP_RET_ALLOW);
  assert.equal(decide(p, { nr: nr("read") }), SECCOMP_RET_ALLOW);
  assert.equal(decide(p, { nr: nr("mkdir") }), errno(1));
});

test("every action encodes as the kernel expects, errnoRet included", () => {
  const cases: [SeccompSyscall, number][] = [
    [{ names: ["mkdir"], action: "SCMP_ACT_KILL" }, SECCOMP_RET_KILL_THREAD],
    [{ names: ["mkdir"], action: "SCMP_ACT_KILL_THREAD" }, SECCOMP_RET_KILL_THREAD],
    [{ names: ["mkdir"], action: "SCMP_ACT_KILL_PROCESS" }, SECCOMP_RET_KILL_PROCESS],
    [{ names: ["mkdir"], action: "SCMP_ACT_TRAP" }, SECCOMP_RET_TRAP],
    [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO" }, errno(1)],
    [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 38 }, errno(38)],
    [{ names: ["mkdir"], action: "SCMP_ACT_TRACE" }, (SECCOMP_RET_TRACE | 1) >>> 0],
    [{ names: ["mkdir"], action: "SCMP_ACT_TRACE", errnoRet: 7 }, (SECCOMP_RET_TRACE | 7) >>> 0],
    [{ names: ["mkdir"], action: "SCMP_ACT_LOG" }, SECCOMP_RET_LOG],
    [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }, SECCOMP_RET_USER_NOTIF],
  ];
  for (const [rule, want] of cases) {
    assert.equal(decide({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [rule] }, { nr: nr("mkdir") }), want, rule.action);
  }
  assert.equal(decide({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 13 }, { nr: 0 }), errno(13));
});

test("argument conditions compare full 64-bit values, high bits included", () => {
  const big = 0xdeadbeef00000001n;
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [allow(["ioctl"], { args: [{ index: 1, value: big, op: "SCMP_CMP_EQ" }] })],
  };
  const call = (v: bigint): number => decide(p, { nr: nr("ioctl"), args: [0n, v] });
  assert.equal(call(big), SECCOMP_RET_ALLOW);
  assert.equal(call(1n), errno(1));
  assert.equal(call(0xdeadbeef00000002n), errno(1));
  assert.equal(call(0x1eadbeef00000001n), errno(1));
});

test("ordering operators on 64-bit values", () => {
  const pivot = 0x100000005n;
  const ops = {
    SCMP_CMP_LT: (v: bigint) => v < pivot,
    SCMP_CMP_LE: (v: bigint) => v <= pivot,
    SCMP_CMP_GT: (v: bigint) => v > pivot,
    SCMP_CMP_GE: (v: bigint) => v >= pivot,
    SCMP_CMP_NE: (v: bigint) => v !== pivot,
    SCMP_CMP_EQ: (v: bigint) => v === pivot,
  } as const;
  const samples = [0n, 4n, 5n, 6n, 0xffffffffn, 0x100000000n, 0x100000004n, pivot, 0x100000006n, 0x200000000n];
  samples.push(0xffffffffffffffffn, 0x8000000000000000n);
  for (const [op, holds] of Object.entries(ops)) {
    const p: Seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["lseek"], action: "SCMP_ACT_ERRNO", args: [{ index: 2, value: pivot, op: op as "SCMP_CMP_EQ" }] },
      ],
    };
    for (const v of samples) {
      const got = decide(p, { nr: nr("lseek"), args: [0n, 0n, v] });
      assert.equal(got, holds(v) ? errno(1) : SECCOMP_RET_ALLOW, `${op} ${v.toString(16)}`);
    }
  }
});

test("MASKED_EQ uses value as the mask and valueTwo as the datum, across both halves", () => {
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      allow(["clone"], {
        args: [{ index: 0, value: 0x7e020000n | (1n << 40n), valueTwo: 0n, op: "SCMP_CMP_MASKED_EQ" }],
      }),
    ],
  };
  const call = (flags: bigint): number => decide(p, { nr: nr("clone"), args: [flags] });
  assert.equal(call(0x11n), SECCOMP_RET_ALLOW);
  assert.equal(call(0x10000000n), errno(1)); // CLONE_NEWUSER
  assert.equal(call(1n << 40n), errno(1));
  assert.equal(call(1n << 41n), SECCOMP_RET_ALLOW);
});

test("a rule is the AND of its args; several rules for one syscall are OR-ed", () => {
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      allow(["personality"], { args: [{ index: 0, value: 0, op: "SCMP_CMP_EQ" }] }),
      allow(["personality"], { args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }] }),
      allow(["socket"], {
        args: [
          { index: 0, value: 1, op: "SCMP_CMP_EQ" },
          { index: 1, value: 2, op: "SCMP_CMP_EQ" },
        ],
      }),
    ],
  };
  const pers = (v: number): number => decide(p, { nr: nr("personality"), args: [BigInt(v)] });
  assert.equal(pers(0), SECCOMP_RET_ALLOW);
  assert.equal(pers(8), SECCOMP_RET_ALLOW);
  assert.equal(pers(9), errno(1));
  const sock = (a: number, b: number): number => decide(p, { nr: nr("socket"), args: [BigInt(a), BigInt(b)] });
  assert.equal(sock(1, 2), SECCOMP_RET_ALLOW);
  assert.equal(sock(1, 3), errno(1));
  assert.equal(sock(2, 2), errno(1));
});

test("two conditions on one argument index become separate rules (runc)", () => {
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      allow(["personality"], {
        args: [
          { index: 0, value: 0, op: "SCMP_CMP_EQ" },
          { index: 0, value: 8, op: "SCMP_CMP_EQ" },
        ],
      }),
    ],
  };
  assert.equal(decide(p, { nr: nr("personality"), args: [8n] }), SECCOMP_RET_ALLOW);
  assert.equal(decide(p, { nr: nr("personality"), args: [0n] }), SECCOMP_RET_ALLOW);
  assert.equal(decide(p, { nr: nr("personality"), args: [1n] }), errno(1));
});

test("an unconditional rule overrides conditional rules for the same syscall, in either order (libseccomp)", () => {
  const cond: SeccompSyscall = {
    names: ["kill"],
    action: "SCMP_ACT_ERRNO",
    errnoRet: 22,
    args: [{ index: 1, value: 9, op: "SCMP_CMP_EQ" }],
  };
  for (const syscalls of [
    [cond, allow(["kill"])],
    [allow(["kill"]), cond],
  ]) {
    const p: Seccomp = { defaultAction: "SCMP_ACT_ERRNO", syscalls };
    assert.equal(decide(p, { nr: nr("kill"), args: [1n, 9n] }), SECCOMP_RET_ALLOW);
  }
  // The first unconditional rule wins.
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 3 },
      { names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 4 },
    ],
  };
  assert.equal(decide(p, { nr: nr("kill") }), errno(3));
});

test("rules with the default action are ignored; so are unknown syscall names", () => {
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [{ names: ["kill"], action: "SCMP_ACT_ERRNO" }, allow(["kill", "no_such_syscall", "getpid"])],
  };
  assert.equal(decide(p, { nr: nr("kill") }), SECCOMP_RET_ALLOW);
  assert.equal(decide(p, { nr: nr("getpid") }), SECCOMP_RET_ALLOW);
});

test("identical conditions with different actions are rejected (libseccomp EEXIST)", () => {
  const args = [{ index: 0, value: 1, op: "SCMP_CMP_EQ" as const }];
  assert.throws(
    () =>
      compileSeccomp({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["kill"], action: "SCMP_ACT_ERRNO", args },
          { names: ["kill"], action: "SCMP_ACT_KILL", args },
        ],
      }),
    /linux\.seccomp\.syscalls\[1\]/,
  );
});

test("a foreign arch gets KILL_THREAD; listed arches are checked with their own numbers", () => {
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
    syscalls: [allow(["getpid"])],
  };
  assert.equal(decide(p, { nr: 20, arch: I386 }), SECCOMP_RET_ALLOW); // i386 getpid
  assert.equal(decide(p, { nr: 6, arch: I386 }), errno(1)); // i386 close
  assert.equal(decide(p, { nr: 39, arch: I386 }), errno(38)); // beyond getpid: runc's -ENOSYS stub
  assert.equal(decide(p, { nr: 39, arch: AARCH64 }), SECCOMP_RET_KILL_THREAD);
  // The native arch is included even when the profile does not list it.
  const q: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86"],
    syscalls: [allow(["getpid"])],
  };
  assert.equal(decide(q, { nr: 39 }), SECCOMP_RET_ALLOW);
  assert.equal(decide(q, { nr: 39, arch: AARCH64 }), SECCOMP_RET_KILL_THREAD);
});

test("32-bit arches compare only the low word of arguments", () => {
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86"],
    syscalls: [allow(["personality"], { args: [{ index: 0, value: 8, op: "SCMP_CMP_EQ" }] })],
  };
  assert.equal(decide(p, { nr: 136, arch: I386, args: [8n] }), SECCOMP_RET_ALLOW);
  assert.equal(decide(p, { nr: 136, arch: I386, args: [9n] }), errno(1));
});

test("x32 syscalls do not match x86_64 rules unless x32 is listed", () => {
  const base: Seccomp = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [allow(["getpid", "rt_sigaction"])] };
  const x32getpid = X32 + 39;
  assert.equal(decide(base, { nr: x32getpid }), SECCOMP_RET_KILL_THREAD);
  // -1 (a tracer cancelling a syscall) reaches the default action, as with libseccomp.
  assert.equal(decide(base, { nr: -1 }), errno(1));
  const withX32: Seccomp = { ...base, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"] };
  assert.equal(decide(withX32, { nr: x32getpid }), SECCOMP_RET_ALLOW);
  assert.equal(decide(withX32, { nr: X32 + 512 }), SECCOMP_RET_ALLOW); // x32 rt_sigaction
  assert.equal(decide(withX32, { nr: X32 + 13 }), errno(1)); // x86_64 rt_sigaction number, not x32's
  assert.equal(decide(withX32, { nr: 39 }), SECCOMP_RET_ALLOW);
});

test("runc's -ENOSYS stub: syscalls newer than any the profile names fail with ENOSYS", () => {
  const p: Seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [allow(["getpid", "openat2"])],
  };
  const openat2 = nr("openat2");
  assert.equal(decide(p, { nr: openat2 - 1 }), errno(1));
  assert.equal(decide(p, { nr: openat2 + 1 }), errno(38));
  assert.equal(decide(p, { nr: 100000 }), errno(38));
  assert.equal(decide(p, { nr: 100000 }, false), errno(1));
  // Only for listed arches, and not when the default action allows.
  assert.equal(decide({ ...p, architectures: [] }, { nr: 100000 }), errno(1));
  assert.equal(decide({ ...p, defaultAction: "SCMP_ACT_LOG", syscalls: [] }, { nr: 100000 }), SECCOMP_RET_LOG);
});

test("flags: names map to bits, absent flags mean SPEC_ALLOW, NOTIFY adds NEW_LISTENER", () => {
  const flags = (p: Partial<Seccomp>): number => compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", ...p }).flags;
  assert.equal(flags({}), SECCOMP_FILTER_FLAG_SPEC_ALLOW);
  assert.equal(flags({ flags: [] }), 0);
  assert.equal(flags({ flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_TSYNC"] }), SECCOMP_FILTER_FLAG_LOG);
  assert.equal(flags({ flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] }), 0);
  const notify = compileSeccomp({
    defaultAction: "SCMP_ACT_ALLOW",
    flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }],
  });
  assert.equal(notify.needsListener, true);
  assert.equal(notify.flags, SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  assert.throws(() => flags({ flags: ["SECCOMP_FILTER_FLAG_LOG", "BOGUS"] }), /linux\.seccomp\.flags\[1\]/);
});
