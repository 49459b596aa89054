import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BerthError } from "../../common/errors.ts";
import { BERTH_SHIM, shimBinaryFor, shimTable } from "./shim-binary.ts";

describe("shim binaries for runtime names", () => {
  test("berth-shim for the runc runtimes and io.containerd.berth.v1 by default", () => {
    assert.equal(shimBinaryFor("io.containerd.runc.v2"), BERTH_SHIM);
    assert.equal(shimBinaryFor("io.containerd.berth.v1"), BERTH_SHIM);
  });

  test("containerd's rule for other names; absolute paths as they are", () => {
    assert.equal(shimBinaryFor("io.containerd.kata.v2"), "containerd-shim-kata-v2");
    assert.equal(shimBinaryFor("com.example.gvisor.v1"), "containerd-shim-gvisor-v1");
    assert.equal(shimBinaryFor("/opt/shims/my-shim"), "/opt/shims/my-shim");
  });

  test("--runtime-shim overrides the table", () => {
    const t = shimTable(["io.containerd.runc.v2=/usr/bin/containerd-shim-runc-v2"]);
    assert.equal(shimBinaryFor("io.containerd.runc.v2", t), "/usr/bin/containerd-shim-runc-v2");
    assert.equal(shimBinaryFor("io.containerd.berth.v1", t), BERTH_SHIM);
  });

  test("bad names and bad flags are invalid arguments", () => {
    const invalid = (e: unknown) => e instanceof BerthError && e.kind === "invalid-argument";
    for (const bad of ["runc", "io..runc.v2", "io.containerd.ru nc.v2", ""]) {
      assert.throws(() => shimBinaryFor(bad), invalid, bad);
    }
    for (const bad of ["noequals", "=bin", "name="]) assert.throws(() => shimTable([bad]), invalid, bad);
  });
});
