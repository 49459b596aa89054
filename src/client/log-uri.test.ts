import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../common/errors.ts";
import { binaryLogUri, fileLogUri } from "./log-uri.ts";

test("log URIs as containerd parses them", () => {
  assert.equal(fileLogUri("/var/log/c1.log"), "file:///var/log/c1.log");
  assert.equal(fileLogUri("/var/log/a b.log"), "file:///var/log/a%20b.log");
  assert.equal(binaryLogUri("/usr/bin/logger"), "binary:///usr/bin/logger");
  assert.equal(binaryLogUri("/usr/bin/logger", { id: "c1", max: "10m" }), "binary:///usr/bin/logger?id=c1&max=10m");
});

test("relative, unclean or NUL-bearing paths are refused", () => {
  for (const p of ["log", "./log", "/a/../b", "/a//b", "/a/\0b", ""]) {
    assert.throws(() => fileLogUri(p), InvalidArgumentError, p);
    assert.throws(() => binaryLogUri(p), InvalidArgumentError, p);
  }
});
