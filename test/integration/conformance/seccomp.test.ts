// Seccomp: errno actions (default and custom errno), argument conditions, kill actions, and the
// filter's presence in /proc/self/status.

import type { Seccomp } from "../../../src/runc/config/types.ts";
import { type ConformanceCase, conformance, contains, probeCase } from "./harness.ts";

function allowAllBut(syscalls: Seccomp["syscalls"]): Seccomp {
  return {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls,
  };
}

const STATUS = "grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' /proc/self/status\n";

const cases: ConformanceCase[] = [
  probeCase({ name: "no seccomp profile", probe: STATUS, check: contains("Seccomp:\t0") }),
  probeCase({
    name: "mkdir returns EPERM",
    spec: (s) => {
      s.linux!.seccomp = allowAllBut([{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }]);
    },
    probe: `${STATUS}mkdir /dev/shm/d 2>&1; echo "mkdir status $?"; touch /dev/shm/f && echo "touch ok"\n`,
    check: contains("Seccomp:\t2", "Operation not permitted", "mkdir status 1", "touch ok"),
  }),
  probeCase({
    name: "ERRNO without errnoRet is EPERM",
    spec: (s) => {
      s.linux!.seccomp = allowAllBut([{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }]);
    },
    probe: "mkdir /dev/shm/d 2>&1\n",
    check: contains("Operation not permitted"),
  }),
  probeCase({
    name: "custom errno",
    spec: (s) => {
      s.linux!.seccomp = allowAllBut([{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 122 }]);
    },
    probe: "mkdir /dev/shm/d 2>&1\n",
    check: contains("Disk quota exceeded"),
  }),
  probeCase({
    name: "argument condition: chmod to 0777 denied, other modes allowed",
    spec: (s) => {
      s.linux!.seccomp = allowAllBut([
        {
          names: ["chmod"],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 13,
          args: [{ index: 1, value: 0o777, op: "SCMP_CMP_EQ" }],
        },
        {
          names: ["fchmodat"],
          action: "SCMP_ACT_ERRNO",
          errnoRet: 13,
          args: [{ index: 2, value: 0o777, op: "SCMP_CMP_EQ" }],
        },
      ]);
    },
    probe: `touch /dev/shm/f
chmod 755 /dev/shm/f && echo "755 ok"
chmod 777 /dev/shm/f 2>&1 || echo "777 denied"
stat -c '%a' /dev/shm/f
`,
    check: contains("755 ok", "Permission denied", "777 denied", "\n755\n"),
  }),
  probeCase({
    name: "masked argument condition",
    spec: (s) => {
      // Deny making files world-writable: mode & 0o002 == 0o002.
      s.linux!.seccomp = allowAllBut([
        {
          names: ["chmod"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: 1, value: 0o2, valueTwo: 0o2, op: "SCMP_CMP_MASKED_EQ" }],
        },
        {
          names: ["fchmodat"],
          action: "SCMP_ACT_ERRNO",
          args: [{ index: 2, value: 0o2, valueTwo: 0o2, op: "SCMP_CMP_MASKED_EQ" }],
        },
      ]);
    },
    probe: `touch /dev/shm/f; chmod 775 /dev/shm/f && echo "775 ok"; chmod 776 /dev/shm/f 2>&1 || echo "776 denied"\n`,
    check: contains("775 ok", "776 denied"),
  }),
  probeCase({
    name: "SCMP_ACT_KILL kills the calling process",
    spec: (s) => {
      s.linux!.seccomp = allowAllBut([{ names: ["sethostname"], action: "SCMP_ACT_KILL" }]);
    },
    // The hostname applet runs in a child, whose death by SIGSYS the shell reports.
    probe: `hostname conf; echo "hostname status $?"\n`,
    check: contains("hostname status 159", "Bad system call"),
  }),
  probeCase({
    name: "default action ERRNO with an allow list is enforced (unlisted syscall fails)",
    spec: (s) => {
      s.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [
          { names: ["getcwd"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
          { names: ["sethostname"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
        ],
      };
    },
    probe: "hostname conf 2>&1 || echo 'sethostname denied'; hostname\n",
    check: contains("sethostname denied"),
  }),
  probeCase({
    name: "unknown syscall names are ignored",
    spec: (s) => {
      s.linux!.seccomp = allowAllBut([
        { names: ["not_a_syscall_conf", "mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
      ]);
    },
    probe: "mkdir /dev/shm/d 2>&1\n",
  }),
];

conformance("seccomp", cases);
