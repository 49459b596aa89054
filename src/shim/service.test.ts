import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { BerthError } from "../common/errors.ts";
import { OptionsSchema } from "../proto/gen/containerd/runc/v1/options_pb.js";
import { decodeOptions, runtimeFor } from "./service.ts";

const config = {
  namespace: "ns1",
  defaultRuntime: "/opt/berth-runc",
  runtimeRootBase: "/run/r",
  linkedDefault: true,
  log: () => {},
};

describe("task options → the runtime a shim runs", () => {
  test("no options: the default runtime, its root under the namespace", () => {
    assert.equal(decodeOptions(undefined), undefined);
    assert.equal(decodeOptions({ typeUrl: "", value: new Uint8Array() }), undefined);
    assert.deepEqual(runtimeFor(undefined, config), { binary: "/opt/berth-runc", root: "/run/r/ns1" });
  });

  test("containerd.runc.v1.Options names the binary and root (with or without a URL prefix)", () => {
    const value = toBinary(OptionsSchema, create(OptionsSchema, { binaryName: "/usr/sbin/runc", root: "/x" }));
    for (const typeUrl of ["containerd.runc.v1.Options", "type.googleapis.com/containerd.runc.v1.Options"]) {
      const o = decodeOptions({ typeUrl, value });
      assert.deepEqual(runtimeFor(o, config), { binary: "/usr/sbin/runc", root: "/x" });
    }
  });

  test("options of another type are refused", () => {
    assert.throws(
      () => decodeOptions({ typeUrl: "containerd.runhcs.v1.Options", value: new Uint8Array() }),
      (e: unknown) => e instanceof BerthError && e.kind === "invalid-argument",
    );
  });
});
