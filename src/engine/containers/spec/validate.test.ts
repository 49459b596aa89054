// The checks of a create request, each with the message Debian's dockerd 20.10 gave for the same
// body (POST /v1.41/containers/create; the oracle test in test/interop compares them live).
import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../../common/errors.ts";
import { checkCreate } from "./build.ts";
import { decodeCreateRequest } from "./decode.ts";
import { REFUSED, REFUSED_AT_START, TEST_HOST } from "./spec-cases.testing.ts";

function check(body: Record<string, unknown>): void {
  const { config, hostConfig } = decodeCreateRequest({ Image: "busybox", Cmd: ["true"], ...body });
  checkCreate(config, hostConfig, TEST_HOST);
}

for (const [name, body, message] of [...REFUSED, ...REFUSED_AT_START]) {
  test(`create refused: ${name}`, () => {
    assert.throws(
      () => check(body),
      (err: unknown) => {
        assert.ok(err instanceof InvalidArgumentError, String(err));
        assert.ok(err.message.startsWith(message), `${err.message}\n  does not start with\n${message}`);
        return true;
      },
    );
  });
}

test("the limits themselves are accepted", () => {
  check({
    HostConfig: {
      Memory: 6_291_456,
      MemorySwap: -1,
      MemoryReservation: 6_291_456,
      MemorySwappiness: -1,
      NanoCpus: 2_000_000_000,
      CpuShares: 0,
      CpusetCpus: "0-1",
      CpusetMems: "0",
      OomScoreAdj: -1000,
      RestartPolicy: { Name: "on-failure", MaximumRetryCount: 5 },
      SecurityOpt: ["no-new-privileges:true", "apparmor=unconfined", "label=disable", "seccomp=unconfined"],
      CapAdd: ["all", "net_admin", "CAP_SYS_ADMIN"],
      CapDrop: ["ALL"],
      Sysctls: {
        "net.core.somaxconn": "1024",
        "kernel.shmmax": "1",
        "fs.mqueue.msg_max": "10",
        "kernel.domainname": "x",
      },
      Binds: ["/a:/b:ro,rslave,z", "/c:/d:Z"],
      Tmpfs: { "/run": "size=1m" },
    },
  });
  check({ HostConfig: { CpuPeriod: 1000, CpuQuota: 1000 } });
  check({ HostConfig: { CpuPeriod: 1_000_000 } });
});

test("volumes are refused with a clear message until they exist", () => {
  assert.throws(
    () => check({ HostConfig: { Binds: ["myvol:/b"] } }),
    /invalid volume specification: 'myvol:\/b': named volumes are not supported yet/,
  );
  assert.throws(() => check({ HostConfig: { Binds: ["/a"] } }), /anonymous volumes are not supported yet/);
  assert.throws(
    () => check({ HostConfig: { Mounts: [{ Type: "volume", Source: "v", Target: "/b" }] } }),
    /invalid mount config for type "volume": named volumes are not supported yet/,
  );
});

test("IPC sysctls need a private IPC namespace", () => {
  assert.throws(
    () => check({ HostConfig: { IpcMode: "host", Sysctls: { "kernel.shmmax": "1" } } }),
    /sysctl "kernel.shmmax" is not allowed in the hosts ipc namespace/,
  );
  assert.throws(
    () => check({ HostConfig: { UTSMode: "host", Sysctls: { "kernel.domainname": "x" } } }),
    /kernel.domainname/,
  );
  // A joined network namespace is not the host's: net.* is allowed, as runc allows it.
  check({ HostConfig: { NetworkMode: "container:abc", Sysctls: { "net.ipv4.ip_forward": "1" } } });
});

test("sysctl names that are no names are refused; the slash spelling is a sysctl too", () => {
  assert.throws(
    () => check({ HostConfig: { Sysctls: { "net.//.//.x": "1" } } }),
    /sysctl "net.\/\/.\/\/.x" is not a sysctl name/,
  );
  assert.throws(
    () => check({ HostConfig: { Sysctls: { "user.max_user_namespaces": "1" } } }),
    /is not in a separate kernel namespace/,
  );
  check({ HostConfig: { Sysctls: { "net/ipv4/ip_forward": "1" } } });
});

test("ulimits: soft above hard and negative values are refused; -1 is unlimited", () => {
  assert.throws(
    () => check({ HostConfig: { Ulimits: [{ Name: "nofile", Soft: 10, Hard: 2 }] } }),
    /ulimit soft limit must be less than or equal to hard limit: 10 > 2/,
  );
  assert.throws(() => check({ HostConfig: { Ulimits: [{ Name: "nofile", Soft: -2, Hard: 2 }] } }), /only -1/);
  // -1 is unlimited, above any hard limit (found by the engine-spec fuzz target).
  assert.throws(
    () => check({ HostConfig: { Ulimits: [{ Name: "nofile", Soft: -1, Hard: 200 }] } }),
    /ulimit soft limit must be less than or equal to hard limit: -1 > 200/,
  );
  check({ HostConfig: { Ulimits: [{ Name: "core", Soft: -1, Hard: -1 }] } });
  check({ HostConfig: { Ulimits: [{ Name: "core", Soft: 5, Hard: -1 }] } });
});

test("a ulimit named twice is refused (found by the engine-spec fuzz target: runc refuses it at create)", () => {
  assert.throws(
    () =>
      check({
        HostConfig: {
          Ulimits: [
            { Name: "nofile", Soft: 1, Hard: 2 },
            { Name: "nofile", Soft: 1, Hard: 2 },
          ],
        },
      }),
    /duplicate ulimit: nofile/,
  );
});

test("device permissions are some of r, w and m", () => {
  assert.throws(
    () =>
      check({
        HostConfig: { Devices: [{ PathOnHost: "/dev/null", PathInContainer: "/dev/x", CgroupPermissions: "xyz" }] },
      }),
    /invalid device mode: xyz/,
  );
  check({ HostConfig: { Devices: [{ PathOnHost: "/dev/null", PathInContainer: "/dev/x", CgroupPermissions: "rw" }] } });
});

test("a bind of the daemon's root with a private propagation is refused at create", () => {
  const { config, hostConfig } = decodeCreateRequest({ Cmd: ["x"], HostConfig: { Binds: ["/var:/v:rprivate"] } });
  assert.throws(() => checkCreate(config, hostConfig, TEST_HOST, "/var/lib/berth"), /must use either propagation mode/);
  checkCreate(config, hostConfig, TEST_HOST, "/srv/berth");
});

test("PID, UTS and cgroup namespace modes outside docker's are refused", () => {
  assert.throws(() => check({ HostConfig: { PidMode: "weird" } }), /Invalid PID mode: weird/);
  assert.throws(() => check({ HostConfig: { UTSMode: "weird" } }), /Invalid UTS mode: weird/);
  assert.throws(() => check({ HostConfig: { CgroupnsMode: "weird" } }), /invalid cgroup namespace mode: weird/);
});
