import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { familiarName, parseImageRef, parseTagTarget, pullPath, shortId } from "./reference.ts";

test("references normalise as docker's: familiar names, default tag latest, hosts, digests", () => {
  const d = `sha256:${"a".repeat(64)}`;
  const cases: [string, string][] = [
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["user/app:v1", "docker.io/user/app:v1"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["localhost:5000/x/y", "localhost:5000/x/y:latest"],
    ["127.0.0.1:5000/app:2", "127.0.0.1:5000/app:2"],
    [`busybox@${d}`, `docker.io/library/busybox@${d}`],
    [`busybox:1@${d}`, `docker.io/library/busybox:1@${d}`],
  ];
  for (const [given, full] of cases) assert.equal(parseImageRef(given).name, full, given);
  assert.equal(parseImageRef("busybox").repo, "docker.io/library/busybox");
  assert.equal(parseImageRef(`busybox@${d}`).tag, undefined);
  for (const [, full] of cases.slice(0, 4)) assert.ok(!familiarName(full).startsWith("docker.io/"));
  assert.equal(familiarName("docker.io/library/busybox:latest"), "busybox:latest");
  assert.equal(familiarName("docker.io/user/app:v1"), "user/app:v1");
  assert.equal(familiarName("localhost:5000/x:1"), "localhost:5000/x:1");
  assert.equal(pullPath(parseImageRef("busybox")), "library/busybox");
  assert.equal(pullPath(parseImageRef("127.0.0.1:5000/a/b")), "a/b");
  assert.equal(shortId(`sha256:${"0123456789abcdef".repeat(4)}`), "0123456789ab");
});

test("invalid references are refused in dockerd's words", () => {
  const refuse = (s: string, message: string | RegExp) =>
    assert.throws(
      () => parseImageRef(s),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        (typeof message === "string" ? e.message === message : message.test(e.message)),
      s.slice(0, 40),
    );
  for (const s of ["", ":", "a:", "-a", "a//b", "a b", "a@sha256:zz", "a:b:c", "a/", "/a", "x\u0000y", "a:-x", "../x"])
    refuse(s, "invalid reference format");
  refuse("BusyBox", "invalid reference format: repository name must be lowercase");
  refuse("user/App:1", "invalid reference format: repository name must be lowercase");
  refuse(`${"a".repeat(256)}`, "invalid reference format: repository name must not be more than 255 characters");
  refuse("x".repeat(100_000), "invalid reference format: repository name must not be more than 255 characters");
  refuse("a".repeat(64), /cannot specify 64-byte hexadecimal strings/);
  // An upper-case host is a host, not a repository.
  assert.equal(parseImageRef("Registry.Example:5000/app").name, "Registry.Example:5000/app:latest");
});

test("tag targets: repo and tag as docker tag sends them", () => {
  assert.equal(parseTagTarget("myrepo", "v2").name, "docker.io/library/myrepo:v2");
  assert.equal(parseTagTarget("myrepo", "").name, "docker.io/library/myrepo:latest");
  assert.equal(parseTagTarget("localhost:5000/x", "1").name, "localhost:5000/x:1");
  assert.throws(() => parseTagTarget("", "x"), /at least one component/);
  assert.throws(() => parseTagTarget(`x@sha256:${"a".repeat(64)}`, ""), /refusing to create a tag with a digest/);
  assert.throws(() => parseTagTarget("sha256", "abc"), /ambiguous tag using digest algorithm/);
  assert.throws(() => parseTagTarget("x", "bad tag"), /invalid reference format/);
  assert.throws(() => parseTagTarget("x", "t".repeat(129)), /invalid reference format/);
});

test("a familiar name parses back to the same image, even a Hub name whose first part looks like a host", () => {
  for (const given of [
    "busybox",
    "user/app:1",
    "docker.io/a.b/c",
    "docker.io/library/x.y/z:2",
    "docker.io/localhost/x",
  ]) {
    const ref = parseImageRef(given);
    assert.equal(parseImageRef(familiarName(ref.name)).name, ref.name, given);
  }
  assert.equal(familiarName("docker.io/a.b/c:latest"), "docker.io/a.b/c:latest");
});
