import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFilters, recordAdaptor } from "./filters.ts";

const img = recordAdaptor({ name: "docker.io/library/busybox:1" }, { "a.b": "c", env: "prod" });

test("no filters match everything", () => assert.equal(parseFilters([])(img), true));
test("equality, inequality, regexp and presence", () => {
  assert.equal(parseFilters(["name==docker.io/library/busybox:1"])(img), true);
  assert.equal(parseFilters(["name!=docker.io/library/busybox:1"])(img), false);
  assert.equal(parseFilters(["name~=busybox"])(img), true);
  assert.equal(parseFilters(["labels.env"])(img), true);
  assert.equal(parseFilters(["labels.missing"])(img), false);
});
test("quoted field names hold dots; commas AND, several filters OR", () => {
  assert.equal(parseFilters(['labels."a.b"==c'])(img), true);
  assert.equal(parseFilters(["labels.env==prod,name~=alpine"])(img), false);
  assert.equal(parseFilters(["name~=alpine", "labels.env==prod"])(img), true);
});
test("syntax errors are invalid arguments", () => {
  assert.throws(() => parseFilters(["==x"]), /expected a field name/);
  assert.throws(() => parseFilters(['labels."a==b']), /unterminated quote/);
  assert.throws(() => parseFilters(["name~=("]), /bad regular expression/);
});
