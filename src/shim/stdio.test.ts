import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BerthError } from "../common/errors.ts";
import { parseOutput } from "./stdio.ts";

describe("parseOutput: what a stdio string names", () => {
  test("empty, fifo paths and URIs", () => {
    assert.deepEqual(parseOutput(""), { kind: "none" });
    assert.deepEqual(parseOutput("/run/x/stdout"), { kind: "fifo", path: "/run/x/stdout" });
    assert.deepEqual(parseOutput("fifo:///run/x/out"), { kind: "fifo", path: "/run/x/out" });
    assert.deepEqual(parseOutput("file:///var/log/c%201.log"), { kind: "file", path: "/var/log/c 1.log" });
  });

  test("binary:// passes the query as arguments, as containerd's shims do", () => {
    // Each key once with its first value; a key without one gets "" (containerd 1.6: Query()).
    assert.deepEqual(parseOutput("binary:///usr/bin/logger?id=c1&debug&id=c2&path=%2Fv%20x"), {
      kind: "binary",
      path: "/usr/bin/logger",
      args: ["id", "c1", "debug", "", "path", "/v x"],
    });
  });

  test("refuses relative paths and unknown schemes", () => {
    for (const bad of ["relative/path", "http://host/x", "ftp:///x", "file:relative"]) {
      assert.throws(
        () => parseOutput(bad),
        (e: unknown) => e instanceof BerthError && e.kind === "invalid-argument",
        bad,
      );
    }
  });
});
