// The spec buildSpec makes for a busybox rootfs runs under berth-runc (dist/berth-runc.mjs, a
// private --root, the bundle in a temp dir), and under runc and crun, which shows that they load
// it (its seccomp profile included); what the container sees from inside agrees with
// the spec: its ids and groups, its effective and bounding capabilities, its mounts (masked and
// read-only paths, /dev/shm's size, the read-only rootfs, a tmpfs with its options, the init
// binary), its rlimits, sysctls and hostname, and the seccomp filter.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { release } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildSpec, specJson } from "../../../src/engine/containers/spec/build.ts";
import { DEFAULT_CAPABILITIES } from "../../../src/engine/containers/spec/capabilities.ts";
import { decodeCreateRequest } from "../../../src/engine/containers/spec/decode.ts";
import type { HostFacts } from "../../../src/engine/containers/spec/resources.ts";
import { goArch } from "../../../src/engine/containers/spec/seccomp.ts";
import { rootfsUserDb } from "../../../src/engine/containers/spec/user-db.ts";
import { CAPABILITIES } from "../../../src/runc/config/capabilities.ts";
import { type Bundle, makeBundle, makeTempDir } from "../../fixtures/busybox.ts";
import { Runtime, uniqueId } from "../../helpers/runtime.ts";

const repo = join(import.meta.dirname, "../../..");
const BERTH_RUNC = process.env.BERTH_RUNC ?? join(repo, "dist/berth-runc.mjs");
const TINI = "/usr/bin/docker-init";
/** berth-runc is the subject; runc and crun show the same spec loads in the reference runtimes. */
const RUNTIMES: [string, string][] = [
  ["berth-runc", BERTH_RUNC],
  ["runc", process.env.BERTH_TEST_RUNC ?? "/usr/sbin/runc"],
  ["crun", "/usr/bin/crun"],
];

/** crun 1.8 refuses a hybrid cgroup host unless the cgroup2 mount is out of its sight (as in shim-swap). */
async function crunWrapper(): Promise<string> {
  const dir = await makeTempDir("berth-spec-crun-");
  const path = join(dir, "crun-hybrid");
  await writeFile(
    path,
    `#!/bin/sh\nexec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec /usr/bin/crun "$@"' crun "$@"\n`,
    { mode: 0o755 },
  );
  return path;
}

const skip =
  process.getuid?.() !== 0 ? "runs containers: root" : !existsSync(BERTH_RUNC) ? `${BERTH_RUNC} not built` : undefined;

function hostFacts(): HostFacts {
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").trim() : "");
  const [major, minor] = release().split(".").map(Number);
  return {
    cpuCount: 1,
    cpusetCpus: v2 ? read("/sys/fs/cgroup/cpuset.cpus.effective") : read("/sys/fs/cgroup/cpuset/cpuset.cpus"),
    cpusetMems: v2 ? read("/sys/fs/cgroup/cpuset.mems.effective") : read("/sys/fs/cgroup/cpuset/cpuset.mems"),
    cgroupVersion: v2 ? 2 : 1,
    lastCap: Number(read("/proc/sys/kernel/cap_last_cap")),
    kernel: [major!, minor!],
    goArch: goArch(),
  };
}

/** The capability mask of a list of names, as /proc/<pid>/status prints it (16 hex digits). */
function mask(caps: readonly string[]): string {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(CAPABILITIES[c]!);
  return m.toString(16).padStart(16, "0");
}

/** What the probe prints, one "key: value" block per section. */
const PROBE = [
  "echo ID $(id)",
  "grep -E '^Cap(Eff|Bnd|Prm):|^NoNewPrivs:|^Seccomp:' /proc/self/status",
  "echo NOFILE $(ulimit -n)",
  "echo PORTSTART $(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)",
  "echo HOSTNAME $(hostname)",
  "echo PWD $(pwd)",
  "echo ENV $(env | grep ^FOO= | cut -d= -f2)",
  "touch /rootfs-write 2>/dev/null && echo ROOTFS rw || echo ROOTFS ro",
  "touch /run/x 2>/dev/null && echo RUN rw || echo RUN ro",
  "echo KEYS $(wc -c < /proc/keys)",
  "echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo PROCSYS rw || echo PROCSYS ro",
  "unshare -n true 2>/dev/null && echo UNSHARE ok || echo UNSHARE refused",
  "cat /proc/self/mountinfo",
].join("; ");

const runtimes: Runtime[] = [];
const bundles: Bundle[] = [];
after(async () => {
  for (const rt of runtimes) await rt.destroy();
  for (const b of bundles) await b.cleanup();
});

async function runWithSpec(bin: string, body: Record<string, unknown>, initBinary?: string) {
  const bundle = await makeBundle();
  bundles.push(bundle);
  const { config, hostConfig } = decodeCreateRequest({ Image: "busybox", ...body });
  const id = uniqueId("spec");
  const built = buildSpec({
    config,
    hostConfig,
    image: { Env: ["FOO=from-image"] },
    hostname: "berth-spec",
    rootfs: "rootfs",
    users: rootfsUserDb(bundle.rootfs),
    host: hostFacts(),
    cgroupsPath: `/${id}`,
    ...(initBinary === undefined ? {} : { initBinary }),
  });
  await writeFile(bundle.configPath, specJson(built.spec, 2));
  const rt = await Runtime.create(bin === "/usr/bin/crun" ? await crunWrapper() : bin, "spec-run");
  runtimes.push(rt);
  const r = await rt.run(id, bundle.dir, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `${bin} run: ${r.stderr}\n${r.stdout}`);
  const lines = r.stdout.split("\n");
  const field = (key: string) =>
    lines.find((l) => l.startsWith(`${key} `) || l.startsWith(`${key}:`))?.replace(/^[^ :]+:?\s*/, "");
  const mounts = lines.filter((l) => /^\d+ \d+ /.test(l)).map((l) => l.split(" "));
  const mountAt = (target: string) => mounts.filter((m) => m[4] === target).at(-1);
  return { spec: built.spec, field, mountAt, stdout: r.stdout };
}

for (const [runtime, bin] of RUNTIMES) {
  const runtimeSkip = skip ?? (existsSync(bin) ? undefined : `${bin} not installed`);

  test(`${runtime}: root with docker's defaults and a few flags: what the container sees agrees with the spec`, {
    skip: runtimeSkip,
    timeout: 120_000,
  }, async () => {
    const { spec, field, mountAt, stdout } = await runWithSpec(bin, {
      Cmd: ["sh", "-c", PROBE],
      WorkingDir: "/tmp",
      HostConfig: {
        CapAdd: ["NET_ADMIN"],
        CapDrop: ["CHOWN"],
        ReadonlyRootfs: true,
        Tmpfs: { "/run": "size=1m,noexec" },
        ShmSize: 8_388_608,
        Ulimits: [{ Name: "nofile", Soft: 100, Hard: 200 }],
        Sysctls: { "net.ipv4.ip_forward": "1" },
      },
    });
    const caps = [...DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_CHOWN"), "CAP_NET_ADMIN"];
    assert.deepEqual(spec.process!.capabilities!.bounding, caps);
    assert.match(field("ID")!, /^uid=0\(root\) gid=0\(root\)/);
    assert.equal(field("CapEff"), mask(caps), stdout);
    assert.equal(field("CapBnd"), mask(caps));
    assert.equal(field("Seccomp"), "2", "a seccomp filter is loaded");
    assert.equal(field("NoNewPrivs"), "0");
    assert.equal(field("NOFILE"), "100");
    assert.equal(field("PORTSTART"), "0", "dockerd's default sysctl");
    assert.equal(field("HOSTNAME"), "berth-spec");
    assert.equal(field("PWD"), "/tmp");
    assert.equal(field("ENV"), "from-image", stdout);
    assert.equal(field("ROOTFS"), "ro");
    assert.equal(field("RUN"), "rw");
    assert.equal(field("KEYS"), "0", "/proc/keys masked: it reads as /dev/null");
    assert.equal(field("PROCSYS"), "ro");
    assert.equal(field("UNSHARE"), "refused", "no namespaces without CAP_SYS_ADMIN (caps and seccomp)");
    // mountinfo: fields 4 root, 5 target, 6 options, then "- type source super-options".
    const root = mountAt("/")!;
    assert.match(root[5]!, /(^|,)ro(,|$)/, "read-only rootfs");
    const shm = mountAt("/dev/shm")!;
    assert.ok(shm.includes("tmpfs"));
    assert.match(shm.at(-1)!, /size=8192k/, shm.join(" "));
    assert.match(mountAt("/dev/shm")![5]!, /nosuid,nodev,noexec/);
    const run = mountAt("/run")!;
    assert.match(run[5]!, /nosuid,nodev,noexec/);
    assert.match(run.at(-1)!, /size=1024k/);
    assert.match(mountAt("/sys")![5]!, /^ro,/);
    assert.match(mountAt("/proc/sys")![5]!, /^ro,/);
    assert.match(mountAt("/dev/pts")!.at(-1)!, /gid=5,mode=620,ptmxmode=666/);
    assert.ok(mountAt("/proc/keys"), "/proc/keys masked");
    assert.ok(mountAt("/sys/firmware"), "/sys/firmware masked");
  });

  test(`${runtime}: a user from the image with GroupAdd, no-new-privileges and the init: ids, caps and the init process`, {
    skip: runtimeSkip,
    timeout: 120_000,
  }, async (t) => {
    if (!existsSync(TINI)) {
      t.skip(`${TINI} not installed`);
      return;
    }
    const { spec, field, mountAt, stdout } = await runWithSpec(
      bin,
      {
        User: "user",
        Cmd: ["sh", "-c", `${PROBE}; echo PID1 $(cat /proc/1/cmdline | tr '\\0' ' ')`],
        HostConfig: { GroupAdd: ["daemon"], Init: true, SecurityOpt: ["no-new-privileges"] },
      },
      TINI,
    );
    // The fixture's user 1000 is in wheel (10) and users (100); GroupAdd adds daemon (1).
    assert.deepEqual(spec.process!.user, { uid: 1000, gid: 1000, additionalGids: [1000, 10, 100, 1] });
    assert.match(field("ID")!, /^uid=1000\(user\) gid=1000\(user\) groups=/);
    const groups = field("ID")!
      .replace(/.*groups=/, "")
      .split(",")
      .map((g) => g.replace(/\(.*/, ""))
      .sort();
    assert.deepEqual(groups, ["1", "10", "100", "1000"]);
    assert.equal(field("CapEff"), "0000000000000000", "a user that is not root has no effective capabilities");
    assert.equal(field("CapBnd"), mask(DEFAULT_CAPABILITIES));
    assert.equal(field("NoNewPrivs"), "1");
    assert.ok(field("PID1")!.startsWith("/sbin/docker-init -- sh -c "), stdout);
    assert.match(mountAt("/sbin/docker-init")![5]!, /^ro,/);
  });
}
