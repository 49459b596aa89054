import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidSpecError } from "../../common/errors.ts";
import type { Seccomp } from "../config/types.ts";
import { compileSeccomp } from "./compile.ts";

function rejects(profile: unknown, field: string, message?: RegExp): void {
  assert.throws(
    () => compileSeccomp(profile as Seccomp),
    (err: unknown) => {
      assert.ok(err instanceof InvalidSpecError, String(err));
      assert.equal(err.field, field);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

const ok = { names: ["getpid"], action: "SCMP_ACT_ALLOW" };

test("invalid profiles name the offending field", () => {
  rejects({ defaultAction: "SCMP_ACT_NOPE" }, "linux.seccomp.defaultAction");
  rejects({ defaultAction: "SCMP_ACT_NOTIFY" }, "linux.seccomp.defaultAction", /NOTIFY/);
  rejects({ defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: 1 }, "linux.seccomp.defaultErrnoRet");
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"] },
    "linux.seccomp.architectures[1]",
  );
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", syscalls: [ok, ok, ok, { names: ["x"], action: "BAD" }] },
    "linux.seccomp.syscalls[3].action",
  );
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ ...ok, args: [{ index: 6, value: 0, op: "SCMP_CMP_EQ" }] }] },
    "linux.seccomp.syscalls[0].args[0].index",
  );
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ ...ok, args: [{ index: 0, value: 0, op: "SCMP_CMP_XX" }] }] },
    "linux.seccomp.syscalls[0].args[0].op",
  );
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ ...ok, args: [{ index: 0, value: -1, op: "SCMP_CMP_EQ" }] }] },
    "linux.seccomp.syscalls[0].args[0].value",
  );
  rejects(
    {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{ ...ok, args: [{ index: 0, value: 1n << 64n, op: "SCMP_CMP_EQ" }] }],
    },
    "linux.seccomp.syscalls[0].args[0].value",
  );
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ ...ok, errnoRet: 5 }] },
    "linux.seccomp.syscalls[0].errnoRet",
  );
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["x"], action: "SCMP_ACT_ERRNO", errnoRet: 70000 }] },
    "linux.seccomp.syscalls[0].errnoRet",
  );
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read", ""], action: "SCMP_ACT_ALLOW" }] },
    "linux.seccomp.syscalls[0].names[1]",
  );
  rejects(
    { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["read", "write"], action: "SCMP_ACT_NOTIFY" }] },
    "linux.seccomp.syscalls[0].names[1]",
    /write/,
  );
});

test("values may be bigint or number; TRACE and ERRNO accept errnoRet", () => {
  const r = compileSeccomp({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      {
        names: ["ioctl"],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: 1, value: 0xffffffffffffffffn, op: "SCMP_CMP_EQ" }],
      },
      { names: ["ptrace"], action: "SCMP_ACT_TRACE", errnoRet: 3 },
    ],
  });
  assert.ok(r.program.length > 0);
});
