import assert from "node:assert/strict";
import { test } from "node:test";
import { API_VERSION, MIN_API_VERSION, negotiateVersion, versionAtLeast } from "./api-version.ts";

test("the current version is docker CLI 28.2's and the minimum dockerd's", () => {
  assert.equal(API_VERSION, "1.50");
  assert.equal(MIN_API_VERSION, "1.24");
  assert.ok(versionAtLeast(API_VERSION, "1.45"));
});

test("no version in the path is the current one; a version in range is served as asked", () => {
  assert.equal(negotiateVersion(undefined), API_VERSION);
  assert.equal(negotiateVersion("1.24"), "1.24");
  assert.equal(negotiateVersion("1.41"), "1.41");
  assert.equal(negotiateVersion("1.50"), "1.50");
});

test("a version above the current or below the minimum is refused with dockerd's words", () => {
  assert.throws(() => negotiateVersion("1.99"), {
    kind: "invalid-argument",
    message: "client version 1.99 is too new. Maximum supported API version is 1.50",
  });
  assert.throws(() => negotiateVersion("1.50.1"), /client version 1.50.1 is too new/);
  assert.throws(() => negotiateVersion("99999999999999999999.0"), /too new/);
  assert.throws(() => negotiateVersion("1.23"), {
    kind: "invalid-argument",
    message:
      "client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version",
  });
  assert.throws(() => negotiateVersion("1"), /client version 1 is too old/);
  assert.throws(() => negotiateVersion("."), /too old/);
});
