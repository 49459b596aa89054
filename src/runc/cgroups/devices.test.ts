import assert from "node:assert/strict";
import { test } from "node:test";
import { devicePolicy, formatRule, parseDevicesList, samePolicy, v1DeviceWrites } from "./devices.ts";

test("deny-all then allow rules: an allow-list", () => {
  const p = devicePolicy([
    { allow: false, access: "rwm" },
    { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
    { allow: true, type: "c", major: 136, access: "rwm" },
    { allow: true, type: "c", major: 1, minor: 3, access: "r" },
  ]);
  assert.equal(p.defaultAllow, false);
  assert.deepEqual(p.exceptions.map(formatRule), ["c 1:3 rwm", "c 136:* rwm"]);
  assert.deepEqual(v1DeviceWrites(p), [
    { file: "devices.deny", value: "a" },
    { file: "devices.allow", value: "c 1:3 rwm" },
    { file: "devices.allow", value: "c 136:* rwm" },
  ]);
});

test("a later deny removes access from an exact match only", () => {
  const p = devicePolicy([
    { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
    { allow: false, type: "c", major: 1, minor: 3, access: "w" },
    { allow: false, type: "c", major: 1, access: "rwm" },
  ]);
  assert.deepEqual(p.exceptions.map(formatRule), ["c 1:3 rm"]);
});

test("allow-all then denies: a deny-list; 'a' resets everything", () => {
  const p = devicePolicy([
    { allow: true, access: "rwm" },
    { allow: false, type: "b", major: 8, minor: 0, access: "w" },
  ]);
  assert.equal(p.defaultAllow, true);
  assert.deepEqual(v1DeviceWrites(p), [
    { file: "devices.allow", value: "a" },
    { file: "devices.deny", value: "b 8:0 w" },
  ]);
  assert.deepEqual(devicePolicy([...[{ allow: true, type: "c" as const, major: 1, minor: 5 }], { allow: false }]), {
    defaultAllow: false,
    exceptions: [],
  });
});

test("no rules means deny everything", () => {
  assert.deepEqual(devicePolicy([]), { defaultAllow: false, exceptions: [] });
});

test("bad access or type is rejected", () => {
  assert.throws(() => devicePolicy([{ allow: true, type: "c", access: "rx" }]), /devices\[0\]: invalid access/);
  assert.throws(() => devicePolicy([{ allow: true, type: "p" as "c" }]), /invalid type/);
});

test("devices.list parses and compares regardless of order", () => {
  const cur = parseDevicesList("c 1:3 rwm\nc 136:* rwm\nb *:* m\n");
  const want = devicePolicy([
    { allow: true, type: "b", access: "m" },
    { allow: true, type: "c", major: 136, access: "rwm" },
    { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
  ]);
  assert.equal(samePolicy(cur, want), true);
  assert.deepEqual(parseDevicesList("a *:* rwm\n"), { defaultAllow: true, exceptions: [] });
});
