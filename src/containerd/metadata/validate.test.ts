import assert from "node:assert/strict";
import { test } from "node:test";
import { backendKey, maskedLabels, splitBackendKey, validateIdentifier } from "./validate.ts";

test("label masks", () => {
  assert.deepEqual(maskedLabels({ a: "1" }, { b: "2" }, []), { b: "2" });
  assert.deepEqual(maskedLabels({ a: "1" }, { b: "2" }, ["labels.b"]), { a: "1", b: "2" });
  assert.deepEqual(maskedLabels({ a: "1" }, {}, ["labels.a"]), {});
});

test("identifiers: containerd's rule, at most 76 characters", () => {
  assert.equal(validateIdentifier("namespace", "k8s.io"), "k8s.io");
  assert.throws(() => validateIdentifier("namespace", ""), /namespace name must not be empty/);
  assert.throws(() => validateIdentifier("namespace", "a..b"), /must match/);
  assert.throws(() => validateIdentifier("container id", "x".repeat(77)), /longer than 76 characters/);
});

test("backend keys: <ns>/<seq>/<key> and back; anything else is not one", () => {
  assert.equal(backendKey("default", 7, "sha256:ab/c"), "default/7/sha256:ab/c");
  assert.deepEqual(splitBackendKey("default/7/sha256:ab/c"), { ns: "default", seq: 7, key: "sha256:ab/c" });
  assert.equal(splitBackendKey("default/x/k"), undefined);
  assert.equal(splitBackendKey("plain"), undefined);
});
