import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_CAPABILITIES } from "./capabilities.ts";
import { DEFAULT_SECCOMP_PROFILE } from "./default-seccomp.ts";
import { type DockerSeccompProfile, parseDockerProfile, type SeccompTarget, seccompFor } from "./seccomp.ts";

const AMD64: SeccompTarget = { capabilities: DEFAULT_CAPABILITIES, goArch: "amd64", kernel: [6, 1] };

const names = (p: DockerSeccompProfile, t: SeccompTarget) =>
  seccompFor(p, t)
    .syscalls!.filter((s) => s.action === "SCMP_ACT_ALLOW")
    .flatMap((s) => s.names);

test("the default profile for docker's default capabilities on amd64", () => {
  const s = seccompFor(DEFAULT_SECCOMP_PROFILE, AMD64);
  assert.equal(s.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(s.defaultErrnoRet, 1);
  assert.deepEqual(s.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  const allowed = names(DEFAULT_SECCOMP_PROFILE, AMD64);
  for (const n of ["read", "execve", "ptrace", "arch_prctl", "modify_ldt", "chroot", "personality", "clone"]) {
    assert.ok(allowed.includes(n), n);
  }
  for (const n of [
    "mount",
    "unshare",
    "setns",
    "reboot",
    "init_module",
    "bpf",
    "open_by_handle_at",
    "kexec_load",
    "keyctl",
  ]) {
    assert.ok(!allowed.includes(n), n);
  }
  // clone only without namespace flags; clone3 is ENOSYS so libcs fall back to it.
  const clone = s.syscalls!.find((r) => r.names.includes("clone") && r.args !== undefined)!;
  assert.deepEqual(clone.args, [{ index: 0, value: 0x7e020000, op: "SCMP_CMP_MASKED_EQ" }]);
  assert.deepEqual(
    s.syscalls!.find((r) => r.names.includes("clone3")),
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
  );
  const personalities = s.syscalls!.filter((r) => r.names[0] === "personality").map((r) => r.args![0]!.value);
  assert.deepEqual(personalities, [0, 8, 0x20000, 0x20008, 0xffffffff]);
});

test("capability groups follow the bounding set", () => {
  const admin = names(DEFAULT_SECCOMP_PROFILE, { ...AMD64, capabilities: [...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"] });
  for (const n of ["mount", "unshare", "setns", "clone3", "bpf"]) assert.ok(admin.includes(n), n);
  const withAdmin = seccompFor(DEFAULT_SECCOMP_PROFILE, { ...AMD64, capabilities: ["CAP_SYS_ADMIN"] });
  assert.equal(
    withAdmin.syscalls!.find((r) => r.names.includes("clone") && r.args !== undefined),
    undefined,
  );
  const ptrace = names(DEFAULT_SECCOMP_PROFILE, { ...AMD64, capabilities: ["CAP_SYS_PTRACE"] });
  assert.ok(ptrace.includes("process_vm_readv"));
  const none = names(DEFAULT_SECCOMP_PROFILE, { ...AMD64, capabilities: [] });
  assert.ok(!none.includes("chroot"));
});

test("architecture and kernel conditions", () => {
  const arm = seccompFor(DEFAULT_SECCOMP_PROFILE, { ...AMD64, goArch: "arm64" });
  assert.deepEqual(arm.architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
  const armNames = arm.syscalls!.flatMap((r) => r.names);
  assert.ok(armNames.includes("set_tls"));
  assert.ok(!armNames.includes("arch_prctl"));
  const s390 = seccompFor(DEFAULT_SECCOMP_PROFILE, { ...AMD64, goArch: "s390x" });
  assert.deepEqual(s390.syscalls!.find((r) => r.names.includes("clone") && r.args)!.args![0]!.index, 1);
  // ptrace needs 4.8 without CAP_SYS_PTRACE.
  assert.ok(!names(DEFAULT_SECCOMP_PROFILE, { ...AMD64, kernel: [4, 4] }).includes("ptrace"));
  assert.ok(names(DEFAULT_SECCOMP_PROFILE, { ...AMD64, kernel: [4, 8] }).includes("ptrace"));
  // An arch missing from archMap: the native arch alone (no architectures field).
  assert.equal(seccompFor(DEFAULT_SECCOMP_PROFILE, { ...AMD64, goArch: "riscv64" }).architectures, undefined);
  const ex: DockerSeccompProfile = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["a"], action: "SCMP_ACT_ERRNO", excludes: { minKernel: "5.0" } }],
  };
  assert.equal(seccompFor(ex, AMD64).syscalls!.length, 0);
  assert.equal(seccompFor(ex, { ...AMD64, kernel: [4, 19] }).syscalls!.length, 1);
});

test("a profile sent by a client: docker's format, checked, bounded", () => {
  const p = parseDockerProfile(
    JSON.stringify({
      defaultAction: "SCMP_ACT_ERRNO",
      architectures: ["SCMP_ARCH_X86_64"],
      syscalls: [
        { name: "read", action: "SCMP_ACT_ALLOW", comment: "one name" },
        { names: ["a"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, valueTwo: 0, op: "SCMP_CMP_EQ" }] },
        {
          names: ["b"],
          action: "SCMP_ACT_ALLOW",
          args: [{ index: 0, value: 3, valueTwo: 1, op: "SCMP_CMP_MASKED_EQ" }],
        },
      ],
    }),
  );
  assert.deepEqual(seccompFor(p, AMD64), {
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_ALLOW" },
      // valueTwo 0 is left out, as dockerd leaves it out.
      { names: ["a"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }] },
      { names: ["b"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 3, valueTwo: 1, op: "SCMP_CMP_MASKED_EQ" }] },
    ],
  });
  const refused = (text: string, why: RegExp) =>
    assert.throws(
      () => seccompFor(parseDockerProfile(text), AMD64),
      (err: Error) => {
        assert.match(err.message, /^Decoding seccomp profile failed: /);
        assert.match(err.message, why);
        return true;
      },
    );
  refused("{bad", /JSON/);
  refused("[]", /profile: must be an object/);
  refused('{"defaultAction":"SCMP_ACT_NOPE"}', /defaultAction/);
  refused(
    '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":9,"value":1,"op":"SCMP_CMP_EQ"}]}]}',
    /index/,
  );
  refused(
    '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"NOPE"}]}]}',
    /op/,
  );
  refused(
    '{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}',
    /use either 'architectures' or 'archMap'/,
  );
  refused(
    '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"five"}}]}',
    /invalid kernel version/,
  );
  refused(
    JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: new Array(5000).fill("x"), action: "SCMP_ACT_ALLOW" }],
    }),
    /at most 4096/,
  );
  refused(
    JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: new Array(5000).fill({ names: ["x"], action: "SCMP_ACT_ALLOW" }),
    }),
    /at most 4096 rules/,
  );
  refused(
    JSON.stringify({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["x".repeat(300)], action: "SCMP_ACT_ALLOW" }],
    }),
    /256 bytes/,
  );
  refused('{"defaultAction":"SCMP_ACT_NOTIFY"}', /listenerPath/);
});
