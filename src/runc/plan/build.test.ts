import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultSpec } from "../config/default.ts";
import type { Spec } from "../config/types.ts";
import { createPlan, execPlan } from "./build.ts";
import { encodePlan, type PlanOp } from "./ops.ts";

function plan(edit?: (s: Spec) => void, extra: Partial<Parameters<typeof createPlan>[0]> = {}): PlanOp[] {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  edit?.(spec);
  return createPlan({
    spec,
    rootfs: "/b/rootfs",
    mode: "create",
    execFifo: "/run/x/exec.fifo",
    cgroupProcs: ["/sys/fs/cgroup/memory/x/cgroup.procs"],
    cgroups: [{ name: "memory", subsystem: "memory", hostDir: "/sys/fs/cgroup/memory/x" }],
    preserveFds: 0,
    noPivot: false,
    lastCap: 40,
    isDirectory: () => true,
    id: "c1",
    rootfsParentMount: { path: "/", shared: false },
    newKeyring: true,
    isHostNamespace: () => false,
    ...extra,
  });
}

const names = (ops: PlanOp[]) => ops.map((o) => o.op);
const indexOf = (ops: PlanOp[], name: string) => names(ops).indexOf(name as PlanOp["op"]);

test("the init joins its cgroups itself, then unshares the cgroup namespace rooted there", () => {
  const ops = plan((s) => s.linux!.namespaces!.push({ type: "cgroup" }));
  const clone = indexOf(ops, "CLONE");
  // The files are opened by the parent half, in the host's view; it never joins (it may stay to
  // wait, and must not count against pids.max).
  assert.ok(indexOf(ops, "CGROUP_OPEN") < clone);
  assert.ok(indexOf(ops, "CGROUP_JOIN_OPENED") > clone);
  assert.deepEqual(ops[indexOf(ops, "CGROUP_JOIN_OPENED") + 1], { op: "UNSHARE", args: [0x02000000] });
  assert.equal(Number(ops[clone]!.args[0]) & 0x02000000, 0, "no CLONE_NEWCGROUP in clone()");
});

test("namespaces given by path are joined with setns, user namespace first, not cloned", () => {
  const ops = plan((s) => {
    s.linux!.namespaces = [
      { type: "network", path: "/run/netns/x" },
      { type: "mount" },
      { type: "user", path: "/proc/1/ns/user" },
    ];
  });
  const joins = ops.filter((o) => o.op === "SETNS");
  assert.deepEqual(
    joins.map((o) => o.args[0]),
    ["/proc/1/ns/user", "/run/netns/x"],
  );
  const flags = Number(ops[indexOf(ops, "CLONE")]!.args[0]);
  assert.equal(flags & 0x40000000, 0, "no new network namespace");
  assert.notEqual(flags & 0x00020000, 0, "new mount namespace");
});

test("a new user namespace gets its id maps from the parent half, right after the clone", () => {
  const ops = plan((s) => {
    s.linux!.namespaces!.push({ type: "user" });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  const c = indexOf(ops, "CLONE");
  assert.deepEqual(ops[c + 1], { op: "IDMAP", args: ["uid_map", "0 100000 65536\n"] });
  assert.equal(ops[c + 2]!.op, "IDMAP");
  // The other namespaces are unshared once the child is root in the new user namespace.
  assert.equal(Number(ops[c]!.args[0]) & ~(0x10000000 | 0x20000000), 0, "only user and pid with the clone");
  const later = ops.find((o) => o.op === "UNSHARE")!;
  assert.ok(indexOf(ops, "SETRESUID") < ops.indexOf(later));
  assert.notEqual(Number(later.args[0]) & 0x00020000, 0, "mount namespace unshared later");
  // Devices cannot be mknod'ed in a user namespace: they are bind-mounted instead.
  assert.equal(indexOf(ops, "MKNOD"), -1);
});

test("mounts and devices come before pivot_root; masked and readonly paths after it", () => {
  const ops = plan();
  const pivot = indexOf(ops, "PIVOT_ROOT");
  assert.ok(pivot > 0);
  assert.ok(indexOf(ops, "MKNOD") < pivot);
  assert.ok(names(ops).lastIndexOf("MOUNT") < pivot);
  assert.ok(indexOf(ops, "MASK_PATH") > pivot);
  assert.equal(names(ops).at(-1), "EXEC");
});

test("a time namespace is unshared before the clone with its offsets, never passed to clone()", () => {
  const ops = plan((s) => {
    s.linux!.namespaces!.push({ type: "time" });
    s.linux!.timeOffsets = { monotonic: { secs: 86400 } };
  });
  const c = indexOf(ops, "CLONE");
  assert.deepEqual(ops[c - 2], { op: "UNSHARE", args: [0x80] });
  assert.deepEqual(ops[c - 1], { op: "WRITE_PROC", args: ["/proc/self/timens_offsets", "monotonic 86400 0\n"] });
  assert.equal(Number(ops[c]!.args[0]) & 0xff, 0, "no signal bits in the clone flags");
});

test("on cgroup v2 the device program is attached before anything joins the cgroup", () => {
  const ops = plan(undefined, { deviceFilter: { dir: "/sys/fs/cgroup/c1", program: Buffer.alloc(16) } });
  assert.ok(indexOf(ops, "BPF_DEVICE_FILTER") < indexOf(ops, "CLONE"));
  assert.ok(indexOf(ops, "BPF_DEVICE_FILTER") < indexOf(ops, "CGROUP_JOIN_OPENED"));
  assert.equal(indexOf(plan(), "BPF_DEVICE_FILTER"), -1);
});

test("without a mount namespace the plan mounts nothing and chroots: the runtime's namespace is the host's", () => {
  const ops = plan(
    (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "mount");
      s.mounts = [];
      s.root!.readonly = false;
      delete s.linux!.maskedPaths;
      delete s.linux!.readonlyPaths;
      s.process!.terminal = true;
    },
    { mode: "run" },
  );
  assert.equal(Number(ops[indexOf(ops, "CLONE")]!.args[0]) & 0x00020000, 0, "no CLONE_NEWNS");
  for (const op of ["MOUNT", "SET_PROPAGATION", "REMOUNT", "MASK_PATH", "PIVOT_ROOT", "MOVE_ROOT"])
    assert.equal(indexOf(ops, op), -1, `${op} in the runtime's own mount namespace`);
  // Devices are made as files in the rootfs, before the chroot; the console is not bound.
  assert.ok(indexOf(ops, "MKNOD") < indexOf(ops, "CHROOT"));
  assert.equal(ops[indexOf(ops, "CONSOLE_SETUP")]!.args[2], 0);
  assert.equal(
    plan((s) => (s.process!.terminal = true), { mode: "run" }).find((o) => o.op === "CONSOLE_SETUP")!.args[2],
    1,
  );
});

test("no-pivot moves the root instead", () => {
  const ops = plan(undefined, { noPivot: true });
  assert.equal(indexOf(ops, "PIVOT_ROOT"), -1);
  assert.ok(indexOf(ops, "MOVE_ROOT") > 0);
});

test("identity order: bounding set dropped before setuid, seccomp last with no_new_privs", () => {
  const ops = plan((s) => (s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10] }), {
    seccomp: { program: Buffer.alloc(8), flags: 0 },
  });
  const at = (n: string) => indexOf(ops, n);
  assert.ok(at("DROP_BOUNDING") < at("SETRESUID"));
  assert.ok(at("SETRESGID") < at("SETRESUID"));
  assert.ok(at("SETRESUID") < at("CAPSET"));
  assert.ok(at("NO_NEW_PRIVS") < at("SECCOMP"));
  assert.ok(at("LOOKUP") < at("WAIT_FIFO"), "a missing executable fails create, not start");
  assert.ok(at("WAIT_FIFO") < at("EXEC"));
  assert.deepEqual(ops[at("SETGROUPS")]!.args, [10]);
});

test("without no_new_privs seccomp is loaded while the process can still do so", () => {
  const ops = plan((s) => (s.process!.noNewPrivileges = false), { seccomp: { program: Buffer.alloc(8), flags: 0 } });
  assert.ok(indexOf(ops, "SECCOMP") < indexOf(ops, "SETRESUID"));
});

test("hooks: a sync point before pivot_root when the runtime has hooks to run", () => {
  assert.equal(indexOf(plan(), "SYNC"), -1);
  const ops = plan(
    (s) => (s.hooks = { createRuntime: [{ path: "/bin/true" }], startContainer: [{ path: "/bin/hook", timeout: 3 }] }),
  );
  assert.ok(indexOf(ops, "SYNC") < indexOf(ops, "PIVOT_ROOT"));
  const hook = ops.find((o) => o.op === "RUN_HOOK")!;
  assert.deepEqual(hook.args, ["/bin/hook", 3, 1 /* HookState.CREATED */, 0]);
  assert.ok(indexOf(ops, "RUN_HOOK") > indexOf(ops, "WAIT_FIFO"));
});

test("sysctls are written through /proc/sys; unknown propagation is a spec error", () => {
  const ops = plan((s) => (s.linux!.sysctl = { "net.ipv4.ip_forward": "1" }));
  assert.deepEqual(ops.find((o) => o.op === "WRITE_PROC" && String(o.args[0]).startsWith("/proc/sys"))!.args, [
    "/proc/sys/net/ipv4/ip_forward",
    "1",
  ]);
  // A "/" inside a name (a VLAN interface) stays in the name, in either notation.
  for (const key of ["net.ipv4.conf.eth0/100.rp_filter", "net/ipv4/conf/eth0.100/rp_filter"]) {
    const write = plan((s) => (s.linux!.sysctl = { [key]: "0" })).find(
      (o) => o.op === "WRITE_PROC" && String(o.args[0]).startsWith("/proc/sys"),
    );
    assert.equal(write!.args[0], "/proc/sys/net/ipv4/conf/eth0.100/rp_filter");
  }
  assert.throws(() => plan((s) => (s.linux!.rootfsPropagation = "sideways")), /linux.rootfsPropagation/);
});

test("a sysctl whose namespace is joined by a path that is the host's own is refused", () => {
  const joined = (type: "network" | "ipc" | "uts", key: string) => (s: Spec) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type);
    s.linux!.namespaces.push({ type, path: `/run/host-${type}` });
    s.linux!.sysctl = { [key]: "1" };
  };
  const seen: string[] = [];
  const isHostNamespace = (type: string, path: string) => {
    seen.push(`${type} ${path}`);
    return path.startsWith("/run/host-");
  };
  assert.throws(
    () => plan(joined("network", "net.ipv4.ip_forward"), { isHostNamespace }),
    /linux\.sysctl\["net\.ipv4\.ip_forward"\]: sysctl "net\.ipv4\.ip_forward" not allowed in host network namespace/,
  );
  assert.deepEqual(seen, ["network /run/host-network"]);
  assert.throws(
    () => plan(joined("ipc", "kernel.shmmax"), { isHostNamespace }),
    /sysctl "kernel\.shmmax" is not allowed in the hosts ipc namespace/,
  );
  assert.throws(
    () => plan(joined("uts", "kernel.domainname"), { isHostNamespace }),
    /sysctl "kernel\.domainname" is not allowed in the hosts uts namespace/,
  );
  // Joined, but not the host's: written (inside the container, after the join).
  const ops = plan(joined("network", "net/ipv4/ip_forward"), { isHostNamespace: () => false });
  assert.ok(ops.some((o) => o.op === "WRITE_PROC" && o.args[0] === "/proc/sys/net/ipv4/ip_forward"));
});

test("in the foreground the container gets relayed pipes, detached it inherits stdio", () => {
  assert.ok(names(plan(undefined, { mode: "run" })).includes("STDIO_PIPES"));
  assert.ok(!names(plan(undefined, { mode: "create" })).includes("STDIO_PIPES"));
});

test("a terminal needs a console socket", () => {
  assert.throws(
    () => plan((s) => (s.process!.terminal = true)),
    /process.terminal: requires --console-socket when detached/,
  );
  assert.ok(names(plan((s) => (s.process!.terminal = true), { mode: "run" })).includes("CONSOLE_PAIR"));
  const ops = plan((s) => (s.process!.terminal = true), { consoleSocket: "/tmp/c.sock" });
  assert.ok(indexOf(ops, "CONSOLE_CONNECT") < indexOf(ops, "CLONE"));
  assert.ok(indexOf(ops, "CONSOLE_SETUP") > indexOf(ops, "PIVOT_ROOT"));
});

test("exec joins the init's namespaces by /proc path and forks for the pid namespace", () => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  const ops = execPlan({
    spec,
    process: { ...spec.process!, args: ["ps"] },
    initPid: 4242,
    detach: false,
    cgroupProcs: ["/sys/fs/cgroup/pids/c/cgroup.procs"],
    preserveFds: 0,
    lastCap: 40,
  });
  // cgroup files are opened before the mount namespace is joined, written after the fork.
  assert.ok(indexOf(ops, "CGROUP_OPEN") < indexOf(ops, "SETNS"));
  const tty = execPlan({
    spec,
    process: { ...spec.process!, args: ["sh"], terminal: true },
    initPid: 4242,
    detach: true,
    consoleSocket: "/run/console.sock",
    cgroupProcs: [],
    preserveFds: 0,
    lastCap: 40,
  });
  // The console socket is a host path: connected before joining the container's mount namespace.
  assert.ok(indexOf(tty, "CONSOLE_CONNECT") < indexOf(tty, "SETNS"));
  assert.ok(indexOf(ops, "CGROUP_JOIN_OPENED") > indexOf(ops, "CLONE"));
  const joins = ops.filter((o) => o.op === "SETNS").map((o) => o.args[0]);
  assert.ok(joins.includes("/proc/4242/ns/pid"));
  assert.ok(joins.includes("/proc/4242/ns/mnt"));
  assert.deepEqual(ops[indexOf(ops, "CLONE")]!.args, [0, 1]);
});

test("oom_score_adj and the seccomp agent's connection come before any namespace is joined", () => {
  const seccomp = { program: Buffer.alloc(8), flags: 8, listenerPath: "/run/agent.sock" };
  const create = plan(
    (s) => {
      s.process!.oomScoreAdj = 500;
      s.linux!.namespaces!.push({ type: "network", path: "/run/netns/x" });
    },
    { seccomp },
  );
  const spec = defaultSpec();
  spec.process!.terminal = false;
  const exec = execPlan({
    spec,
    process: { ...spec.process!, args: ["ps"], oomScoreAdj: 500 },
    initPid: 4242,
    detach: false,
    cgroupProcs: [],
    preserveFds: 0,
    lastCap: 40,
    seccomp,
  });
  for (const ops of [create, exec]) {
    const oom = ops.findIndex((o) => o.op === "WRITE_PROC" && o.args[0] === "/proc/self/oom_score_adj");
    assert.ok(oom >= 0 && oom < indexOf(ops, "SETNS"), "oom_score_adj is written in the runtime's namespaces");
    assert.equal(ops.filter((o) => o.op === "WRITE_PROC" && o.args[0] === "/proc/self/oom_score_adj").length, 1);
    assert.ok(indexOf(ops, "SECCOMP_LISTENER") < indexOf(ops, "SETNS"));
    assert.deepEqual(ops[indexOf(ops, "SECCOMP_LISTENER")]!.args, ["/run/agent.sock"]);
    assert.equal(ops[indexOf(ops, "SECCOMP")]!.args[2], 1, "the notify fd is handed back, not sent from inside");
  }
});

test("ids outside 0-2147483647 are refused where they become syscalls, whatever built the process", () => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  const exec = (user: { uid: number; gid: number; additionalGids?: number[] }) =>
    execPlan({
      spec,
      process: { ...spec.process!, user, args: ["id"] },
      initPid: 4242,
      detach: true,
      cgroupProcs: [],
      preserveFds: 0,
      lastCap: 40,
    });
  // (uid_t)-1 would make setresuid(2) leave the process root.
  assert.throws(() => exec({ uid: 2 ** 32 - 1, gid: 0 }), /process\.user\.uid: uids and gids must be in range/);
  assert.throws(() => exec({ uid: 0, gid: 2 ** 31 }), /process\.user\.gid: /);
  assert.throws(() => exec({ uid: 0, gid: 0, additionalGids: [1, -1] }), /process\.user\.additionalGids\[1\]: /);
  assert.throws(() => plan((s) => (s.process!.user.uid = 2 ** 32 - 1)), /process\.user\.uid: /);
  assert.ok(names(exec({ uid: 2 ** 31 - 1, gid: 2 ** 31 - 1 })).includes("SETRESUID"));
});

test("an AppArmor profile is applied for execve when the host has AppArmor, refused otherwise", () => {
  const withProfile = (s: Spec) => {
    s.process!.apparmorProfile = "berth-default";
  };
  const attr = "/proc/self/attr/apparmor/exec";
  const ops = plan(withProfile, { lsm: { apparmorExecAttr: attr, selinux: false } });
  const write = ops.findIndex((o) => o.op === "WRITE_PROC" && o.args[0] === attr);
  assert.deepEqual(ops[write]!.args, [attr, "exec berth-default"]);
  // Inside the container (its /proc), while still root, before the identity changes.
  assert.ok(write > indexOf(ops, "PIVOT_ROOT"));
  assert.ok(write < ops.findLastIndex((o) => o.op === "SETRESUID"));
  assert.throws(
    () => plan(withProfile),
    /process\.apparmorProfile: apparmor: config provided but apparmor not supported/,
  );
  // An empty profile means unset.
  assert.ok(!plan((s) => (s.process!.apparmorProfile = "")).some((o) => String(o.args[0]).includes("attr")));
});

test("SELinux labels are refused: without SELinux as runc words it, with it because they cannot be applied", () => {
  const label = (s: Spec) => {
    s.process!.selinuxLabel = "system_u:system_r:container_t:s0";
  };
  const mount = (s: Spec) => {
    s.linux!.mountLabel = "system_u:object_r:container_file_t:s0";
  };
  assert.throws(
    () => plan(label),
    /process\.selinuxLabel: selinux label is specified in config, but selinux is disabled/,
  );
  assert.throws(() => plan(mount), /linux\.mountLabel: selinux mount label .* selinux is disabled or not supported/);
  assert.throws(() => plan(label, { lsm: { selinux: true } }), /process\.selinuxLabel: .*cannot apply SELinux labels/);
  assert.throws(() => plan(mount, { lsm: { selinux: true } }), /linux\.mountLabel: .*cannot apply SELinux labels/);
});

test("plan encoding: header, lengths, NUL-terminated strings, 8-byte integers", () => {
  const buf = encodePlan([
    { op: "SETHOSTNAME", args: ["ab"] },
    { op: "UMASK", args: [0o22] },
  ]);
  assert.equal(buf.toString("latin1", 0, 4), "BRTH");
  assert.equal(buf.readUInt32LE(4), buf.length);
  assert.equal(buf.readUInt32LE(8), 2);
  assert.equal(buf.readUInt16LE(12), 21);
  assert.equal(buf.readUInt32LE(16), 3);
  assert.equal(buf.toString("latin1", 20, 23), "ab\0");
  assert.equal(buf.readUInt32LE(27), 8);
  assert.equal(buf.readBigInt64LE(31), 0o22n);
});
