import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../../common/errors.ts";
import { decodeCreateRequest, decodeHostConfig, LIMITS } from "./decode.ts";

function refuses(body: unknown, message: string | RegExp): void {
  assert.throws(
    () => decodeCreateRequest(body),
    (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, String(err));
      if (typeof message === "string") assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

test("an empty body decodes to docker's zero values", () => {
  const { config, hostConfig } = decodeCreateRequest({});
  assert.equal(config.Image, "");
  assert.equal(config.Cmd, undefined);
  assert.equal(config.Entrypoint, undefined);
  assert.deepEqual(config.Env, []);
  assert.equal(hostConfig.Memory, 0);
  assert.equal(hostConfig.PidsLimit, undefined);
  assert.equal(hostConfig.Init, undefined);
  assert.deepEqual(hostConfig.RestartPolicy, { Name: "", MaximumRetryCount: 0 });
});

test("wrongly typed fields are refused in the words of dockerd's decoder", () => {
  // Each message is what Debian's dockerd 20.10 answered to the same body.
  refuses(
    { Image: "busybox", HostConfig: { Memory: "1" } },
    "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64",
  );
  refuses(
    { Image: "busybox", Cmd: 5 },
    "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Cmd of type string",
  );
  refuses(
    { Image: "busybox", Env: [1] },
    "json: cannot unmarshal number into Go struct field ContainerConfigWrapper.Env of type string",
  );
  refuses(
    { Image: "busybox", HostConfig: [] },
    "json: cannot unmarshal array into Go struct field ContainerConfigWrapper.HostConfig of type container.HostConfig",
  );
  refuses({ Tty: "yes" }, /Go struct field ContainerConfigWrapper.Tty of type bool/);
  refuses(
    { HostConfig: { Memory: 1.5 } },
    /cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64/,
  );
  refuses({ HostConfig: { Memory: 2 ** 60 } }, /cannot unmarshal number/);
  // A nested struct's field is named by the struct's type, then its path from the top.
  refuses(
    { HostConfig: { Ulimits: [{ Name: 1 }] } },
    "json: cannot unmarshal number into Go struct field Ulimit.HostConfig.Ulimits.Name of type string",
  );
  refuses(
    { HostConfig: { RestartPolicy: { Name: 1 } } },
    "json: cannot unmarshal number into Go struct field RestartPolicy.HostConfig.RestartPolicy.Name of type string",
  );
  refuses(
    { HostConfig: { Mounts: [{ Type: 1 }] } },
    "json: cannot unmarshal number into Go struct field Mount.HostConfig.Mounts.Type of type mount.Type",
  );
  refuses(
    { HostConfig: { Mounts: [{ Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: "1" } }] } },
    "json: cannot unmarshal string into Go struct field TmpfsOptions.HostConfig.Mounts.TmpfsOptions.SizeBytes of type int64",
  );
  refuses(
    { HostConfig: { Binds: "/a:/b" } },
    "json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Binds of type []string",
  );
  refuses({ HostConfig: { Sysctls: { a: 1 } } }, /HostConfig.HostConfig.Sysctls of type string/);
  refuses({ HostConfig: { RestartPolicy: { Name: "sometimes" } } }, "invalid restart policy 'sometimes'");
  refuses(
    { HostConfig: { Mounts: [{ Type: "weird", Target: "/b" }] } },
    'invalid mount config for type "weird": mount type unknown',
  );
  refuses([], /cannot unmarshal array into Go struct field ContainerConfigWrapper of type container.Config/);
});

test("names match case-insensitively and the last key wins, as in Go", () => {
  const { config, hostConfig } = decodeCreateRequest({ image: "a", IMAGE: "b", hostconfig: { memory: 7_000_000 } });
  assert.equal(config.Image, "b");
  assert.equal(hostConfig.Memory, 7_000_000);
});

test("null is the zero value; Cmd and Entrypoint keep absent apart from empty", () => {
  const a = decodeCreateRequest({ Cmd: null, Entrypoint: [], Env: null, HostConfig: null });
  assert.equal(a.config.Cmd, undefined);
  assert.deepEqual(a.config.Entrypoint, []);
  assert.deepEqual(a.config.Env, []);
  // A string is a StrSlice of one.
  assert.deepEqual(decodeCreateRequest({ Cmd: "echo hi" }).config.Cmd, ["echo hi"]);
});

test("every string and list is bounded", () => {
  refuses({ Image: "x".repeat(LIMITS.shortBytes + 1) }, /ContainerConfigWrapper.Image: longer than 8192 bytes/);
  refuses({ Env: ["A=".padEnd(LIMITS.argBytes + 1, "x")] }, /Env: longer than 131072 bytes/);
  refuses({ Env: new Array(LIMITS.env + 1).fill("A=1") }, /Env: more than 30000 entries/);
  refuses({ HostConfig: { Binds: new Array(LIMITS.mounts + 1).fill("/a:/b") } }, /Binds: more than 1000 entries/);
  refuses(
    { HostConfig: { CapAdd: new Array(LIMITS.smallList + 1).fill("NET_ADMIN") } },
    /CapAdd: more than 256 entries/,
  );
  const labels = Object.fromEntries(Array.from({ length: LIMITS.mapEntries + 1 }, (_, i) => [`l${i}`, ""]));
  refuses({ Labels: labels }, /Labels: more than 10000 entries/);
  // Multi-byte characters count as their UTF-8 bytes.
  refuses({ WorkingDir: `/${"é".repeat(LIMITS.shortBytes / 2)}` }, /longer than 8192 bytes/);
  // A seccomp profile may be long, within its own bound.
  const big = `seccomp=${" ".repeat(LIMITS.seccompProfileBytes + 100)}`;
  refuses({ HostConfig: { SecurityOpt: [big] } }, /SecurityOpt: longer than/);
});

test("HostConfig decodes every field berthd acts on", () => {
  const h = decodeHostConfig({
    Binds: ["/a:/b:ro"],
    Mounts: [{ Type: "tmpfs", Target: "/t", TmpfsOptions: { SizeBytes: 1024, Mode: 0o1777 } }],
    Tmpfs: { "/run": "size=1m" },
    RestartPolicy: { Name: "on-failure", MaximumRetryCount: 3 },
    AutoRemove: true,
    Memory: 10_000_000,
    MemorySwap: -1,
    NanoCpus: 1_500_000_000,
    PidsLimit: 10,
    Ulimits: [{ Name: "nofile", Soft: 1, Hard: 2 }],
    CapAdd: ["NET_ADMIN"],
    SecurityOpt: ["no-new-privileges"],
    Init: true,
    ShmSize: 1024,
    Sysctls: { "net.ipv4.ip_forward": "1" },
    Devices: [{ PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" }],
    GroupAdd: ["10"],
    OomKillDisable: true,
    OomScoreAdj: -5,
    NetworkMode: "none",
  });
  assert.deepEqual(h.Mounts[0]!.TmpfsOptions, { SizeBytes: 1024, Mode: 0o1777 });
  assert.equal(h.RestartPolicy.MaximumRetryCount, 3);
  assert.equal(h.Init, true);
  assert.equal(h.OomKillDisable, true);
  assert.deepEqual(h.Devices[0], { PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm" });
  assert.equal(h.NetworkMode, "none");
});

test("keys that name Object's own properties are plain keys: nothing is polluted", () => {
  const body = JSON.parse(
    '{"__proto__":{"polluted":1},"Labels":{"__proto__":"x","constructor":"y"},"HostConfig":{"__proto__":{"Privileged":true},"Tmpfs":{"__proto__":"size=1m"}}}',
  ) as unknown;
  const { config, hostConfig } = decodeCreateRequest(body);
  assert.equal(hostConfig.Privileged, false);
  assert.equal(Object.getOwnPropertyDescriptor(config.Labels, "__proto__")?.value, "x");
  assert.equal(config.Labels.constructor as unknown, "y");
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys(hostConfig.Tmpfs), ["__proto__"]);
});

test("a NUL byte in any string is refused (found by the engine-spec fuzz target)", () => {
  refuses({ Cmd: ["a\u0000b"] }, "ContainerConfigWrapper.Cmd: must not contain a NUL byte");
  refuses({ Env: ["A=\u0000"] }, "ContainerConfigWrapper.Env: must not contain a NUL byte");
  refuses({ HostConfig: { Sysctls: { "net.x\u0000": "1" } } }, /Sysctls: must not contain a NUL byte/);
  refuses({ Labels: { a: "\u0000" } }, /Labels: must not contain a NUL byte/);
  refuses({ HostConfig: { Binds: ["/a\u0000:/b"] } }, /Binds: must not contain a NUL byte/);
});
