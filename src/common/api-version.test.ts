import assert from "node:assert/strict";
import { test } from "node:test";
import { compareApiVersions } from "./api-version.ts";

test("versions compare part by part as numbers, a missing part is 0", () => {
  assert.equal(compareApiVersions("1.41", "1.41"), 0);
  assert.equal(compareApiVersions("1.9", "1.41"), -1);
  assert.equal(compareApiVersions("1.41.1", "1.41"), 1);
  assert.equal(compareApiVersions("1.41.0", "1.41"), 0);
  assert.equal(compareApiVersions("2.0", "1.99"), 1);
  assert.equal(compareApiVersions("1.041", "1.41"), 0);
  // Far beyond a double's precision: still ordered.
  assert.equal(compareApiVersions("1.99999999999999999999999", "1.99999999999999999999998"), 1);
  // What is not a number counts as 0, as dockerd's parser does.
  assert.equal(compareApiVersions(".", "0.0"), 0);
  assert.equal(compareApiVersions("1.", "1.0"), 0);
  assert.ok(compareApiVersions("x.y", "1.24") < 0);
  assert.ok(compareApiVersions("1.50", "1.5") > 0);
});
