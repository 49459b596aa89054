// buildSpec against the reference: Debian's dockerd 20.10 creates containers with representative
// flags, a runtime wrapper copies the config.json dockerd's containerd hands to runc, and buildSpec
// gets the same request (the Config and HostConfig dockerd stored, the image's config, the same
// rootfs, cgroups path and daemon-written files) and must give the same spec field by field.
// What legitimately differs is normalised below, each with its reason. The second half sends bad
// create bodies to dockerd and compares its messages with berthd's.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, readdir, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { release } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { errorMessage } from "../../src/common/errors.ts";
import { buildSpec, type HostDevice, type SpecInput } from "../../src/engine/containers/spec/build.ts";
import { decodeCreateRequest } from "../../src/engine/containers/spec/decode.ts";
import type { HostFacts } from "../../src/engine/containers/spec/resources.ts";
import { goArch } from "../../src/engine/containers/spec/seccomp.ts";
import { REFUSED, REFUSED_AT_START } from "../../src/engine/containers/spec/spec-cases.testing.ts";
import { rootfsUserDb } from "../../src/engine/containers/spec/user-db.ts";
import { parseJsonExact } from "../../src/runc/config/json.ts";
import type { Mount, Spec } from "../../src/runc/config/types.ts";
import { makeTempDir } from "../fixtures/busybox.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { DOCKER_CLI, type Dockerd, startDockerd } from "../helpers/peers.ts";

const RUNC = "/usr/sbin/runc";
const IMAGE = "docker.io/library/busybox:latest";
const INIT = "/usr/bin/docker-init";

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return "the oracle runs Debian's dockerd, as root";
  for (const b of ["/usr/sbin/dockerd", RUNC, DOCKER_CLI, INIT]) if (!existsSync(b)) return `${b} not found`;
  return undefined;
}

/** The host as dockerd sees it. */
function hostFacts(): HostFacts {
  const v2 = existsSync("/sys/fs/cgroup/cgroup.controllers");
  const read = (p: string) => (existsSync(p) ? readFileSync(p, "utf8").trim() : "");
  const cpus = v2 ? read("/sys/fs/cgroup/cpuset.cpus.effective") : read("/sys/fs/cgroup/cpuset/cpuset.cpus");
  const mems = v2 ? read("/sys/fs/cgroup/cpuset.mems.effective") : read("/sys/fs/cgroup/cpuset/cpuset.mems");
  const [major, minor] = release().split(".").map(Number);
  return {
    cpuCount: Number(execFileSync("nproc").toString().trim()),
    cpusetCpus: cpus,
    cpusetMems: mems,
    cgroupVersion: v2 ? 2 : 1,
    lastCap: Number(read("/proc/sys/kernel/cap_last_cap")),
    kernel: [major!, minor!],
    goArch: goArch(),
  };
}

/** The cases: docker run flags (the command is always `sleep 1000`). */
const CASES: Record<string, string[]> = {
  plain: [],
  flags: [
    ...["--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN", "--read-only", "--memory", "64m"],
    ...["--memory-reservation", "32m", "--cpus", "1.5", "--ulimit", "nofile=100:200", "--tmpfs", "/run:size=1m,noexec"],
    ...["--user", "1000:100", "--init", "--shm-size", "8m", "--sysctl", "net.ipv4.ip_forward=1", "--pids-limit", "50"],
    ...["--cpu-shares", "512", "--cpuset-cpus", "0", "--group-add", "10", "--security-opt", "no-new-privileges"],
    ...["--oom-score-adj", "100", "-w", "/tmp", "-e", "FOO=bar", "--hostname", "hh", "--domainname", "example.org"],
  ],
  bind: ["-v", "BINDSRC:/data:ro", "-v", "BINDSRC:/rw", "--mount", "type=bind,src=BINDSRC,dst=/m/n,readonly"],
  privileged: ["--privileged"],
  hostns: ["--network", "none", "--ipc", "host", "--pid", "host", "--uts", "host"],
  username: ["--user", "user", "--entrypoint", "sleep"], // command: 1000 (below)
  capall: ["--cap-add", "ALL", "--cap-drop", "MKNOD"],
  sysadmin: ["--cap-add", "SYS_ADMIN"],
  capmix: ["--cap-drop", "ALL", "--cap-add", "chown", "--cap-add", "CAP_KILL"],
  mounts: [
    ...[
      "--mount",
      "type=tmpfs,dst=/t,tmpfs-size=1048576,tmpfs-mode=1770",
      "--tmpfs",
      "/u",
      "--tmpfs",
      "/v:exec,size=2g",
    ],
    ...["--mount", "type=bind,src=/tmp,dst=/w,readonly", "--mount", "type=bind,src=/tmp,dst=/x/y,bind-nonrecursive"],
  ],
  nethost: ["--network", "host", "--ipc", "none"],
  utshost: ["--uts", "host", "--ipc", "shareable", "-t"],
  envs: ["-e", "A=1", "-e", "PATH=/bin:/x", "-e", "B", "--entrypoint", ""],
  limits: [
    ...["--memory", "64m", "--memory-swap", "-1", "--memory-swappiness", "10", "--oom-kill-disable"],
    ...["--cpu-period", "50000", "--cpu-quota", "20000", "--cpuset-mems", "0", "--pids-limit", "-1", "--read-only"],
    ...["--security-opt", "no-new-privileges=false", "--security-opt", "seccomp=unconfined"],
  ],
  sysctls: [
    ...["--sysctl", "kernel.shmmax=100000", "--sysctl", "net.ipv4.ping_group_range=1 2"],
    ...["--ulimit", "nproc=10:20", "--ulimit", "core=-1", "--memory", "10m", "--memory-swap", "20m"],
  ],
  swapdefault: ["--memory", "20m", "--device", "/dev/null:/dev/mynull:rw"],
  groups: ["--user", "user:users", "--group-add", "wheel", "--group-add", "4242"],
  cgroupns: ["--cgroupns", "private"],
  shmtmpfs: ["--mount", "type=tmpfs,dst=/dev/shm,tmpfs-size=4096", "--read-only", "--tmpfs", "/tmp"],
  seccompfile: ["--security-opt", "seccomp=PROFILE", "--cap-add", "SYS_PTRACE"],
  // target stays up for joined, which takes its network, IPC and PID namespaces.
  target: ["--ipc", "shareable"],
  joined: [
    "--network",
    "container:oracle-target",
    "--ipc",
    "container:oracle-target",
    "--pid",
    "container:oracle-target",
  ],
};

/** A docker-format profile a user might send: archMap, conditions by capability, kernel and arch. */
const USER_PROFILE = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 1,
  archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] }],
  syscalls: [
    { names: ["read", "write", "exit_group", "nanosleep", "clock_nanosleep"], action: "SCMP_ACT_ALLOW" },
    { names: ["ptrace"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_PTRACE"] } },
    { names: ["mount"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
    { names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 13, excludes: { caps: ["CAP_KILL"] } },
    { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64"] } },
    { names: ["set_tls"], action: "SCMP_ACT_ALLOW", includes: { arches: ["arm64"] } },
    { names: ["statx"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "4.11" } },
    { names: ["futex_waitv"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "99.0" } },
    { name: "getpid", action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0, valueTwo: 0, op: "SCMP_CMP_EQ" }] },
  ],
};

/** Containers the cases below leave running for a later case. */
const KEEP = new Set(["target"]);

type Json = Record<string, unknown>;

/** dockerd writes zero values that mean "not set": oomScoreAdj 0, shares 0, weight 0, hooks {}. */
function dropZeros(spec: Json): Json {
  const s = structuredClone(spec) as Spec & Json;
  if (s.process?.oomScoreAdj === 0) delete s.process.oomScoreAdj;
  if (s.hooks !== undefined && Object.keys(s.hooks).length === 0) delete s.hooks;
  const r = s.linux?.resources as Json | undefined;
  if (r !== undefined) {
    const mem = r.memory as Json | undefined;
    if (mem?.disableOOMKiller === false) delete mem.disableOOMKiller;
    if (mem !== undefined && Object.keys(mem).length === 0) delete r.memory;
    const cpu = r.cpu as Json | undefined;
    if (cpu?.shares === 0) delete cpu.shares;
    if (cpu !== undefined && Object.keys(cpu).length === 0) delete r.cpu;
    const blkio = r.blockIO as Json | undefined;
    if (blkio?.weight === 0) delete blkio.weight;
    if (blkio !== undefined && Object.keys(blkio).length === 0) delete r.blockIO;
  }
  if (s.linux?.sysctl !== undefined && Object.keys(s.linux.sysctl).length === 0) delete s.linux.sysctl;
  return s;
}

/**
 * What legitimately differs between dockerd 20.10's spec and berthd's, made equal:
 * - "ALL" capabilities: dockerd 20.10 knows capabilities up to CAP_AUDIT_READ (37); berthd gives
 *   every one the running kernel has (CAP_PERFMON, CAP_BPF, CAP_CHECKPOINT_RESTORE too), as
 *   docker 23+ does. The extra ones are checked to be exactly those, then dropped.
 * - seccomp defaultErrnoRet: dockerd 20.10 leaves it out, berthd says 1 (EPERM): the same errno.
 * - network "host": dockerd joins its own handle on the host's namespace
 *   (<exec-root>/netns/default); berthd stays in the host's, which is that namespace.
 * - process.apparmorProfile: dockerd names its "docker-default" profile (or "unconfined") where
 *   AppArmor is enabled; berth applies no AppArmor profile (security-opt.ts says so in a warning).
 * - hooks: dockerd's networking (libnetwork-setkey) is not part of the spec berthd builds; the
 *   network issue adds berthd's own.
 * - the order of mounts at the same depth: dockerd keeps them in Go maps, so its order among
 *   them changes from run to run; both lists are compared sorted by (depth, target), after
 *   checking the default mounts lead in the same order.
 */
function normalise(theirs: Json, ours: Json): [Json, Json] {
  const t = dropZeros(theirs) as Spec & Json;
  const o = dropZeros(ours) as Spec & Json;
  const newer = ["CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"];
  for (const set of ["bounding", "effective", "permitted"] as const) {
    const mine = o.process?.capabilities?.[set];
    const ref = t.process?.capabilities?.[set];
    if (mine === undefined || ref === undefined) continue;
    const extra = mine.filter((c) => !ref.includes(c));
    assert.ok(
      extra.every((c) => newer.includes(c)),
      `capabilities dockerd 20.10 does not give: ${extra.join(", ")}`,
    );
    o.process!.capabilities![set] = mine.filter((c) => ref.includes(c));
  }
  if (o.linux?.seccomp?.defaultErrnoRet === 1 && t.linux?.seccomp?.defaultErrnoRet === undefined) {
    delete o.linux.seccomp.defaultErrnoRet;
  }
  if (t.process !== undefined) delete t.process.apparmorProfile;
  const prestart = t.hooks?.prestart?.filter((h) => h.args?.[0] !== "libnetwork-setkey");
  if (t.hooks !== undefined) {
    if (prestart === undefined || prestart.length === 0) delete t.hooks;
    else t.hooks.prestart = prestart;
  }
  const defaults = ["/proc", "/dev", "/dev/pts", "/sys", "/sys/fs/cgroup", "/dev/mqueue", "/dev/shm"];
  const lead = (m: Mount[] | undefined) => (m ?? []).map((x) => x.destination).filter((d) => defaults.includes(d));
  assert.deepEqual(lead(o.mounts), lead(t.mounts), "the default mounts, in order");
  const depth = (m: Mount) => m.destination.split("/").length;
  const byDepth = (a: Mount, b: Mount) => depth(a) - depth(b) || a.destination.localeCompare(b.destination);
  t.mounts = [...(t.mounts ?? [])].sort(byDepth);
  o.mounts = [...(o.mounts ?? [])].sort(byDepth);
  const ns = t.linux?.namespaces;
  if (ns !== undefined) {
    t.linux!.namespaces = ns.filter((n) => !(n.type === "network" && n.path?.endsWith("/netns/default")));
  }
  return [t, o];
}

/** A process.user with its additionalGids after the first sorted. */
function sortedGids(user: unknown): unknown {
  const u = user as { additionalGids?: number[] } | undefined;
  if (!u?.additionalGids) return u;
  const [first, ...rest] = u.additionalGids;
  return { ...u, additionalGids: [first, ...rest.sort((a, b) => a - b)] };
}

/** Field-by-field comparison, so a difference names its field. */
function compareFields(name: string, theirs: Json, ours: Json): void {
  const [t, o] = normalise(theirs, ours);
  const keys = new Set([...Object.keys(t), ...Object.keys(o)]);
  for (const k of keys) {
    if (k === "linux" || k === "process") {
      const tk = (t[k] ?? {}) as Json;
      const ok = (o[k] ?? {}) as Json;
      for (const f of new Set([...Object.keys(tk), ...Object.keys(ok)])) {
        if (k === "process" && f === "user") {
          // dockerd gathers added groups in a Go map: their order after the first varies by run.
          assert.deepEqual(sortedGids(ok[f]), sortedGids(tk[f]), `${name}: ${k}.${f}`);
          continue;
        }
        assert.deepEqual(ok[f], tk[f], `${name}: ${k}.${f}`);
      }
    } else {
      assert.deepEqual(o[k], t[k], `${name}: ${k}`);
    }
  }
}

const DAEMON_FILES = new Set(["/etc/resolv.conf", "/etc/hostname", "/etc/hosts"]);

describe("buildSpec against Debian's dockerd 20.10", { skip: skipReason() }, () => {
  let dk: Dockerd | undefined;
  let work = "";
  let captured = "";
  let bindSrc = "";
  let profile = "";
  const host = skipReason() === undefined ? hostFacts() : undefined;

  before(async () => {
    work = await makeTempDir("berth-spec-oracle-");
    captured = join(work, "captured");
    bindSrc = join(work, "bind-src");
    execFileSync("mkdir", ["-p", captured, bindSrc]);
    profile = join(work, "seccomp.json");
    await writeFile(profile, JSON.stringify(USER_PROFILE));
    // The runtime dockerd runs: copy the bundle's config.json, then be runc.
    const wrapper = join(work, "capture-runtime");
    await writeFile(
      wrapper,
      [
        "#!/bin/sh",
        'prev=""',
        'for a in "$@"; do',
        `  if [ "$prev" = "--bundle" ] || [ "$prev" = "-b" ]; then cp "$a/config.json" "${captured}/$(basename "$a").json"; fi`,
        '  prev="$a"',
        "done",
        `exec ${RUNC} "$@"`,
        "",
      ].join("\n"),
    );
    await chmod(wrapper, 0o755);
    dk = await startDockerd(wrapper);
    const archive = join(work, "busybox.tar");
    await writeImageArchive(archive, { name: IMAGE, cmd: ["sh"], env: ["B=2", "C=3", "HOME=/img"] });
    const r = await dk.docker(["load", "-i", archive], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, `docker load: ${r.stderr}`);
  });

  after(async () => {
    await dk?.stop();
  });

  const inspect = async (what: string[]): Promise<Json> => {
    const r = await dk!.docker(["inspect", ...what], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as Json[])[0]!;
  };

  for (const [name, rawFlags] of Object.entries(CASES)) {
    test(`${name}: the same spec as dockerd's`, { timeout: 120_000 }, async () => {
      const flags = rawFlags.map((f) =>
        f.replaceAll("BINDSRC", bindSrc).replace(/^seccomp=PROFILE$/, `seccomp=${profile}`),
      );
      const cname = `oracle-${name}`;
      // Some cases cannot start here (all capabilities need CAP_SYS_RESOURCE this sandbox lacks):
      // the spec is captured before runc fails.
      const command = name === "username" ? ["1000"] : ["sleep", "1000"];
      await dk!.docker(["run", "-d", "--runtime", dk!.runtimeName, "--name", cname, ...flags, IMAGE, ...command], {
        timeoutMs: 60_000,
      });
      const container = await inspect([cname]);
      const id = container.Id as string;
      const file = join(captured, `${id}.json`);
      assert.ok(
        existsSync(file),
        `dockerd's runtime got no bundle for ${name}: ${(await readdir(captured)).join(", ")}`,
      );
      const theirs = parseJsonExact(readFileSync(file, "utf8")) as Spec & Json;
      const image = await inspect(["--type", "image", IMAGE]);

      // The request as dockerd stored it, decoded the way berthd decodes a create body.
      const { config, hostConfig } = decodeCreateRequest({
        ...(container.Config as Json),
        HostConfig: container.HostConfig,
      });
      const theirMounts = theirs.mounts ?? [];
      const byTarget = (t: string) => theirMounts.find((m) => m.destination === t);
      const devices = hostConfig.Devices.map((d) => {
        const node = theirs.linux!.devices!.find((n) => n.path === d.PathInContainer)!;
        return { device: node as HostDevice, permissions: d.CgroupPermissions };
      });
      const input: SpecInput = {
        config,
        hostConfig,
        image: (image.Config ?? {}) as SpecInput["image"],
        hostname: config.Hostname,
        rootfs: theirs.root!.path,
        users: rootfsUserDb(theirs.root!.path),
        host: host!,
        cgroupsPath: theirs.linux!.cgroupsPath!,
        initBinary: INIT,
        devices,
        hostDevices: hostConfig.Privileged ? (theirs.linux!.devices as HostDevice[]) : [],
        extraMounts: theirMounts.filter((m: Mount) => DAEMON_FILES.has(m.destination)),
        daemonRoot: join(dk!.dir, "data"),
      };
      if (hostConfig.IpcMode === "shareable" || hostConfig.IpcMode.startsWith("container:")) {
        input.shmPath = byTarget("/dev/shm")!.source!;
      }
      // The namespace files of a joined container are the caller's to find: take dockerd's.
      const nsPath = (type: string) => theirs.linux!.namespaces!.find((x) => x.type === type)?.path;
      input.joins = {};
      for (const [type, mode] of [
        ["network", hostConfig.NetworkMode],
        ["ipc", hostConfig.IpcMode],
        ["pid", hostConfig.PidMode],
      ] as const) {
        const path = nsPath(type);
        if (mode.startsWith("container:") && path !== undefined) input.joins[type] = path;
      }
      const ours = buildSpec(input).spec as Spec & Json;
      compareFields(name, theirs, ours);
      if (!KEEP.has(name)) await dk!.docker(["rm", "-f", cname], { timeoutMs: 30_000 });
    });
  }

  function post(path: string, body: string): Promise<[number, string]> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          socketPath: join(dk!.dir, "docker.sock"),
          path,
          method: "POST",
          headers: { "content-type": "application/json" },
        },
        (res) => {
          let text = "";
          res.on("data", (c) => {
            text += c;
          });
          res.on("end", () => resolve([res.statusCode!, text]));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  const ours = (body: Json): string => {
    try {
      const { config, hostConfig } = decodeCreateRequest(body);
      buildSpec({
        config,
        hostConfig,
        image: { Cmd: ["sh"] },
        hostname: "h",
        rootfs: "/",
        users: rootfsUserDb("/nonexistent"),
        host: host!,
      });
      return "";
    } catch (err) {
      return errorMessage(err);
    }
  };

  test("bad create bodies: dockerd's words", { timeout: 300_000 }, async () => {
    const typeErrors: Json[] = [
      { HostConfig: { Memory: "1" } },
      { Cmd: 5 },
      { Env: [1] },
      { HostConfig: [] },
      { Entrypoint: [""], Cmd: null },
      { Tty: "yes" },
      { Labels: { a: 1 } },
      { StopTimeout: "10" },
      { HostConfig: { Memory: 1.5 } },
      { HostConfig: { Binds: "/a:/b" } },
      { HostConfig: { Privileged: 1 } },
      { HostConfig: { RestartPolicy: { Name: 1 } } },
      { HostConfig: { RestartPolicy: "always" } },
      { HostConfig: { Ulimits: [{ Name: 1 }] } },
      { HostConfig: { Ulimits: [5] } },
      { HostConfig: { Mounts: [{ Type: 1 }] } },
      { HostConfig: { Mounts: [{ Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: "1" } }] } },
      { HostConfig: { Sysctls: { a: 1 } } },
      { HostConfig: { Sysctls: [] } },
      { HostConfig: { Devices: [{ PathOnHost: 1 }] } },
      { HostConfig: { PidsLimit: "5" } },
      { HostConfig: { OomScoreAdj: 2 ** 40 } },
    ];
    let n = 0;
    const mismatches: string[] = [];
    for (const body of [...REFUSED.map(([, b]) => b), ...typeErrors]) {
      const full = { Image: "busybox", Cmd: ["true"], ...body };
      const [code, text] = await post(`/v1.41/containers/create?name=bad-${n++}`, JSON.stringify(full));
      assert.ok(code === 400 || code === 500, `dockerd accepted ${JSON.stringify(body)}: ${code} ${text}`);
      const theirs = (JSON.parse(text) as { message: string }).message;
      mismatches.push(
        ...(ours(full) === theirs ? [] : [`${JSON.stringify(body)}\n  dockerd: ${theirs}\n  berthd:  ${ours(full)}`]),
      );
    }
    assert.deepEqual(mismatches, []);
  });

  test("bodies dockerd 20.10 refuses only at start: berthd refuses them at create in the same words", {
    timeout: 300_000,
  }, async () => {
    let n = 0;
    for (const [, body, message] of REFUSED_AT_START) {
      const name = `late-${n++}`;
      const full = { Image: "busybox", Cmd: ["true"], ...body };
      const [code] = await post(`/v1.41/containers/create?name=${name}`, JSON.stringify(full));
      assert.equal(code, 201, JSON.stringify(body));
      const start = await dk!.docker(["start", name], { timeoutMs: 60_000 });
      assert.notEqual(start.code, 0);
      assert.ok(start.stderr.includes(message), `dockerd: ${start.stderr}\nberthd's words: ${message}`);
      assert.ok(ours(full).startsWith(message), `${ours(full)} / ${message}`);
    }
  });
});
