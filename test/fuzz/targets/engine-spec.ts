// Target: a container create body through berthd's spec builder (src/engine/containers/spec/):
// decodeCreateRequest, then buildSpec over an image config and a fixed user database and host,
// sometimes with a seccomp profile of the request's own (mutated docker-format JSON) inline in
// SecurityOpt. Correct: a typed refusal (invalid-argument), or a spec that berth-runc itself
// accepts: its config.json decoder and rules (runc's checks) take specJson's text, and its
// seccomp compiler compiles the profile. A spec berth-runc would refuse is a finding: berthd
// must refuse that request at create, with a clear 400, not fail it later in the runtime.
import fc from "fast-check";
import { BerthError } from "../../../src/common/errors.ts";
import { buildSpec, specJson } from "../../../src/engine/containers/spec/build.ts";
import { decodeCreateRequest } from "../../../src/engine/containers/spec/decode.ts";
import { DEFAULT_SECCOMP_PROFILE } from "../../../src/engine/containers/spec/default-seccomp.ts";
import { TEST_HOST } from "../../../src/engine/containers/spec/spec-cases.testing.ts";
import { parseGroup, parsePasswd, staticUserDb } from "../../../src/engine/containers/spec/user.ts";
import { parseSpecJson } from "../../../src/runc/config/validate.ts";
import { compileSeccomp } from "../../../src/runc/seccomp/index.ts";
import { check, type FuzzTarget } from "../harness.ts";
import { type Json, mutatedJsonText } from "../json-mutate.ts";

export interface SpecInput {
  body: string;
  /** A docker-format profile's text, sent as SecurityOpt "seccomp=<text>" when present. */
  profile?: string;
}

const USERS = staticUserDb(
  parsePasswd("root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"),
  parseGroup("root:x:0:\nwheel:x:10:user\nusers:x:100:user\n"),
);

/** Create bodies as the docker CLI sends them, with most fields berthd reads set. */
const BODIES: Json[] = [
  {
    Hostname: "",
    User: "user",
    Tty: true,
    Env: ["A=1", "PATH=/bin"],
    Cmd: ["sleep", "1000"],
    Entrypoint: null,
    Image: "busybox",
    WorkingDir: "/tmp",
    Labels: { a: "b" },
    Volumes: { "/data": {} },
    HostConfig: {
      Binds: ["/host:/data:ro,rslave", "/srv:/srv"],
      Tmpfs: { "/run": "size=1m,noexec" },
      Mounts: [
        { Type: "bind", Source: "/tmp", Target: "/w", ReadOnly: true, BindOptions: { Propagation: "rshared" } },
        { Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1048576, Mode: 1023 } },
      ],
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
      Memory: 67108864,
      MemorySwap: -1,
      MemoryReservation: 33554432,
      NanoCpus: 1500000000,
      CpuShares: 512,
      CpusetCpus: "0",
      PidsLimit: 50,
      Ulimits: [{ Name: "nofile", Soft: 100, Hard: 200 }],
      CapAdd: ["NET_ADMIN"],
      CapDrop: ["chown"],
      SecurityOpt: ["no-new-privileges", "apparmor=unconfined"],
      Init: true,
      ShmSize: 8388608,
      Sysctls: { "net.ipv4.ip_forward": "1", "kernel.shmmax": "100000" },
      GroupAdd: ["wheel", "4242"],
      OomScoreAdj: 100,
      ReadonlyRootfs: true,
      NetworkMode: "none",
    },
  },
  {
    Image: "busybox",
    Entrypoint: [""],
    Cmd: ["sh"],
    HostConfig: { Privileged: true, IpcMode: "host", PidMode: "host", UTSMode: "host", NetworkMode: "host" },
  },
  {
    Image: "busybox",
    Cmd: "echo hi",
    HostConfig: { CapDrop: ["ALL"], CapAdd: ["KILL"], SecurityOpt: ["seccomp=unconfined"], CgroupnsMode: "private" },
  },
];

const PROFILES: Json[] = [
  DEFAULT_SECCOMP_PROFILE as unknown as Json,
  {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64"],
    syscalls: [
      { name: "mkdir", action: "SCMP_ACT_ERRNO", errnoRet: 13 },
      { names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 2114060288, op: "SCMP_CMP_MASKED_EQ" }] },
    ],
  },
];

function run(input: SpecInput): void {
  let body: unknown;
  try {
    body = JSON.parse(input.body);
  } catch {
    return; // the API's JSON parser refuses it before the spec builder sees it
  }
  if (input.profile !== undefined && typeof body === "object" && body !== null && !Array.isArray(body)) {
    const h = (body as Record<string, unknown>).HostConfig;
    if (typeof h === "object" && h !== null && !Array.isArray(h)) {
      (h as Record<string, unknown>).SecurityOpt = [`seccomp=${input.profile}`];
    }
  }
  const { config, hostConfig } = decodeCreateRequest(body);
  const { spec } = buildSpec({
    config,
    hostConfig,
    image: { Cmd: ["sh"], Env: ["HOME=/root"] },
    hostname: "0123456789ab",
    rootfs: "/rootfs",
    users: USERS,
    host: TEST_HOST,
    initBinary: "/usr/bin/docker-init",
    joins: { network: "/proc/1/ns/net", ipc: "/proc/1/ns/ipc", pid: "/proc/1/ns/pid" },
    shmPath: "/var/lib/berth/shm",
    daemonRoot: "/var/lib/berth",
  });
  const text = specJson(spec);
  let parsed: ReturnType<typeof parseSpecJson>;
  try {
    parsed = parseSpecJson(text);
  } catch (err) {
    check(false, () => `berth-runc refuses a spec berthd built: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  if (parsed.linux?.seccomp !== undefined) {
    try {
      compileSeccomp(parsed.linux.seccomp, { nativeArch: "SCMP_ARCH_X86_64" });
    } catch (err) {
      check(false, () => `berth-runc cannot compile the profile: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

export function createTarget(): FuzzTarget<SpecInput> {
  return {
    name: "engine-spec",
    about: "create bodies (and inline seccomp profiles) -> typed refusal or a spec berth-runc accepts and compiles",
    arbitrary: fc.oneof(
      { arbitrary: fc.record({ body: mutatedJsonText(BODIES) }), weight: 3 },
      {
        arbitrary: fc.record({ body: fc.constant(JSON.stringify(BODIES[0])), profile: mutatedJsonText(PROFILES) }),
        weight: 1,
      },
    ),
    run,
    isExpected: (err) => err instanceof BerthError && err.kind === "invalid-argument",
    slowMs: 500,
  };
}
