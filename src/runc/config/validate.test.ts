import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runcConfigFixture as fixture } from "../../../test/fixtures/runc-config.ts";
import { InvalidSpecError } from "../../common/errors.ts";
import { parseSpecJson } from "./bundle.ts";
import { defaultSpecJson } from "./default.ts";
import { parseProcess, parseSpec } from "./validate.ts";

// What JSON.parse returns: the cases below edit raw documents freely, as a caller could.
type Json = ReturnType<typeof JSON.parse>;

/** A fresh, valid spec to break: `runc spec` output. */
function base(): Json {
  return JSON.parse(defaultSpecJson());
}

function rejects(mutate: (s: Json) => void, field: string, message?: RegExp): void {
  const spec = base();
  mutate(spec);
  assert.throws(
    () => parseSpec(spec),
    (err: unknown) => {
      assert.ok(err instanceof InvalidSpecError, `expected InvalidSpecError, got ${String(err)}`);
      assert.equal(err.field, field, err.message);
      assert.ok(err.message.startsWith(`config.json: ${field}: `), err.message);
      if (message) assert.match(err.message, message);
      return true;
    },
  );
}

/** A spec without a mount namespace and without what needs one. */
function withoutMountNamespace(s: Json): void {
  s.linux.namespaces = s.linux.namespaces.filter((n: { type: string }) => n.type !== "mount");
  s.mounts = [];
  s.root.readonly = false;
  delete s.linux.maskedPaths;
  delete s.linux.readonlyPaths;
}

describe("good specs", () => {
  test("runc spec output", () => {
    const spec = parseSpec(base());
    assert.equal(spec.process?.args?.[0], "sh");
    assert.equal(spec.linux?.namespaces?.length, 5);
  });

  test("no mount namespace: the container runs in the runtime's, with nothing to mount", () => {
    const s = base();
    withoutMountNamespace(s);
    assert.deepEqual(
      parseSpec(s).linux?.namespaces?.map((n) => n.type),
      ["pid", "network", "ipc", "uts"],
    );
  });

  test("podman-generated config (seccomp, netns path, many mounts)", () => {
    const spec = parseSpecJson(fixture("podman-config.json.txt"));
    assert.equal(spec.process?.user.umask, 18);
    assert.ok((spec.linux?.seccomp?.syscalls?.length ?? 0) > 10);
    assert.ok((spec.mounts?.length ?? 0) >= 10);
  });

  test("containerd/nerdctl-style config (hooks, resources, 64-bit values, unknown fields)", () => {
    const spec = parseSpecJson(fixture("containerd-config.json.txt"));
    assert.equal(spec.process?.rlimits?.[0]?.hard, 2 ** 64);
    const ioctl = spec.linux?.seccomp?.syscalls?.find((s) => s.names.includes("ioctl"));
    assert.equal(ioctl?.args?.[0]?.value, 18446744071562067968n);
    const personality = spec.linux?.seccomp?.syscalls?.find((s) => s.names.includes("personality"));
    assert.equal(personality?.args?.[0]?.value, 4294967295);
    assert.equal(spec.linux?.resources?.memory?.swap, -1);
    assert.equal(spec.hooks?.createRuntime?.[0]?.timeout, 30);
    assert.equal((spec as Json).futureField, undefined);
  });

  test("null is read as absent, like Go's encoding/json", () => {
    const s = base();
    s.hooks = null;
    s.process.env = null;
    s.linux.sysctl = null;
    const spec = parseSpec(s);
    assert.equal(spec.hooks, undefined);
    assert.equal(spec.process?.env, undefined);
  });

  test("process may be omitted when not creating", () => {
    const s = base();
    delete s.process;
    assert.equal(parseSpec(s, { requireProcess: false }).process, undefined);
  });

  test("relative mount destination is made absolute, with a warning", () => {
    const s = base();
    s.mounts.push({ destination: "data", type: "tmpfs", source: "tmpfs" });
    const warnings: string[] = [];
    const spec = parseSpec(s, { onWarning: (f) => warnings.push(f) });
    assert.equal(spec.mounts?.at(-1)?.destination, "/data");
    assert.deepEqual(warnings, ["mounts[7].destination"]);
  });

  test("filesystem options on a bind mount are accepted with a warning (the kernel ignores them)", () => {
    const s = base();
    s.mounts.push({ destination: "/x", source: "/x", options: ["bind", "mode=755"] });
    const warnings: string[] = [];
    parseSpec(s, { onWarning: (f) => warnings.push(f) });
    assert.deepEqual(warnings, ["mounts[7].options"]);
  });

  test("unknown CAP_ names are dropped with a warning", () => {
    const s = base();
    s.process.capabilities.bounding.push("CAP_FROM_THE_FUTURE");
    const warnings: string[] = [];
    const spec = parseSpec(s, { onWarning: (f) => warnings.push(f) });
    assert.deepEqual(spec.process?.capabilities?.bounding, ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    assert.deepEqual(warnings, ["process.capabilities.bounding[3]"]);
  });

  test("consoleSize without a terminal is ignored", () => {
    const s = base();
    s.process.terminal = false;
    s.process.consoleSize = { height: 24, width: 80 };
    assert.equal(parseSpec(s).process?.consoleSize, undefined);
    s.process.terminal = true;
    assert.deepEqual(parseSpec(s).process?.consoleSize, { height: 24, width: 80 });
  });

  test("sysctls allowed by their namespaces", () => {
    const s = base();
    s.linux.sysctl = {
      "net.ipv4.ip_forward": "1",
      "net/ipv4/conf/eth0.100/rp_filter": "0",
      "kernel.msgmax": "8192",
      "fs.mqueue.queues_max": "256",
      "kernel.domainname": "example.com",
    };
    assert.equal(Object.keys(parseSpec(s).linux?.sysctl ?? {}).length, 5);
  });

  test("a user namespace joined by path needs no mappings", () => {
    const s = base();
    s.linux.namespaces.push({ type: "user", path: "/proc/1234/ns/user" });
    parseSpec(s);
  });

  test("parseProcess decodes exec's process.json", () => {
    const p = parseProcess({ user: { uid: 0, gid: 0 }, args: ["ls"], cwd: "/" });
    assert.deepEqual(p.args, ["ls"]);
    assert.throws(() => parseProcess({ user: { uid: 0, gid: 0 }, cwd: "/" }), /process\.args: is required/);
  });
});

describe("each rule names the field", () => {
  const cases: [string, (s: Json) => void, string, RegExp?][] = [
    ["document must be an object", () => {}, "(document)"],
    ["ociVersion required", (s) => delete s.ociVersion, "ociVersion", /required/],
    ["ociVersion 1.x", (s) => (s.ociVersion = "2.0.0"), "ociVersion", /unsupported version/],
    ["ociVersion semver", (s) => (s.ociVersion = "1.0"), "ociVersion"],
    ["root required", (s) => delete s.root, "root", /root must be specified/],
    ["root.path required", (s) => (s.root.path = ""), "root.path"],
    ["root.readonly boolean", (s) => (s.root.readonly = "yes"), "root.readonly", /boolean/],
    ["process required", (s) => delete s.process, "process"],
    ["process.args required", (s) => delete s.process.args, "process.args", /required/],
    ["process.args non-empty", (s) => (s.process.args = []), "process.args", /empty/],
    ["process.args strings", (s) => (s.process.args = ["sh", 1]), "process.args[1]", /string/],
    ["process.cwd required", (s) => (s.process.cwd = ""), "process.cwd"],
    ["process.cwd absolute", (s) => (s.process.cwd = "srv"), "process.cwd", /absolute/],
    ["process.env strings", (s) => (s.process.env = "PATH=/bin"), "process.env", /array/],
    ["process.user required", (s) => delete s.process.user, "process.user"],
    ["uid integer", (s) => (s.process.user.uid = 1.5), "process.user.uid", /integer/],
    ["uid >= 0", (s) => (s.process.user.uid = -1), "process.user.uid", /must be in range 0-2147483647, got -1/],
    ["uid not (uid_t)-1", (s) => (s.process.user.uid = 2 ** 32 - 1), "process.user.uid", /0-2147483647/],
    ["uid < 2^31", (s) => (s.process.user.uid = 2 ** 31), "process.user.uid", /0-2147483647, got 2147483648/],
    ["gid < 2^31", (s) => (s.process.user.gid = 2 ** 32), "process.user.gid", /0-2147483647/],
    ["additionalGids", (s) => (s.process.user.additionalGids = [5, "6"]), "process.user.additionalGids[1]"],
    [
      "additionalGids range",
      (s) => (s.process.user.additionalGids = [5, 2 ** 32 - 1]),
      "process.user.additionalGids[1]",
      /0-2147483647/,
    ],
    [
      "additionalGids count",
      (s) => (s.process.user.additionalGids = new Array(65536).fill(7)),
      "process.user.additionalGids",
      /at most 65535/,
    ],
    ["umask range", (s) => (s.process.user.umask = 0o1000), "process.user.umask"],
    ["terminal boolean", (s) => (s.process.terminal = 1), "process.terminal"],
    ["consoleSize shape", (s) => (s.process.consoleSize = { height: -1, width: 80 }), "process.consoleSize.height"],
    ["capability form", (s) => (s.process.capabilities.effective[1] = "kill"), "process.capabilities.effective[1]"],
    ["capability set array", (s) => (s.process.capabilities.ambient = "CAP_KILL"), "process.capabilities.ambient"],
    ["rlimit type", (s) => (s.process.rlimits[0].type = "RLIMIT_FOO"), "process.rlimits[0].type", /unknown rlimit/],
    [
      "rlimit duplicate",
      (s) => s.process.rlimits.push({ type: "RLIMIT_NOFILE", soft: 1, hard: 1 }),
      "process.rlimits[1].type",
      /duplicate/,
    ],
    ["rlimit soft <= hard", (s) => (s.process.rlimits[0].soft = 4096), "process.rlimits[0].soft", /greater than hard/],
    ["rlimit hard required", (s) => delete s.process.rlimits[0].hard, "process.rlimits[0].hard"],
    ["oomScoreAdj range", (s) => (s.process.oomScoreAdj = 1001), "process.oomScoreAdj", /-1000, 1000/],
    ["apparmorProfile NUL", (s) => (s.process.apparmorProfile = "confined\0"), "process.apparmorProfile", /NUL/],
    ["selinuxLabel string", (s) => (s.process.selinuxLabel = 1), "process.selinuxLabel", /string/],
    ["mountLabel NUL", (s) => (s.linux.mountLabel = "a\0b"), "linux.mountLabel", /NUL/],
    ["noNewPrivileges boolean", (s) => (s.process.noNewPrivileges = "true"), "process.noNewPrivileges"],
    [
      "ioPriority class",
      (s) => (s.process.ioPriority = { class: "IOPRIO_CLASS_FOO", priority: 1 }),
      "process.ioPriority.class",
      /unknown value/,
    ],
    [
      "ioPriority range",
      (s) => (s.process.ioPriority = { class: "IOPRIO_CLASS_BE", priority: 8 }),
      "process.ioPriority.priority",
    ],
    ["scheduler policy", (s) => (s.process.scheduler = { policy: "SCHED_FAST" }), "process.scheduler.policy"],
    ["scheduler nice", (s) => (s.process.scheduler = { policy: "SCHED_OTHER", nice: 20 }), "process.scheduler.nice"],
    [
      "scheduler priority only for realtime",
      (s) => (s.process.scheduler = { policy: "SCHED_OTHER", priority: 5 }),
      "process.scheduler.priority",
    ],
    ["hostname needs uts", (s) => s.linux.namespaces.splice(3, 1), "hostname", /UTS namespace/],
    [
      "domainname needs uts",
      (s) => {
        delete s.hostname;
        s.domainname = "example.com";
        s.linux.namespaces.splice(3, 1);
      },
      "domainname",
    ],
    ["hostname string", (s) => (s.hostname = 7), "hostname"],
    ["mounts array", (s) => (s.mounts = {}), "mounts"],
    ["mount destination required", (s) => delete s.mounts[4].destination, "mounts[4].destination", /required/],
    ["mount destination non-empty", (s) => (s.mounts[4].destination = ""), "mounts[4].destination"],
    ["mount destination NUL", (s) => (s.mounts[2].destination = "/dev/\0pts"), "mounts[2].destination", /NUL/],
    ["mount options strings", (s) => (s.mounts[1].options = ["ro", 5]), "mounts[1].options[1]"],
    [
      "mount uidMappings without gidMappings",
      (s) =>
        s.mounts.push({
          destination: "/x",
          source: "/x",
          options: ["bind", "idmap"],
          uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
        }),
      "mounts[7].gidMappings",
    ],
    [
      "idmap on a non-bind mount",
      (s) => s.mounts.push({ destination: "/x", type: "tmpfs", source: "tmpfs", options: ["idmap"] }),
      "mounts[7].options",
      /bind mounts/,
    ],
    [
      "idmap without mappings or user namespace",
      (s) => s.mounts.push({ destination: "/x", source: "/x", options: ["rbind", "ridmap"] }),
      "mounts[7].options",
      /user namespace/,
    ],
    ["hooks object", (s) => (s.hooks = []), "hooks"],
    ["hook path absolute", (s) => (s.hooks = { prestart: [{ path: "hook" }] }), "hooks.prestart[0].path", /absolute/],
    [
      "hook timeout > 0",
      (s) => (s.hooks = { poststop: [{ path: "/h" }, { path: "/h", timeout: 0 }] }),
      "hooks.poststop[1].timeout",
      /greater than zero/,
    ],
    ["hook args", (s) => (s.hooks = { createRuntime: [{ path: "/h", args: [1] }] }), "hooks.createRuntime[0].args[0]"],
    ["annotations strings", (s) => (s.annotations = { "a.b": 1 }), 'annotations["a.b"]', /string/],
    ["annotation key non-empty", (s) => (s.annotations = { "": "x" }), 'annotations[""]'],
    ["namespace type known", (s) => (s.linux.namespaces[2].type = "ipcs"), "linux.namespaces[2].type", /unknown value/],
    [
      "namespace unique",
      (s) => s.linux.namespaces.push({ type: "pid" }),
      "linux.namespaces[5].type",
      /duplicate namespace "pid" \(also at linux.namespaces\[0\]\)/,
    ],
    ["namespace path absolute", (s) => (s.linux.namespaces[1].path = "netns"), "linux.namespaces[1].path", /absolute/],
    [
      "user namespace needs mappings",
      (s) => s.linux.namespaces.push({ type: "user" }),
      "linux.uidMappings",
      /no namespace path to join nor mappings/,
    ],
    [
      "user namespace needs gid mappings too",
      (s) => {
        s.linux.namespaces.push({ type: "user" });
        s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      },
      "linux.gidMappings",
    ],
    [
      "mappings need a user namespace",
      (s) => (s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]),
      "linux.gidMappings",
      /user namespace isn't enabled/,
    ],
    [
      "mapping hostID not (uid_t)-1",
      (s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 2 ** 32 - 1, size: 1 }]),
      "linux.uidMappings[0].hostID",
    ],
    [
      "mapping containerID not (uid_t)-1",
      (s) => (s.linux.gidMappings = [{ containerID: 2 ** 32 - 1, hostID: 0, size: 1 }]),
      "linux.gidMappings[0].containerID",
    ],
    [
      "mapping range does not wrap",
      (s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 2 ** 32 - 10, size: 10 }]),
      "linux.uidMappings[0].size",
      /hostID 4294967286 \+ size 10 runs past the last id, 4294967294/,
    ],
    [
      "mount mapping range does not wrap",
      (s) =>
        s.mounts.push({
          destination: "/x",
          source: "/x",
          options: ["bind", "idmap"],
          uidMappings: [{ containerID: 2 ** 32 - 2, hostID: 0, size: 2 }],
          gidMappings: [{ containerID: 0, hostID: 0, size: 1 }],
        }),
      "mounts[7].uidMappings[0].size",
      /containerID/,
    ],
    [
      "mapping size > 0",
      (s) => (s.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 0 }]),
      "linux.uidMappings[0].size",
    ],
    [
      "timeOffsets need a time namespace",
      (s) => (s.linux.timeOffsets = { monotonic: { secs: 10 } }),
      "linux.timeOffsets",
      /time namespace/,
    ],
    [
      "timeOffsets clock",
      (s) => {
        s.linux.namespaces.push({ type: "time" });
        s.linux.timeOffsets = { realtime: { secs: 10 } };
      },
      'linux.timeOffsets["realtime"]',
    ],
    ["maskedPaths need a mount namespace", (s) => s.linux.namespaces.splice(4, 1), "linux.maskedPaths", /MNT/],
    ...(
      [
        ["mounts", (s: Json) => (s.mounts = [{ destination: "/proc", type: "proc", source: "proc" }])],
        ["root.readonly", (s: Json) => (s.root.readonly = true)],
        ["linux.rootfsPropagation", (s: Json) => (s.linux.rootfsPropagation = "rslave")],
      ] as const
    ).map(([field, edit]): [string, (s: Json) => void, string, RegExp] => [
      `${field} need a mount namespace (they would change the host's mounts)`,
      (s) => {
        withoutMountNamespace(s);
        edit(s);
      },
      field,
      /without a private MNT namespace it would change the host's mounts/,
    ]),
    ["maskedPaths absolute", (s) => (s.linux.maskedPaths[3] = "proc/keys"), "linux.maskedPaths[3]", /absolute/],
    ["readonlyPaths absolute", (s) => (s.linux.readonlyPaths[0] = ""), "linux.readonlyPaths[0]"],
    [
      "net sysctl needs a network namespace",
      (s) => {
        s.linux.namespaces.splice(1, 1);
        s.linux.sysctl = { "net.ipv4.ip_forward": "1" };
      },
      'linux.sysctl["net.ipv4.ip_forward"]',
      /host network namespace/,
    ],
    [
      "ipc sysctl needs an ipc namespace",
      (s) => {
        s.linux.namespaces.splice(2, 1);
        s.linux.sysctl = { "kernel.shmmax": "1" };
      },
      'linux.sysctl["kernel.shmmax"]',
      /ipc namespace/,
    ],
    [
      "mqueue sysctl needs an ipc namespace",
      (s) => {
        s.linux.namespaces.splice(2, 1);
        s.linux.sysctl = { "fs.mqueue.msg_max": "1" };
      },
      'linux.sysctl["fs.mqueue.msg_max"]',
    ],
    [
      "kernel.hostname conflicts with hostname",
      (s) => (s.linux.sysctl = { "kernel.hostname": "x" }),
      'linux.sysctl["kernel.hostname"]',
      /conflicts/,
    ],
    [
      "kernel.domainname needs uts",
      (s) => {
        delete s.hostname;
        s.linux.namespaces.splice(3, 1);
        s.linux.sysctl = { "kernel.domainname": "x" };
      },
      'linux.sysctl["kernel.domainname"]',
      /not in a separate kernel namespace/,
    ],
    [
      "host-wide sysctl",
      (s) => (s.linux.sysctl = { "vm.swappiness": "10" }),
      'linux.sysctl["vm.swappiness"]',
      /not in a separate kernel namespace/,
    ],
    [
      "sysctl name with a .. component",
      (s) => (s.linux.sysctl = { "net.//.//.x": "1" }),
      'linux.sysctl["net.//.//.x"]',
      /is not a sysctl name/,
    ],
    ["sysctl name with an empty component", (s) => (s.linux.sysctl = { "net..x": "1" }), 'linux.sysctl["net..x"]'],
    [
      "sysctl values strings",
      (s) => (s.linux.sysctl = { "net.core.somaxconn": 1024 }),
      'linux.sysctl["net.core.somaxconn"]',
    ],
    ["device type", (s) => (s.linux.devices = [{ type: "x", path: "/dev/x" }]), "linux.devices[0].type"],
    ["device path absolute", (s) => (s.linux.devices = [{ type: "p", path: "fifo" }]), "linux.devices[0].path"],
    [
      "device major required",
      (s) => (s.linux.devices = [{ type: "c", path: "/dev/fuse", minor: 229 }]),
      "linux.devices[0].major",
    ],
    [
      "device major past the kernel's 12 bits (2^32+1 was cut to major 1, /dev/mem)",
      (s) => (s.linux.devices = [{ type: "c", path: "/dev/x", major: 2 ** 32 + 1, minor: 1 }]),
      "linux.devices[0].major",
    ],
    [
      "device major of 4096",
      (s) => (s.linux.devices = [{ type: "c", path: "/dev/x", major: 4096, minor: 1 }]),
      "linux.devices[0].major",
    ],
    [
      "device major of 2^63 (found by the runc-config fuzzer: the plan encoder threw RangeError)",
      (s) => (s.linux.devices = [{ type: "c", path: "/dev/x", major: 2 ** 63, minor: 1 }]),
      "linux.devices[0].major",
    ],
    [
      "device minor past the kernel's 20 bits",
      (s) => (s.linux.devices = [{ type: "c", path: "/dev/x", major: 1, minor: 0x100000 }]),
      "linux.devices[0].minor",
    ],
    [
      "device rule major past u32 (the v2 filter would compare its low 32 bits: 2^32+1 matched major 1)",
      (s) => (s.linux.resources.devices = [{ allow: true, type: "c", major: 2 ** 32 + 1, minor: 1, access: "rwm" }]),
      "linux.resources.devices[0].major",
    ],
    [
      "device uid range",
      (s) => (s.linux.devices = [{ type: "c", path: "/dev/fuse", major: 10, minor: 229, uid: 2 ** 32 - 1 }]),
      "linux.devices[0].uid",
      /0-2147483647/,
    ],
    [
      "device gid range",
      (s) => (s.linux.devices = [{ type: "c", path: "/dev/fuse", major: 10, minor: 229, gid: 2 ** 31 }]),
      "linux.devices[0].gid",
      /0-2147483647/,
    ],
    [
      "device fileMode integer",
      (s) => (s.linux.devices = [{ type: "c", path: "/dev/fuse", major: 10, minor: 229, fileMode: "0666" }]),
      "linux.devices[0].fileMode",
    ],
    ["rootfsPropagation", (s) => (s.linux.rootfsPropagation = "recursive"), "linux.rootfsPropagation"],
    [
      "resources device allow required",
      (s) => delete s.linux.resources.devices[0].allow,
      "linux.resources.devices[0].allow",
    ],
    [
      "resources device access",
      (s) => (s.linux.resources.devices[0].access = "rwx"),
      "linux.resources.devices[0].access",
    ],
    ["resources device type", (s) => (s.linux.resources.devices[0].type = "p"), "linux.resources.devices[0].type"],
    [
      "memory limit number",
      (s) => (s.linux.resources.memory = { limit: "512m" }),
      "linux.resources.memory.limit",
      /integer/,
    ],
    ["memory limit >= -1", (s) => (s.linux.resources.memory = { limit: -2 }), "linux.resources.memory.limit"],
    ["swappiness <= 100", (s) => (s.linux.resources.memory = { swappiness: 101 }), "linux.resources.memory.swappiness"],
    ["cpu shares", (s) => (s.linux.resources.cpu = { shares: -5 }), "linux.resources.cpu.shares"],
    ["cpu cpus list", (s) => (s.linux.resources.cpu = { cpus: "0-3,a" }), "linux.resources.cpu.cpus"],
    ["pids limit", (s) => (s.linux.resources.pids = { limit: "max" }), "linux.resources.pids.limit"],
    [
      "blockIO throttle rate",
      (s) => (s.linux.resources.blockIO = { throttleReadBpsDevice: [{ major: 8, minor: 0 }] }),
      "linux.resources.blockIO.throttleReadBpsDevice[0].rate",
    ],
    [
      "hugepage size",
      (s) => (s.linux.resources.hugepageLimits = [{ pageSize: "2M", limit: 0 }]),
      "linux.resources.hugepageLimits[0].pageSize",
    ],
    [
      "unified keys",
      (s) => (s.linux.resources.unified = { "../memory.max": "1" }),
      'linux.resources.unified["../memory.max"]',
    ],
    ["seccomp defaultAction required", (s) => (s.linux.seccomp = {}), "linux.seccomp.defaultAction"],
    [
      "seccomp defaultAction known",
      (s) => (s.linux.seccomp = { defaultAction: "SCMP_ACT_DENY" }),
      "linux.seccomp.defaultAction",
      /unknown value/,
    ],
    [
      "seccomp architectures",
      (s) => (s.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", architectures: ["x86_64"] }),
      "linux.seccomp.architectures[0]",
    ],
    [
      "seccomp flags",
      (s) => (s.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_FAST"] }),
      "linux.seccomp.flags[0]",
    ],
    [
      "seccomp names array of strings",
      (s) =>
        (s.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [{ names: "read", action: "SCMP_ACT_ERRNO" }],
        }),
      "linux.seccomp.syscalls[0].names",
    ],
    [
      "seccomp syscall action",
      (s) => (s.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"] }] }),
      "linux.seccomp.syscalls[0].action",
    ],
    [
      "seccomp args objects",
      (s) =>
        (s.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [[0, 1, "SCMP_CMP_EQ"]] }],
        }),
      "linux.seccomp.syscalls[0].args[0]",
      /object/,
    ],
    [
      "seccomp arg op",
      (s) =>
        (s.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 1, op: "EQ" }] }],
        }),
      "linux.seccomp.syscalls[0].args[0].op",
    ],
    [
      "seccomp arg index",
      (s) =>
        (s.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }] }],
        }),
      "linux.seccomp.syscalls[0].args[0].index",
    ],
    [
      "seccomp notify needs listenerPath",
      (s) =>
        (s.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          syscalls: [{ names: ["mount"], action: "SCMP_ACT_NOTIFY" }],
        }),
      "linux.seccomp.listenerPath",
    ],
    ["personality domain", (s) => (s.linux.personality = { domain: "LINUX64" }), "linux.personality.domain"],
    ["intelRdt closID", (s) => (s.linux.intelRdt = { closID: "../x" }), "linux.intelRdt.closID"],
  ];

  for (const [name, mutate, field, message] of cases) {
    if (field === "(document)") {
      test(name, () => {
        for (const bad of [null, [], "spec", 1]) {
          assert.throws(
            () => parseSpec(bad),
            (e: unknown) => e instanceof InvalidSpecError && e.field === "(document)",
          );
        }
      });
      continue;
    }
    test(name, () => rejects(mutate, field, message));
  }
});
