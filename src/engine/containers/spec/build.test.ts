// buildSpec's rules, each stated as the fact dockerd shows (the values come from config.json files
// Debian's dockerd 20.10 wrote for the same requests).
import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../../common/errors.ts";
import { compileSeccomp } from "../../../runc/seccomp/compile.ts";
import { type BuiltSpec, buildSpec, type SpecInput, specJson } from "./build.ts";
import { DEFAULT_CAPABILITIES } from "./capabilities.ts";
import { decodeCreateRequest } from "./decode.ts";
import { TEST_HOST } from "./spec-cases.testing.ts";
import type { ImageConfig } from "./types.ts";
import { parseGroup, parsePasswd, staticUserDb } from "./user.ts";

const USERS = staticUserDb(
  parsePasswd("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n"),
  parseGroup("root:x:0:\ntty:x:5:\nwheel:x:10:user\nusers:x:100:user\nuser:x:1000:\n"),
);

function build(
  body: Record<string, unknown>,
  image: ImageConfig = { Cmd: ["sh"] },
  extra: Partial<SpecInput> = {},
): BuiltSpec {
  const { config, hostConfig } = decodeCreateRequest({ Image: "busybox", ...body });
  return buildSpec({
    config,
    hostConfig,
    image,
    hostname: "0123456789ab",
    rootfs: "/rootfs",
    users: USERS,
    host: TEST_HOST,
    ...extra,
  });
}

const spec = (body: Record<string, unknown>, image?: ImageConfig, extra?: Partial<SpecInput>) =>
  build(body, image, extra).spec;

test("a plain container gets docker's defaults", () => {
  const s = spec({ Cmd: ["sleep", "1000"] });
  assert.equal(s.ociVersion, "1.0.2-dev");
  assert.deepEqual(s.process!.user, { uid: 0, gid: 0, additionalGids: [0] });
  assert.deepEqual(s.process!.args, ["sleep", "1000"]);
  assert.deepEqual(s.process!.env, [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOSTNAME=0123456789ab",
  ]);
  assert.equal(s.process!.cwd, "/");
  assert.equal(s.process!.terminal, undefined);
  assert.equal(s.process!.noNewPrivileges, undefined);
  assert.deepEqual(s.process!.capabilities, {
    bounding: DEFAULT_CAPABILITIES,
    effective: DEFAULT_CAPABILITIES,
    permitted: DEFAULT_CAPABILITIES,
  });
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.deepEqual(s.root, { path: "/rootfs" });
  assert.equal(s.hostname, "0123456789ab");
  assert.deepEqual(s.mounts, [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev",
      type: "tmpfs",
      source: "tmpfs",
      options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
      destination: "/dev/pts",
      type: "devpts",
      source: "devpts",
      options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["ro", "nosuid", "noexec", "nodev"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    {
      destination: "/dev/shm",
      type: "tmpfs",
      source: "shm",
      options: ["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"],
    },
  ]);
  const linux = s.linux!;
  assert.deepEqual(linux.namespaces, [
    { type: "mount" },
    { type: "network" },
    { type: "uts" },
    { type: "pid" },
    { type: "ipc" },
  ]);
  assert.deepEqual(linux.sysctl, {
    "net.ipv4.ip_unprivileged_port_start": "0",
    "net.ipv4.ping_group_range": "0 2147483647",
  });
  assert.deepEqual(linux.resources, {
    devices: [
      { allow: false, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 5, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 9, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 8, access: "rwm" },
      { allow: true, type: "c", major: 5, minor: 0, access: "rwm" },
      { allow: true, type: "c", major: 5, minor: 1, access: "rwm" },
      { allow: false, type: "c", major: 10, minor: 229, access: "rwm" },
    ],
  });
  assert.deepEqual(linux.maskedPaths, [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
  ]);
  assert.deepEqual(linux.readonlyPaths, ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]);
  assert.equal(linux.devices, undefined);
  assert.equal(linux.seccomp!.defaultAction, "SCMP_ACT_ERRNO");
  assert.deepEqual(linux.seccomp!.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
});

test("Env: the request's first, the image's it does not name after, over PATH, HOSTNAME and TERM", () => {
  // The request and image of the oracle's "envs" case: -e A=1 -e PATH=/bin:/x -e B over B=2 C=3 HOME=/img.
  const s = spec({ Env: ["A=1", "PATH=/bin:/x", "B"], Cmd: ["true"], Tty: true }, { Env: ["B=2", "C=3", "HOME=/img"] });
  assert.deepEqual(s.process!.env, ["PATH=/bin:/x", "HOSTNAME=0123456789ab", "TERM=xterm", "A=1", "C=3", "HOME=/img"]);
  assert.equal(s.process!.terminal, true);
  // The image's PATH replaces the default in place; without one the default stays.
  assert.deepEqual(spec({ Cmd: ["true"] }, { Env: ["PATH=/img/bin", "X=1"] }).process!.env, [
    "PATH=/img/bin",
    "HOSTNAME=0123456789ab",
    "X=1",
  ]);
});

test("Entrypoint and Cmd merge as docker merges them", () => {
  const image: ImageConfig = { Entrypoint: ["/entry"], Cmd: ["default"] };
  assert.deepEqual(spec({}, image).process!.args, ["/entry", "default"]);
  assert.deepEqual(spec({ Cmd: ["mine"] }, image).process!.args, ["/entry", "mine"]);
  // An Entrypoint in the request drops the image's Cmd...
  assert.deepEqual(spec({ Entrypoint: ["/other"] }, image).process!.args, ["/other"]);
  assert.deepEqual(spec({ Entrypoint: ["/other"], Cmd: ["x"] }, image).process!.args, ["/other", "x"]);
  // ... [""] (--entrypoint "") clears it, and also drops the image's Cmd.
  assert.deepEqual(spec({ Entrypoint: [""], Cmd: ["sleep", "1"] }, image).process!.args, ["sleep", "1"]);
  assert.throws(() => spec({ Entrypoint: [""] }, image), /^InvalidArgumentError: No command specified$/);
  // An empty (not absent) Entrypoint clears it and keeps the image's Cmd.
  assert.deepEqual(spec({ Entrypoint: [] }, image).process!.args, ["default"]);
  assert.throws(() => spec({}, {}), /No command specified/);
});

test("WorkingDir: the request's, else the image's, else /", () => {
  assert.equal(spec({ WorkingDir: "/tmp", Cmd: ["x"] }, { WorkingDir: "/img" }).process!.cwd, "/tmp");
  assert.equal(spec({ Cmd: ["x"] }, { WorkingDir: "/img" }).process!.cwd, "/img");
  assert.equal(spec({ Cmd: ["x"] }).process!.cwd, "/");
});

test("User: names from the image, the primary gid first, then membership, then GroupAdd", () => {
  assert.deepEqual(spec({ User: "user", Cmd: ["x"] }).process!.user, {
    uid: 1000,
    gid: 1000,
    additionalGids: [1000, 10, 100],
  });
  // An explicit group: no membership lookup.
  assert.deepEqual(spec({ User: "1000:100", Cmd: ["x"], HostConfig: { GroupAdd: ["10"] } }).process!.user, {
    uid: 1000,
    gid: 100,
    additionalGids: [100, 10],
  });
  // The image's User applies when the request names none.
  assert.equal(spec({ Cmd: ["x"] }, { User: "user" }).process!.user.uid, 1000);
  // Numbers need no entry; names do.
  assert.deepEqual(spec({ User: "4242:4343", Cmd: ["x"] }).process!.user, {
    uid: 4242,
    gid: 4343,
    additionalGids: [4343],
  });
  assert.throws(
    () => spec({ User: "nosuch", Cmd: ["x"] }),
    /unable to find user nosuch: no matching entries in passwd file/,
  );
  assert.throws(
    () => spec({ User: "user:nogroup", Cmd: ["x"] }),
    /unable to find group nogroup: no matching entries in group file/,
  );
  assert.throws(
    () => spec({ Cmd: ["x"], HostConfig: { GroupAdd: ["nosuchgroup"] } }),
    /Unable to find group nosuchgroup: no matching entries in group file/,
  );
  assert.throws(() => spec({ User: "3000000000", Cmd: ["x"] }), /uids and gids must be in range 0-2147483647/);
  // A process that is not root keeps the bounding set only.
  assert.deepEqual(Object.keys(spec({ User: "1000", Cmd: ["x"] }).process!.capabilities!), ["bounding"]);
});

test("CapAdd and CapDrop over the 14 defaults; ALL; any case, with or without CAP_", () => {
  const caps = (h: Record<string, unknown>) => spec({ Cmd: ["x"], HostConfig: h }).process!.capabilities!.bounding;
  assert.deepEqual(caps({ CapAdd: ["NET_ADMIN"], CapDrop: ["chown"] }), [
    ...DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_CHOWN"),
    "CAP_NET_ADMIN",
  ]);
  assert.deepEqual(caps({ CapDrop: ["ALL"], CapAdd: ["chown", "CAP_KILL"] }), ["CAP_CHOWN", "CAP_KILL"]);
  const all = caps({ CapAdd: ["all"], CapDrop: ["SYS_ADMIN"] })!;
  assert.equal(all.length, 40);
  assert.ok(!all.includes("CAP_SYS_ADMIN"));
});

test("resources map to linux.resources as dockerd maps them", () => {
  const r = (h: Record<string, unknown>) => {
    const res = { ...spec({ Cmd: ["x"], HostConfig: h }).linux!.resources };
    delete res.devices;
    return res;
  };
  // --memory 64m --memory-reservation 32m --cpus 1.5 --cpu-shares 512 --cpuset-cpus 0 --pids-limit 50
  assert.deepEqual(
    r({
      Memory: 67_108_864,
      MemoryReservation: 33_554_432,
      NanoCpus: 1_500_000_000,
      CpuShares: 512,
      CpusetCpus: "0",
      PidsLimit: 50,
    }),
    {
      memory: { limit: 67_108_864, reservation: 33_554_432, swap: 134_217_728 },
      cpu: { shares: 512, quota: 150_000, period: 100_000, cpus: "0" },
      pids: { limit: 50 },
    },
  );
  // --memory-swap -1 is no swap limit; swappiness and the OOM killer on cgroup v1; quota and period as given.
  assert.deepEqual(
    r({
      Memory: 67_108_864,
      MemorySwap: -1,
      MemorySwappiness: 10,
      OomKillDisable: true,
      CpuPeriod: 50_000,
      CpuQuota: 20_000,
      CpusetMems: "0",
      PidsLimit: -1,
    }),
    {
      memory: { limit: 67_108_864, swappiness: 10, disableOOMKiller: true },
      cpu: { quota: 20_000, period: 50_000, mems: "0" },
    },
  );
  assert.deepEqual(r({ Memory: 10_000_000, MemorySwap: 20_000_000 }).memory, { limit: 10_000_000, swap: 20_000_000 });
  // A kernel without swap accounting: no swap limit, and a warning (dockerd's words).
  const noSwap = build({ Cmd: ["x"], HostConfig: { Memory: 10_000_000 } }, undefined, {
    host: { ...TEST_HOST, swapLimit: false },
  });
  assert.deepEqual(noSwap.spec.linux!.resources!.memory, { limit: 10_000_000 });
  assert.match(noSwap.warnings.join("\n"), /does not support swap limit capabilities/);
});

test("ShmSize, Init, ReadonlyRootfs, no-new-privileges, OomScoreAdj, Ulimits", () => {
  const s = spec(
    {
      Cmd: ["sleep", "1000"],
      HostConfig: {
        ShmSize: 8_388_608,
        Init: true,
        ReadonlyRootfs: true,
        SecurityOpt: ["no-new-privileges"],
        OomScoreAdj: 100,
        Ulimits: [
          { Name: "nofile", Soft: 100, Hard: 200 },
          { Name: "core", Soft: -1, Hard: -1 },
        ],
      },
    },
    undefined,
    { initBinary: "/usr/bin/docker-init" },
  );
  assert.deepEqual(s.process!.args, ["/sbin/docker-init", "--", "sleep", "1000"]);
  assert.deepEqual(s.mounts!.find((m) => m.destination === "/dev/shm")!.options, [
    "nosuid",
    "noexec",
    "nodev",
    "mode=1777",
    "size=8388608",
  ]);
  const init = s.mounts!.findIndex((m) => m.destination === "/sbin/docker-init");
  assert.deepEqual(s.mounts![init], {
    destination: "/sbin/docker-init",
    type: "bind",
    source: "/usr/bin/docker-init",
    options: ["bind", "ro"],
  });
  assert.equal(init, 7, "right after the default mounts");
  assert.equal(s.root!.readonly, true);
  assert.equal(s.process!.noNewPrivileges, true);
  assert.equal(s.process!.oomScoreAdj, 100);
  assert.deepEqual(s.process!.rlimits![0], { type: "RLIMIT_NOFILE", hard: 200, soft: 100 });
  // RLIM_INFINITY does not fit a double: config.json carries it exactly.
  assert.match(specJson(s), /\{"type":"RLIMIT_CORE","hard":18446744073709551615,"soft":18446744073709551615\}/);
  assert.throws(() => spec({ Cmd: ["x"], HostConfig: { Init: true } }), /no docker-init binary is configured/);
  // no-new-privileges=false is no field at all.
  assert.equal(
    spec({ Cmd: ["x"], HostConfig: { SecurityOpt: ["no-new-privileges=false"] } }).process!.noNewPrivileges,
    undefined,
  );
});

test("Binds, Mounts and Tmpfs: dockerd's options; binds, then tmpfs, sorted by depth", () => {
  const s = spec({
    Cmd: ["x"],
    HostConfig: {
      Binds: ["/host/data:/data:ro", "/host/a:/x/y/z:rshared,Z"],
      Mounts: [
        { Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1_048_576, Mode: 0o1770 } },
        { Type: "bind", Source: "/tmp", Target: "/w", ReadOnly: true },
        { Type: "bind", Source: "/tmp", Target: "/x/y", BindOptions: { NonRecursive: true } },
      ],
      Tmpfs: { "/u": "", "/v": "exec,size=2g" },
    },
  });
  const user = s.mounts!.slice(7);
  assert.deepEqual(user, [
    { destination: "/data", type: "bind", source: "/host/data", options: ["rbind", "ro", "rprivate"] },
    { destination: "/w", type: "bind", source: "/tmp", options: ["rbind", "ro", "rprivate"] },
    { destination: "/u", type: "tmpfs", source: "tmpfs", options: ["noexec", "nosuid", "nodev", "rprivate"] },
    { destination: "/v", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "rprivate", "exec", "size=2g"] },
    {
      destination: "/t",
      type: "tmpfs",
      source: "tmpfs",
      options: ["noexec", "nosuid", "nodev", "rprivate", "mode=1770", "size=1m"],
    },
    { destination: "/x/y", type: "bind", source: "/tmp", options: ["bind", "rprivate"] },
    { destination: "/x/y/z", type: "bind", source: "/host/a", options: ["rbind", "rshared"] },
  ]);
  // A shared bind needs a shared rootfs.
  assert.equal(s.linux!.rootfsPropagation, "shared");
  assert.throws(() => spec({ Cmd: ["x"], HostConfig: { Tmpfs: { "/x": "foo" } } }), /Invalid tmpfs option \["foo"\]/);
  assert.throws(() => spec({ Cmd: ["x"], HostConfig: { Binds: ["/a:/"] } }), /destination can't be '\/'/);
});

test("a bind of the daemon's root or a directory above it is rslave unless asked otherwise", () => {
  const m = (binds: string[]) =>
    spec({ Cmd: ["x"], HostConfig: { Binds: binds } }, undefined, { daemonRoot: "/var/lib/berth" }).mounts!.slice(7);
  assert.deepEqual(m(["/var:/v"])[0]!.options, ["rbind", "rslave"]);
  assert.deepEqual(m(["/var/lib/berth/x:/v"])[0]!.options, ["rbind", "rslave"]);
  assert.deepEqual(m(["/srv:/v"])[0]!.options, ["rbind", "rprivate"]);
  assert.deepEqual(m(["/var:/v:rshared"])[0]!.options, ["rbind", "rshared"]);
  assert.throws(() => m(["/var:/v:rprivate"]), /must use either propagation mode "rslave" or "rshared"/);
});

test("a request mount replaces the default at its target; /dev replaces everything below it", () => {
  const shm = spec({ Cmd: ["x"], HostConfig: { Binds: ["/host/shm:/dev/shm"] } }).mounts!;
  assert.equal(shm.filter((m) => m.destination === "/dev/shm").length, 1);
  assert.equal(shm.find((m) => m.destination === "/dev/shm")!.type, "bind");
  const dev = spec({ Cmd: ["x"], HostConfig: { Binds: ["/dev:/dev"] } }).mounts!.map((m) => m.destination);
  assert.deepEqual(dev, ["/proc", "/sys", "/sys/fs/cgroup", "/dev"]);
});

test("namespace modes: host drops the namespace, container: joins the given file", () => {
  const ns = (h: Record<string, unknown>, joins = {}) =>
    spec({ Cmd: ["x"], HostConfig: h }, undefined, { joins, shmPath: "/run/shm-of-other" }).linux!.namespaces;
  assert.deepEqual(ns({ NetworkMode: "none", IpcMode: "host", PidMode: "host", UTSMode: "host" }), [
    { type: "mount" },
    { type: "network" },
  ]);
  assert.deepEqual(
    ns(
      { NetworkMode: "container:abc", IpcMode: "container:abc", PidMode: "container:abc" },
      {
        network: "/proc/10/ns/net",
        ipc: "/proc/10/ns/ipc",
        pid: "/proc/10/ns/pid",
      },
    ),
    [
      { type: "mount" },
      { type: "network", path: "/proc/10/ns/net" },
      { type: "uts" },
      { type: "pid", path: "/proc/10/ns/pid" },
      { type: "ipc", path: "/proc/10/ns/ipc" },
    ],
  );
  assert.throws(() => ns({ NetworkMode: "container:abc" }), /network namespace of the container to join is not known/);
  // cgroup v2: a private cgroup namespace by default, as dockerd 20.10.
  const v2 = build({ Cmd: ["x"] }, undefined, { host: { ...TEST_HOST, cgroupVersion: 2 } }).spec.linux!.namespaces!;
  assert.deepEqual(v2.at(-1), { type: "cgroup" });
});

test("network and IPC modes change sysctls, /dev/shm and the hostname", () => {
  const host = spec({ Cmd: ["x"], HostConfig: { NetworkMode: "host", IpcMode: "none" } });
  assert.deepEqual(host.linux!.sysctl, {}, "no default sysctls without a network namespace of its own");
  assert.equal(
    host.mounts!.find((m) => m.destination === "/dev/shm"),
    undefined,
    "IpcMode none: no /dev/shm",
  );
  const uts = spec({ Cmd: ["x"], HostConfig: { UTSMode: "host", IpcMode: "shareable" } }, undefined, {
    shmPath: "/c/shm",
  });
  assert.equal(uts.hostname, undefined);
  assert.ok(uts.process!.env!.includes("HOSTNAME=0123456789ab"));
  assert.deepEqual(uts.mounts!.at(-1), {
    destination: "/dev/shm",
    type: "bind",
    source: "/c/shm",
    options: ["rbind", "rprivate"],
  });
  const ipcHost = spec({ Cmd: ["x"], HostConfig: { IpcMode: "host" } });
  assert.deepEqual(ipcHost.mounts!.at(-1), {
    destination: "/dev/shm",
    type: "bind",
    source: "/dev/shm",
    options: ["rbind", "rprivate"],
  });
  // The request's own sysctls win over dockerd's two defaults.
  const own = spec({
    Cmd: ["x"],
    HostConfig: { Sysctls: { "net.ipv4.ping_group_range": "1 2", "kernel.shmmax": "100000" } },
  });
  assert.deepEqual(own.linux!.sysctl, {
    "net.ipv4.ping_group_range": "1 2",
    "kernel.shmmax": "100000",
    "net.ipv4.ip_unprivileged_port_start": "0",
  });
});

test("privileged: every capability and host device, no seccomp, no masked paths, /sys writable", () => {
  const hostDevices = [
    { path: "/dev/fuse", type: "c" as const, major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 },
    { path: "/dev/loop0", type: "b" as const, major: 7, minor: 0, fileMode: 0o600, uid: 0, gid: 0 },
  ];
  const s = spec({ Cmd: ["x"], HostConfig: { Privileged: true, CapDrop: ["CHOWN"] } }, undefined, { hostDevices });
  assert.equal(s.process!.capabilities!.bounding!.length, 41);
  assert.deepEqual(s.linux!.devices, hostDevices);
  assert.deepEqual(s.linux!.resources!.devices, [{ allow: true, access: "rwm" }]);
  assert.equal(s.linux!.seccomp, undefined);
  assert.equal(s.linux!.maskedPaths, undefined);
  assert.equal(s.linux!.readonlyPaths, undefined);
  assert.deepEqual(s.mounts!.find((m) => m.destination === "/sys")!.options, ["nosuid", "noexec", "nodev"]);
  assert.deepEqual(s.mounts!.find((m) => m.destination === "/sys/fs/cgroup")!.options, ["nosuid", "noexec", "nodev"]);
  // A seccomp profile asked for is not applied either, as in dockerd.
  assert.equal(
    spec({ Cmd: ["x"], HostConfig: { Privileged: true, SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] } })
      .linux!.seccomp,
    undefined,
  );
});

test("Devices: the node at PathInContainer and an allow rule with its permissions", () => {
  const s = spec({ Cmd: ["x"] }, undefined, {
    devices: [
      {
        device: { path: "/dev/mine", type: "c", major: 10, minor: 200, fileMode: 0o666, uid: 0, gid: 0 },
        permissions: "rw",
      },
    ],
  });
  assert.deepEqual(s.linux!.devices, [
    { path: "/dev/mine", type: "c", major: 10, minor: 200, fileMode: 0o666, uid: 0, gid: 0 },
  ]);
  assert.deepEqual(s.linux!.resources!.devices!.at(-1), {
    allow: true,
    type: "c",
    major: 10,
    minor: 200,
    access: "rw",
  });
});

test("SecurityOpt: seccomp=unconfined, a profile of the request's own, apparmor and label as warnings", () => {
  assert.equal(spec({ Cmd: ["x"], HostConfig: { SecurityOpt: ["seccomp=unconfined"] } }).linux!.seccomp, undefined);
  const own = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
      { name: "chmod", action: "SCMP_ACT_ERRNO", includes: { caps: ["CAP_SYS_ADMIN"] } },
    ],
  };
  const seccomp = spec({ Cmd: ["x"], HostConfig: { SecurityOpt: [`seccomp=${JSON.stringify(own)}`] } }).linux!.seccomp;
  // The chmod rule needs CAP_SYS_ADMIN, which the container does not have.
  assert.deepEqual(seccomp, {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
  });
  const { warnings } = build({ Cmd: ["x"], HostConfig: { SecurityOpt: ["apparmor=docker-default", "label=type:x"] } });
  assert.equal(warnings.length, 2);
  assert.match(warnings[0]!, /AppArmor is not applied/);
  assert.throws(
    () => spec({ Cmd: ["x"], HostConfig: { SecurityOpt: ['seccomp={"defaultAction":"SCMP_ACT_NOPE"}'] } }),
    /Decoding seccomp profile failed: seccomp.defaultAction/,
  );
  assert.throws(
    () =>
      spec({
        Cmd: ["x"],
        HostConfig: {
          SecurityOpt: [
            'seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}',
          ],
        },
      }),
    /'name' and 'names' were specified/,
  );
});

test("a request's profile that berth-runc cannot compile is refused at create (found by the engine-spec fuzz target)", () => {
  const profile = (p: object) => ({ Cmd: ["x"], HostConfig: { SecurityOpt: [`seccomp=${JSON.stringify(p)}`] } });
  assert.throws(
    () => spec(profile({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 4294967295 })),
    /^InvalidArgumentError: Decoding seccomp profile failed: linux.seccomp.defaultErrnoRet: must be an integer from 0 to 65535/,
  );
  assert.throws(
    () =>
      spec(
        profile({
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 65536 }],
        }),
      ),
    /errnoRet: must be an integer from 0 to 65535/,
  );
  spec(
    profile({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 65535 }],
    }),
  );
});

test("the default profile compiles with berth-runc's seccomp compiler for the default and every capability set", () => {
  for (const h of [{}, { CapAdd: ["ALL"] }, { CapAdd: ["SYS_ADMIN"] }, { CapDrop: ["ALL"] }]) {
    const seccomp = spec({ Cmd: ["x"], HostConfig: h }).linux!.seccomp!;
    const compiled = compileSeccomp(seccomp, { nativeArch: "SCMP_ARCH_X86_64" });
    assert.ok(compiled.program.length > 0);
  }
});

test("Domainname is the kernel.domainname sysctl, as dockerd sets it", () => {
  const s = spec({ Cmd: ["x"], Domainname: "example.org" });
  assert.equal(s.linux!.sysctl!["kernel.domainname"], "example.org");
  assert.equal(s.domainname, undefined);
  assert.equal(
    spec({ Cmd: ["x"], Domainname: "example.org", HostConfig: { UTSMode: "host" } }).linux!.sysctl![
      "kernel.domainname"
    ],
    undefined,
  );
});

test("image volumes are a warning, not a refusal", () => {
  const { warnings } = build({ Cmd: ["x"] }, { Volumes: { "/var/lib/data": {} } });
  assert.match(
    warnings.join("\n"),
    /volumes are not supported yet: \/var\/lib\/data stays in the container's writable layer/,
  );
});

test("a request that fails a check builds nothing", () => {
  assert.throws(() => spec({ Cmd: ["x"], HostConfig: { Memory: 1 } }), InvalidArgumentError);
});
