import assert from "node:assert/strict";
import { test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { InvalidArgumentError } from "../common/errors.ts";
import { OptionsSchema } from "../proto/gen/containerd/runc/v1/options_pb.js";
import { jsonAny, MAX_SPEC_BYTES, runcOptionsAny, specAny, TypeUrl, typeNameOf } from "./type-urls.ts";

test("a spec travels as JSON under containerd's runtime-spec type URL", () => {
  const a = specAny({ ociVersion: "1.0.2", process: { args: ["sh"] } }, "container c1: spec");
  assert.equal(a.typeUrl, "types.containerd.io/opencontainers/runtime-spec/1/Spec");
  assert.deepEqual(JSON.parse(Buffer.from(a.value).toString()), { ociVersion: "1.0.2", process: { args: ["sh"] } });
  assert.equal(TypeUrl.process, "types.containerd.io/opencontainers/runtime-spec/1/Process");
});

test("a spec over the bound, or no JSON document at all, is refused naming what it was", () => {
  const big = { pad: "x".repeat(MAX_SPEC_BYTES) };
  assert.throws(
    () => specAny(big, "container c1: spec"),
    (e: Error) =>
      e instanceof InvalidArgumentError &&
      /^container c1: spec: \d+ bytes, more than the 4194304 bytes allowed$/.test(e.message),
  );
  assert.throws(() => jsonAny(TypeUrl.process, undefined, "exec e1: process"), InvalidArgumentError);
  assert.throws(() => jsonAny(TypeUrl.process, { a: 1 }, "p", 5), /p: 7 bytes, more than the 5 bytes allowed/);
});

test("runc options are the protobuf message under its bare name, as ctr sends them", () => {
  const a = runcOptionsAny({ binaryName: "/usr/bin/crun", root: "/run/x", systemdCgroup: true });
  assert.equal(a.typeUrl, "containerd.runc.v1.Options");
  const o = fromBinary(OptionsSchema, a.value);
  assert.equal(o.binaryName, "/usr/bin/crun");
  assert.equal(o.root, "/run/x");
  assert.equal(o.systemdCgroup, true);
});

test("typeNameOf drops any URL prefix", () => {
  assert.equal(typeNameOf("containerd.events.TaskExit"), "containerd.events.TaskExit");
  assert.equal(typeNameOf("type.googleapis.com/containerd.events.TaskExit"), "containerd.events.TaskExit");
  assert.equal(typeNameOf(""), "");
});
