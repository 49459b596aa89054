// Pure parts of run/attach/exec/pull: references as docker reads them, registry credentials,
// detach keys and the watcher that holds a partial sequence back, exec's -e.
import assert from "node:assert/strict";
import { test } from "node:test";
import { registryAuthHeader } from "../context/credentials.ts";
import { UsageError } from "../errors.ts";
import { parseDetachKeys, watchedDetachKeys } from "./detach-keys.ts";
import { execEnv } from "./exec.ts";
import { parseImageRef } from "./image-ref.ts";

test("image references: tag added, full names, registries", () => {
  assert.deepEqual(parseImageRef("busybox"), {
    repository: "busybox",
    tag: "latest",
    familiar: "busybox:latest",
    full: "docker.io/library/busybox:latest",
    registry: "docker.io",
  });
  assert.equal(parseImageRef("user/app:2").full, "docker.io/user/app:2");
  assert.equal(parseImageRef("docker.io/busybox").full, "docker.io/library/busybox:latest");
  const local = parseImageRef("127.0.0.1:5000/tools/bb:1");
  assert.equal(local.registry, "127.0.0.1:5000");
  assert.equal(local.repository, "127.0.0.1:5000/tools/bb");
  assert.equal(local.full, "127.0.0.1:5000/tools/bb:1");
  assert.equal(parseImageRef("localhost:5000/x").familiar, "localhost:5000/x:latest");
  const digest = `sha256:${"a".repeat(64)}`;
  const byDigest = parseImageRef(`busybox@${digest}`);
  assert.equal(byDigest.tag, digest);
  assert.equal(byDigest.familiar, `busybox@${digest}`);
});

test("X-Registry-Auth from config.json's auths; hostile or missing entries give none", async () => {
  const registryAuth = (config: Record<string, unknown>, registry: string) => registryAuthHeader(config, registry, {});
  const auth = Buffer.from("me:se:cret").toString("base64");
  const header = await registryAuth({ auths: { "127.0.0.1:5000": { auth } } }, "127.0.0.1:5000");
  assert.deepEqual(JSON.parse(Buffer.from(header as string, "base64url").toString()), {
    serveraddress: "127.0.0.1:5000",
    username: "me",
    password: "se:cret",
  });
  // base64url with its padding, as Go's base64.URLEncoding (docker's EncodeAuthConfig) writes
  // it, the fields in AuthConfig's order.
  for (const user of ["a", "ab", "abc"]) {
    const h = (await registryAuth(
      { auths: { r: { auth: Buffer.from(`${user}:p`).toString("base64") } } },
      "r",
    )) as string;
    assert.equal(
      h,
      Buffer.from(JSON.stringify({ username: user, password: "p", serveraddress: "r" }))
        .toString("base64")
        .replace(/\+/g, "-")
        .replace(/\//g, "_"),
    );
  }
  assert.ok(await registryAuth({ auths: { "https://index.docker.io/v1/": { auth } } }, "docker.io"));
  assert.equal(await registryAuth({}, "docker.io"), undefined);
  assert.equal(await registryAuth({ auths: "x" }, "docker.io"), undefined);
  assert.equal(await registryAuth({ auths: { r: null } }, "r"), undefined);
  assert.equal(
    await registryAuth({ auths: { r: { auth: Buffer.from("nocolon").toString("base64") } } }, "r"),
    undefined,
  );
});

test("detach keys: the CLI's words for a refusal; the local watcher falls back to the default", () => {
  assert.deepEqual(parseDetachKeys("ctrl-@,ctrl-[,a"), [0, 27, 97]);
  assert.throws(
    () => parseDetachKeys("ctrl-"),
    (e: unknown) => e instanceof UsageError && e.exitCode === 125,
  );
  const warned: string[] = [];
  assert.deepEqual(
    watchedDetachKeys("ctrl-", (l) => warned.push(l)),
    [16, 17],
  );
  assert.deepEqual(warned, ["WARNING: invalid detach escape keys, using default: Unknown character: 'ctrl-'"]);
});

test("exec -e: NAME=value as is, a bare NAME from the environment or left bare", () => {
  assert.deepEqual(execEnv(["A=1", "HOME", "NOPE"], { HOME: "/root" }), ["A=1", "HOME=/root", "NOPE"]);
});
