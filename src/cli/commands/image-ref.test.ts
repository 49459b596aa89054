// docker's reference checks as push and import make them before sending anything: the words of
// docker CLI 28 (captured from `docker push`/`docker import` against berthd).
import assert from "node:assert/strict";
import { test } from "node:test";
import { referenceProblem } from "./image-ref.ts";

test("references docker refuses, in its words; the ones it takes", () => {
  const refused: [string, string][] = [
    ["BAD:x:y", "invalid reference format: repository name (library/BAD) must be lowercase"],
    ["Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"],
    ["reg:5000/Up/x", "invalid reference format: repository name (Up/x) must be lowercase"],
    ["", "invalid reference format"],
    ["a//b", "invalid reference format"],
    ["x:", "invalid reference format"],
    ["a___b", "invalid reference format"],
    ["x:bad tag", "invalid reference format"],
    ["a".repeat(64), `invalid repository name (${"a".repeat(64)}), cannot specify 64-byte hexadecimal strings`],
    ["x".repeat(300), "invalid reference format: repository name must not be more than 255 characters"],
    // The digest as go-digest checks it (docker 28's push and commit words).
    ["x@sha256:abc", "invalid reference format"],
    [`x@sha256:${"a".repeat(40)}`, "invalid checksum digest length"],
    [`x@sha256:${"A".repeat(64)}`, "invalid checksum digest format"],
    [`x@md5:${"a".repeat(32)}`, "unsupported digest algorithm"],
    [`x@sha256+b64:${"a".repeat(64)}`, "unsupported digest algorithm"],
    [
      `Bad@sha256:${"a".repeat(64)}`,
      "invalid reference format: repository name (library/Bad@sha256) must be lowercase",
    ],
  ];
  for (const [ref, words] of refused) assert.equal(referenceProblem(ref), words, ref.slice(0, 20));
  for (const ref of [
    "busybox",
    "busybox:1.36",
    "127.0.0.1:5000/tools/bb:1",
    "localhost/x",
    "[::1]:5000/x:1",
    "ubuntu:TAG_1.0",
    "a__b/c-d.e",
    `busybox@sha256:${"0".repeat(64)}`,
    `x@sha384:${"a".repeat(96)}`,
    `x@sha512:${"a".repeat(128)}`,
  ])
    assert.equal(referenceProblem(ref), undefined, ref);
});
