import assert from "node:assert/strict";
import { test } from "node:test";
import { runcConfigFixture } from "../../../test/fixtures/runc-config.ts";
import { featuresDocument } from "./features.ts";
import { OCI_VERSION } from "./types.ts";

const runc = JSON.parse(runcConfigFixture("runc-features.json.txt"));

function keys(o: object): string[] {
  return Object.keys(o).sort();
}

test("same shape as `runc features`", () => {
  const doc = featuresDocument({ version: "0.1.0" });
  for (const key of keys(runc)) assert.ok(key in doc, key);
  for (const key of keys(runc.linux)) assert.ok(key in doc.linux, `linux.${key}`);
  for (const key of keys(runc.linux.seccomp)) assert.ok(key in doc.linux.seccomp, `linux.seccomp.${key}`);
  assert.equal(doc.ociVersionMin, "1.0.0");
  assert.equal(doc.ociVersionMax, OCI_VERSION);
  assert.equal(doc.annotations["dev.berth.runc.version"], "0.1.0");
});

test("vocabularies cover runc's", () => {
  const doc = featuresDocument();
  assert.deepEqual(doc.hooks, runc.hooks);
  assert.deepEqual(doc.linux.capabilities, runc.linux.capabilities);
  assert.deepEqual(doc.linux.seccomp.actions, runc.linux.seccomp.actions);
  assert.deepEqual(doc.linux.seccomp.operators, runc.linux.seccomp.operators);
  for (const arch of runc.linux.seccomp.archs) assert.ok(doc.linux.seccomp.archs.includes(arch), arch);
  // runc 1.1 lists acl/noacl, which are filesystem data options, not flags (runc later dropped them).
  for (const o of runc.mountOptions) {
    if (o !== "acl" && o !== "noacl") assert.ok(doc.mountOptions.includes(o), o);
  }
  assert.deepEqual(doc.linux.namespaces, [...runc.linux.namespaces, "time"].sort());
});
