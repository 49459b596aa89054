// The oracle for berth's run/create flags: the real docker CLI runs `create`/`run -d` against a
// recording daemon (test/helpers/recording-daemon.ts) and berth's createBodyFromFlags must give
// the body docker sent, for a table of command lines; and for bad input both refuse with exit 125
// (docker's words, berth's name) before a create is sent. With docker CLI 28 the bodies must be
// equal (Binds compared as a set: docker collects them in a Go map); Debian's 20.10 sends an older
// shape, compared after the differences its version explains.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { UsageError } from "../../../src/cli/errors.ts";
import { parseFlags } from "../../../src/cli/flags/parse.ts";
import { type CreateContext, createBodyFromFlags } from "../../../src/cli/run/create-body.ts";
import { CREATE_FLAGS, RUN_FLAGS } from "../../../src/cli/run/flags.ts";
import { DOCKER_CLI, DOCKER_CLI_28 } from "../../helpers/berthd.ts";
import { type RecordingDaemon, recordingDaemon } from "../../helpers/recording-daemon.ts";

const skip = existsSync(DOCKER_CLI) ? undefined : `no docker CLI at ${DOCKER_CLI}`;
const is28 = DOCKER_CLI === DOCKER_CLI_28;

let dir = "";
let daemon: RecordingDaemon;
const env: Record<string, string> = { FROM_HOST: "host value", EMPTY_ONE: "" };

before(async () => {
  if (skip !== undefined) return;
  dir = await mkdtemp(join(tmpdir(), "berth-run-flags-"));
  mkdirSync(join(dir, "config"));
  writeFileSync(join(dir, "env.list"), "\ufeffA=1\n  # a comment\n\nFROM_HOST\nNOT_SET\nC=with space \nB= x\r\n");
  writeFileSync(join(dir, "labels.list"), "l1=x\nbare\nl3=\n");
  writeFileSync(join(dir, "seccomp.json"), '{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": []\n}\n');
  daemon = await recordingDaemon("1.41");
});

after(async () => {
  if (skip !== undefined) return;
  await daemon.close();
  await rm(dir, { recursive: true, force: true });
});

const defaultDaemon = () => daemon;

interface DockerRun {
  code: number;
  stderr: string;
  create?: { query: Record<string, string>; body: Record<string, unknown> };
}

function docker(args: string[], daemon = defaultDaemon()): Promise<DockerRun> {
  daemon.requests.length = 0;
  return new Promise((resolve) => {
    execFile(
      DOCKER_CLI,
      args,
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          DOCKER_HOST: daemon.host,
          DOCKER_CONFIG: join(dir, "config"),
          ...env,
        },
        timeout: 30_000,
      },
      (err, _stdout, stderr) => {
        const req = daemon.requests.find((r) => r.method === "POST" && r.path === "/containers/create");
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({
          code,
          stderr,
          ...(req !== undefined ? { create: { query: req.query, body: req.body as Record<string, unknown> } } : {}),
        });
      },
    );
  });
}

function berth(command: "run" | "create", args: string[], host?: string) {
  const parsed = parseFlags(args, command === "run" ? RUN_FLAGS : CREATE_FLAGS, { interspersed: false, command });
  const ctx: CreateContext = {
    command,
    env,
    cwd: dir,
    readFile: (p) => readFileSync(resolve(dir, p), "utf8"),
    ...(host !== undefined ? { host } : {}),
  };
  return createBodyFromFlags(parsed, ctx);
}

/**
 * What may differ without meaning anything: the order of Binds and Env (docker passes both through
 * a Go map, so its order changes from run to run; berth keeps the command line's), and with 20.10
 * its older shape.
 */
function normalize(body: Record<string, unknown>): Record<string, unknown> {
  const b = structuredClone(body) as Record<string, unknown> & { HostConfig: Record<string, unknown> };
  const hc = b.HostConfig;
  if (Array.isArray(hc.Binds)) hc.Binds.sort();
  if (Array.isArray(b.Env)) b.Env.sort();
  if (!is28) {
    delete hc.KernelMemory;
    delete hc.KernelMemoryTCP;
    for (const k of [
      "BlkioDeviceReadBps",
      "BlkioDeviceWriteBps",
      "BlkioDeviceReadIOps",
      "BlkioDeviceWriteIOps",
      "Ulimits",
    ]) {
      hc[k] ??= [];
    }
    b.NetworkingConfig = { EndpointsConfig: {} };
    // 20.10 sent capabilities as given and ./paths unresolved; 28 normalizes both, as berth does.
    for (const k of ["CapAdd", "CapDrop"]) {
      const caps = hc[k];
      if (Array.isArray(caps)) {
        const upper = caps.map((c: string) => c.toUpperCase());
        hc[k] = [...new Set(upper.map((c) => (c.startsWith("CAP_") ? c : `CAP_${c}`)))].sort();
      }
    }
    if (Array.isArray(hc.Binds))
      hc.Binds = hc.Binds.map((v: string) => (v.startsWith("./") ? resolve(dir, v) : v)).sort();
  }
  return b;
}

const CASES: { name: string; command: "run" | "create"; args: string[]; only28?: true }[] = [
  { name: "nothing but the image", command: "create", args: ["busybox"] },
  { name: "a command and its own flags", command: "create", args: ["busybox", "ls", "-l", "--all"] },
  {
    name: "tty, stdin, name, env, labels, workdir, user, entrypoint",
    command: "create",
    args: [
      ...[
        "-it",
        "--name",
        "web",
        "-e",
        "X=1",
        "-e",
        "FROM_HOST",
        "-e",
        "NOPE",
        "-e",
        "EMPTY_ONE",
        "--env-file",
        "env.list",
      ],
      ...["-l", "a=b", "-l", "c", "--label-file", "labels.list", "-l", "l1=y", "-w", "/w", "-u", "1000:1000"],
      ...["--entrypoint", "/bin/sh", "busybox", "-c", "echo hi"],
    ],
  },
  { name: "an empty entrypoint", command: "create", args: ["--entrypoint", "", "busybox"] },
  {
    name: "volumes, mounts, tmpfs",
    command: "create",
    args: [
      ...["-v", "/tmp:/data:ro", "-v", "named:/n", "-v", "/anon", "-v", "./rel:/r", "-v", "/srv:/srv:ro,z"],
      ...[
        "--mount",
        "type=bind,src=/tmp,dst=/m2,readonly",
        "--mount",
        "type=volume,source=v2,target=/v2,volume-nocopy",
      ],
      ...[
        "--mount",
        "type=tmpfs,dst=/tt,tmpfs-size=1m,tmpfs-mode=1770",
        "--tmpfs",
        "/run:size=64m",
        "--tmpfs",
        "/t2",
        "busybox",
      ],
    ],
  },
  {
    name: "ports",
    command: "create",
    args: [
      ...[
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1:53:53/udp",
        "-p",
        "9000-9001:9000-9001",
        "-p",
        "7000",
        "-p",
        "127.0.0.1::81",
      ],
      ...[
        "-p",
        "[::1]:82:82",
        "-p",
        "8000-8010:83",
        "-p",
        "84:84/SCTP",
        "-P",
        "--expose",
        "5000",
        "--expose",
        "6000-6001/udp",
        "busybox",
      ],
    ],
  },
  {
    name: "resources",
    command: "create",
    args: [
      ...["--memory", "64m", "--memory-swap", "128m", "--memory-reservation", "32m", "--cpus", "1.5", "-c", "512"],
      ...[
        "--cpu-quota",
        "50000",
        "--cpu-period",
        "100000",
        "--cpuset-cpus",
        "0-1",
        "--cpuset-mems",
        "0",
        "--pids-limit",
        "100",
      ],
      ...["--ulimit", "nproc=10", "--ulimit", "nofile=1024:2048", "--shm-size", "128m", "busybox"],
    ],
  },
  {
    name: "unlimited swap, fractional sizes",
    command: "create",
    args: ["-m", "1.5g", "--memory-swap", "-1", "--cpus", "3/2", "busybox"],
  },
  {
    name: "security",
    command: "create",
    args: [
      ...[
        "--cap-add",
        "net_admin",
        "--cap-add",
        "CAP_SYS_TIME",
        "--cap-add",
        "net_admin",
        "--cap-drop",
        "mknod",
        "--privileged",
      ],
      ...[
        "--read-only",
        "--security-opt",
        "no-new-privileges",
        "--security-opt",
        "label=disable",
        "--security-opt",
        "seccomp=seccomp.json",
      ],
      ...[
        "--group-add",
        "10",
        "--device",
        "/dev/null:/dev/xnull:rw",
        "--device",
        "/dev/zero",
        "--device",
        "/dev/full:r",
        "busybox",
      ],
    ],
  },
  {
    name: "restart, init, health, stop, logs, runtime, hostname, dns, hosts, sysctl",
    command: "create",
    args: [
      ...[
        "--restart",
        "on-failure:3",
        "--init",
        "--health-cmd",
        "true",
        "--health-interval",
        "5s",
        "--health-timeout",
        "2s",
      ],
      ...["--health-retries", "3", "--health-start-period", "1m30s", "--stop-signal", "SIGINT", "--stop-timeout", "7"],
      ...["--log-driver", "json-file", "--log-opt", "max-size=1m", "--log-opt", "max-file=2", "--runtime", "runc"],
      ...[
        "-h",
        "h1",
        "--domainname",
        "example.org",
        "--add-host",
        "a.b:1.2.3.4",
        "--add-host",
        "c:10.0.0.1",
        "--dns",
        "8.8.8.8",
      ],
      ...["--dns-search", "example.org", "--dns-option", "ndots:1", "--sysctl", "net.core.somaxconn=1024", "busybox"],
    ],
  },
  {
    name: "no healthcheck, restart always, --init=false",
    command: "create",
    args: ["--no-healthcheck", "--restart", "always", "--init=false", "busybox"],
  },
  {
    name: "a network, --rm, platform",
    command: "create",
    args: ["--network", "none", "--rm", "--platform", "linux/amd64", "busybox"],
  },
  { name: "-a streams", command: "create", args: ["-a", "stdout", "-a", "STDIN", "busybox"] },
  { name: "run -d with -it", command: "run", args: ["-d", "-it", "--name", "bg", "busybox", "sh"] },
  {
    name: "block IO, devices, real-time CPU, kernel memory, OOM, swappiness",
    command: "create",
    args: [
      ...["--blkio-weight", "300", "--blkio-weight-device", "/dev/sda:200", "--device-read-bps", "/dev/sda:1mb"],
      ...[
        "--device-write-bps",
        "/dev/sda:10",
        "--device-read-iops",
        "/dev/sda:100",
        "--device-write-iops",
        "/dev/sdb:5",
      ],
      ...["--device-cgroup-rule", "c 1:3 mr", "--device-cgroup-rule", "b *:* rwm", "--cpu-rt-period", "1000"],
      ...["--cpu-rt-runtime", "500", "--kernel-memory", "64m", "--oom-kill-disable", "--oom-score-adj", "100"],
      ...["--memory-swappiness", "10", "--cgroup-parent", "/x", "busybox"],
    ],
  },
  {
    name: "namespaces, isolation, links, volumes from, storage options",
    command: "create",
    args: [
      ...["--pid", "host", "--uts", "host", "--userns", "host", "--ipc", "shareable", "--cgroupns", "private"],
      ...["--isolation", "default", "--link", "a:b", "--link", "c", "--volume-driver", "local"],
      ...["--volumes-from", "c1:ro", "--volumes-from", "c2", "--storage-opt", "size=1G", "busybox"],
    ],
  },
  {
    name: "--ip, --ip6, --link-local-ip on the default network",
    command: "create",
    args: ["--ip", "10.1.2.3", "--ip6", "fd00::1", "--link-local-ip", "169.254.1.1", "busybox"],
    only28: true,
  },
  {
    name: "--ip and --network-alias on a user network",
    command: "create",
    args: ["--network", "n1", "--network-alias", "al", "--network-alias", "a2", "--ip", "10.1.2.3", "busybox"],
    only28: true,
  },
  {
    name: "--gpus: all, counts, devices, driver, capabilities, options",
    command: "create",
    args: [
      ...[
        "--gpus",
        "all",
        "--gpus",
        "2",
        "--gpus",
        "count=all,driver=nvidia",
        "--gpus",
        '"device=0,2",capabilities=compute',
      ],
      ...["--gpus", "device=1", "--gpus", '"options=a=b,c=d"', "--gpus", '"capabilities=compute,utility"', "busybox"],
    ],
  },
  {
    name: "several networks (docker 28)",
    command: "create",
    args: ["--net", "n1", "--network", "n2", "busybox"],
    only28: true,
  },
  {
    name: "--network before --net: the command line's order (docker 28)",
    command: "create",
    args: ["--network", "n2", "--net", "n1", "busybox"],
    only28: true,
  },
  {
    name: "--add-host name=ip (docker 28)",
    command: "create",
    args: ["--add-host", "c=10.0.0.1", "busybox"],
    only28: true,
  },
];

describe("run/create bodies: berth's equals the docker CLI's", { skip }, () => {
  for (const c of CASES) {
    test(c.name, { skip: c.only28 && !is28 ? "docker 20.10 does not take it" : false }, async () => {
      const d = await docker([c.command, ...c.args]);
      assert.ok(d.create !== undefined, `docker sent no create (exit ${d.code}): ${d.stderr}`);
      const b = berth(c.command, c.args);
      assert.deepEqual(normalize(b.body as Record<string, unknown>), normalize(d.create.body));
      assert.equal(b.name, d.create.query.name);
      assert.equal(b.platform, d.create.query.platform);
    });
  }
});

// Flags docker 28 sends only to a newer daemon (--annotation needs API 1.43, a per-network
// --mac-address 1.44): the same comparison against a recording daemon of API 1.50. No credentials
// are kept in the client's config dir, so --use-api-socket is the socket's bind alone.
describe("run/create bodies on an API 1.50 daemon: berth's equals the docker CLI 28's", {
  skip: skip ?? (is28 ? undefined : "docker 20.10 has none of these flags"),
}, () => {
  let daemon150: RecordingDaemon;
  before(async () => {
    daemon150 = await recordingDaemon("1.50");
  });
  after(() => daemon150.close());
  const cases: { name: string; args: string[] }[] = [
    {
      name: "annotations, a bare key and a repeated one",
      args: ["--annotation", "a=b=c", "--annotation", "k", "--annotation", "a2=1", "--annotation", "a2=2", "busybox"],
    },
    { name: "a MAC address on the default network", args: ["--mac-address", "02:42:AC:11:00:02", "busybox"] },
    {
      name: "a MAC address on none, dotted",
      args: ["--network", "none", "--mac-address", "0242.ac11.0002", "busybox"],
    },
    {
      name: "a MAC address with two networks and an IP",
      args: ["--network", "n1", "--network", "n2", "--mac-address", "02-42-ac-11-00-02", "--ip", "10.1.2.3", "busybox"],
    },
    {
      name: "the API socket beside a mount",
      args: ["--use-api-socket", "--mount", "type=tmpfs,dst=/x", "--disable-content-trust", "busybox"],
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const d = await docker(["create", ...c.args], daemon150);
      assert.ok(d.create !== undefined, `docker sent no create (exit ${d.code}): ${d.stderr}`);
      const b = berth("create", c.args, daemon150.host);
      assert.deepEqual(normalize(b.body as Record<string, unknown>), normalize(d.create.body));
    });
  }
});

// Bad input: docker refuses with exit 125 and sends no create; berth refuses with docker 28's words
// (its first line, "docker" read as "berth"). Words docker 20.10 says differently are checked with 28 only.
const BAD: { args: string[]; words: string; same20?: boolean; only28?: true }[] = [
  {
    args: ["--memory", "12q", "busybox"],
    words: `invalid argument "12q" for "-m, --memory" flag: invalid suffix: 'q'`,
  },
  {
    args: ["--memory", "x", "busybox"],
    words: `invalid argument "x" for "-m, --memory" flag: invalid size: 'x'`,
    same20: true,
  },
  {
    args: ["--shm-size", "-1", "busybox"],
    words: `invalid argument "-1" for "--shm-size" flag: invalid size: '-1'`,
    same20: true,
  },
  { args: ["-p", "99999:1", "busybox"], words: "berth: invalid hostPort: 99999" },
  { args: ["-p", "80:99999", "busybox"], words: "berth: invalid containerPort: 99999" },
  { args: ["-p", "80/sctpx", "busybox"], words: "berth: invalid proto: sctpx" },
  { args: ["-p", "1:2:3:4", "busybox"], words: "berth: invalid IP address: 1:2" },
  {
    args: ["--cpus", "abc", "busybox"],
    words: `invalid argument "abc" for "--cpus" flag: failed to parse abc as a rational number`,
    same20: true,
  },
  {
    args: ["--cpus", "0.0000000001", "busybox"],
    words: `invalid argument "0.0000000001" for "--cpus" flag: value is too precise`,
    same20: true,
  },
  {
    args: ["--ulimit", "bad", "busybox"],
    words: `invalid argument "bad" for "--ulimit" flag: invalid ulimit argument: bad`,
    same20: true,
  },
  {
    args: ["--ulimit", "nofile=a", "busybox"],
    words: `invalid argument "nofile=a" for "--ulimit" flag: strconv.ParseInt: parsing "a": invalid syntax`,
    same20: true,
  },
  {
    args: ["--ulimit", "nofile=2:1", "busybox"],
    words: `invalid argument "nofile=2:1" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: 2 > 1`,
    same20: true,
  },
  {
    args: ["--ulimit", "bogus=1", "busybox"],
    words: `invalid argument "bogus=1" for "--ulimit" flag: invalid ulimit type: bogus`,
    same20: true,
  },
  {
    args: ["--env-file", "/nonexistent.env", "busybox"],
    words: "berth: open /nonexistent.env: no such file or directory",
  },
  {
    args: ["--label-file", "/nonexistent.lbl", "busybox"],
    words: "berth: open /nonexistent.lbl: no such file or directory",
  },
  {
    args: ["--restart", "on-failure:x", "busybox"],
    words: "berth: invalid restart policy format: maximum retry count must be an integer",
  },
  {
    args: ["--rm", "--restart", "always", "busybox"],
    words: "berth: conflicting options: cannot specify both --restart and --rm",
  },
  {
    args: ["--health-interval", "5", "busybox"],
    words: `invalid argument "5" for "--health-interval" flag: time: missing unit in duration "5"`,
    same20: true,
  },
  { args: ["--health-retries", "-1", "busybox"], words: "berth: --health-retries cannot be negative" },
  {
    args: ["--stop-timeout", "x", "busybox"],
    words: `invalid argument "x" for "--stop-timeout" flag: strconv.ParseInt: parsing "x": invalid syntax`,
    same20: true,
  },
  {
    args: ["--pids-limit", "x", "busybox"],
    words: `invalid argument "x" for "--pids-limit" flag: strconv.ParseInt: parsing "x": invalid syntax`,
    same20: true,
  },
  {
    args: ["--sysctl", "bad", "busybox"],
    words: `invalid argument "bad" for "--sysctl" flag: sysctl 'bad' is not allowed`,
  },
  {
    args: ["--add-host", "bad", "busybox"],
    words: `invalid argument "bad" for "--add-host" flag: bad format for add-host: "bad"`,
    same20: true,
  },
  {
    args: ["--add-host", "a:b", "busybox"],
    words: `invalid argument "a:b" for "--add-host" flag: invalid IP address in add-host: "b"`,
    same20: true,
  },
  {
    args: ["--dns", "bad", "busybox"],
    words: `invalid argument "bad" for "--dns" flag: IP address is not correctly formatted: bad`,
  },
  { args: ["--device", "bad", "busybox"], words: "berth: bad is not an absolute path" },
  {
    args: ["--mount", "bad", "busybox"],
    words: `invalid argument "bad" for "--mount" flag: invalid field 'bad' must be a key=value pair`,
    same20: true,
  },
  { args: ["--security-opt", "bad", "busybox"], words: `berth: Invalid --security-opt: "bad"` },
  {
    args: ["-e", "=x", "busybox"],
    words: `invalid argument "=x" for "-e, --env" flag: invalid environment variable: =x`,
    same20: true,
  },
  { args: ["-v", ":/x", "busybox"], words: "berth: invalid spec: :/x: empty section between colons", only28: true },
  {
    args: ["--pull", "bogus", "busybox"],
    words: `berth: invalid pull option: 'bogus': must be one of "always", "missing" or "never"`,
    only28: true,
  },
  {
    args: ["--network", "n1", "--network", "n1", "busybox"],
    words: 'berth: network "n1" is specified multiple times',
    only28: true,
  },
  { args: ["--cgroupns", "bad", "busybox"], words: "berth: --cgroupns: invalid CGROUP mode", only28: true },
  { args: ["--pid", "container:", "busybox"], words: "berth: --pid: invalid PID mode", only28: true },
  { args: ["--uts", "bad", "busybox"], words: "berth: --uts: invalid UTS mode", only28: true },
  { args: ["--userns", "bad", "busybox"], words: "berth: --userns: invalid USER mode", only28: true },
  {
    args: ["--memory-swappiness", "101", "busybox"],
    words: "berth: invalid value: 101. Valid memory swappiness range is 0-100",
    only28: true,
  },
  { args: ["--storage-opt", "bad", "busybox"], words: "berth: invalid storage option", only28: true },
  {
    args: ["--network-alias", "al", "busybox"],
    words: "berth: network-scoped aliases are only supported for user-defined networks",
    only28: true,
  },
  {
    args: ["--blkio-weight", "x", "busybox"],
    words: `invalid argument "x" for "--blkio-weight" flag: strconv.ParseUint: parsing "x": invalid syntax`,
    only28: true,
  },
  {
    args: ["--blkio-weight-device", "/dev/sda:5", "busybox"],
    words: `invalid argument "/dev/sda:5" for "--blkio-weight-device" flag: invalid weight for device: /dev/sda:5`,
    only28: true,
  },
  {
    args: ["--blkio-weight-device", "sda:5", "busybox"],
    words: `invalid argument "sda:5" for "--blkio-weight-device" flag: bad format for device path: sda:5`,
    only28: true,
  },
  {
    args: ["--device-read-bps", "/dev/sda:x", "busybox"],
    words: `invalid argument "/dev/sda:x" for "--device-read-bps" flag: invalid rate for device: /dev/sda:x. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`,
    only28: true,
  },
  {
    args: ["--device-write-iops", "/dev/sda:-1", "busybox"],
    words: `invalid argument "/dev/sda:-1" for "--device-write-iops" flag: invalid rate for device: /dev/sda:-1. The correct format is <device-path>:<number>. Number must be a positive integer`,
    only28: true,
  },
  {
    args: ["--device-cgroup-rule", "bad", "busybox"],
    words: `invalid argument "bad" for "--device-cgroup-rule" flag: invalid device cgroup format 'bad'`,
    only28: true,
  },
  {
    args: ["--link", "a:b:c", "busybox"],
    words: `invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c`,
    only28: true,
  },
  {
    args: ["--gpus", "bogus=1", "busybox"],
    words: `invalid argument "bogus=1" for "--gpus" flag: unexpected key 'bogus' in 'bogus=1'`,
    only28: true,
  },
  {
    args: ["--gpus", "count=x", "busybox"],
    words: `invalid argument "count=x" for "--gpus" flag: invalid count (x): value must be either "all" or an integer: invalid syntax`,
    only28: true,
  },
  {
    args: ["--gpus", "1,count=2", "busybox"],
    words: `invalid argument "1,count=2" for "--gpus" flag: gpu request key 'count' can be specified only once`,
    only28: true,
  },
  { args: ["--nosuch", "busybox"], words: "unknown flag: --nosuch", same20: true },
  { args: ["-z", "busybox"], words: "unknown shorthand flag: 'z' in -z", same20: true },
  { args: ["--name"], words: "flag needs an argument: --name", same20: true },
  {
    args: ["--rm=yes", "busybox"],
    words: `invalid argument "yes" for "--rm" flag: strconv.ParseBool: parsing "yes": invalid syntax`,
    same20: true,
  },
];

function berthRefusal(args: string[]): UsageError {
  try {
    berth("create", args);
  } catch (err) {
    assert.ok(err instanceof UsageError, String(err));
    return err;
  }
  assert.fail(`berth accepted ${args.join(" ")}`);
}

describe("bad run/create input: refused before anything is sent, in docker's words", { skip }, () => {
  for (const c of BAD) {
    test(c.args.join(" "), async () => {
      // Without only28, docker 20.10 refuses it too (not always in the same words).
      const d = await docker(["create", ...c.args]);
      if (is28 || c.only28 !== true) {
        assert.equal(d.code, 125, d.stderr);
        assert.equal(d.create, undefined, "docker sent a create");
      }
      const b = berthRefusal(c.args);
      assert.equal(b.exitCode, 125);
      assert.equal(b.message, `${c.words}\nSee 'berth create --help'.`);
      if (is28 || c.same20 === true) {
        const first = d.stderr
          .split("\n")[0]!
          .replace(/^docker: /, "berth: ")
          .replace(/\.$/, "");
        assert.equal(first, c.words);
      }
    });
  }
});

// dockerd refuses these (docker sends them); berth refuses them first, in dockerd's words.
const DAEMON_REFUSES: { args: string[]; words: string }[] = [
  { args: ["--restart", "bogus", "busybox"], words: "berth: invalid restart policy 'bogus'" },
  {
    args: ["--restart", "always:3", "busybox"],
    words: "berth: maximum retry count cannot be used with restart policy 'always'",
  },
  {
    args: ["-v", "rel/sub:/x", "busybox"],
    words: `berth: create rel/sub: "rel/sub" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
  },
];

describe("input dockerd would refuse: berth refuses it before sending", () => {
  for (const c of DAEMON_REFUSES) {
    test(c.args.join(" "), () => {
      const b = berthRefusal(c.args);
      assert.equal(b.exitCode, 125);
      assert.equal(b.message, `${c.words}\nSee 'berth create --help'.`);
    });
  }
});
