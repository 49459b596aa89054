// commit's reference: what it sends, and its refusals in docker 28's words (checked by hand with
// `docker -H unix:///absent commit c REF`: it refuses before connecting).
import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../errors.ts";
import { commitTarget } from "./commit.ts";

test("commit's repository and tag, and docker 28's refusals (exit 1)", () => {
  assert.deepEqual(commitTarget("x"), { repo: "x", tag: "" });
  assert.deepEqual(commitTarget("localhost:5000/a/b:v1"), { repo: "localhost:5000/a/b", tag: "v1" });
  assert.deepEqual(commitTarget("localhost:5000/a"), { repo: "localhost:5000/a", tag: "" });
  const refused: [string, string][] = [
    ["Bad:x", "invalid reference format: repository name (library/Bad) must be lowercase"],
    ["my/Bad", "invalid reference format: repository name (my/Bad) must be lowercase"],
    ["localhost:5000/Bad", "invalid reference format: repository name (Bad) must be lowercase"],
    [`x@sha256:${"a".repeat(64)}`, "refusing to create a tag with a digest reference"],
    [`x@sha512:${"a".repeat(128)}`, "refusing to create a tag with a digest reference"],
    ["x@sha256:abc", "invalid reference format"],
    [`x@sha256:${"a".repeat(40)}`, "invalid checksum digest length"],
    [`x@md5:${"a".repeat(32)}`, "unsupported digest algorithm"],
    [
      `Bad@sha256:${"a".repeat(64)}`,
      "invalid reference format: repository name (library/Bad@sha256) must be lowercase",
    ],
    ["x:bad tag", "invalid reference format"],
  ];
  for (const [ref, words] of refused) {
    assert.throws(
      () => commitTarget(ref),
      (e: unknown) => e instanceof UsageError && e.message === words && e.exitCode === 1,
      ref,
    );
  }
});
