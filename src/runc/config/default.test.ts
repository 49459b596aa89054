import assert from "node:assert/strict";
import { test } from "node:test";
import { runcConfigFixture as fixture } from "../../../test/fixtures/runc-config.ts";
import { defaultSpec, defaultSpecJson } from "./default.ts";
import { parseSpec } from "./validate.ts";

test("defaultSpec matches `runc spec` byte for byte", () => {
  assert.equal(defaultSpecJson(), fixture("runc-spec.json.txt"));
});

test("defaultSpec rootless matches `runc spec --rootless` (fixture captured as root)", () => {
  assert.equal(defaultSpecJson({ rootless: true, hostUid: 0, hostGid: 0 }), fixture("runc-spec-rootless.json.txt"));
});

test("rootless spec maps the given host ids", () => {
  const spec = defaultSpec({ rootless: true, hostUid: 1000, hostGid: 1001 });
  assert.deepEqual(spec.linux?.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assert.deepEqual(spec.linux?.gidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
});

test("default specs pass validation", () => {
  assert.deepEqual(parseSpec(JSON.parse(defaultSpecJson())), defaultSpec());
  assert.deepEqual(parseSpec(JSON.parse(defaultSpecJson({ rootless: true }))), defaultSpec({ rootless: true }));
});
