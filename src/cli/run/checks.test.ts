// Value checks run/create gained with --mac-address and --io-maxiops: Go's net.ParseMAC and
// strconv.ParseUint as docker 28 applies them (the accepted and refused values are docker's own).
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkUint64, isMacAddress, parseGoUint64 } from "./checks.ts";

test("MAC addresses net.ParseMAC takes: 6, 8 or 20 octets, ':' '-' or dotted groups, any case", () => {
  for (const ok of [
    "02:42:ac:11:00:02",
    "02:42:AC:11:00:02",
    "02-42-ac-11-00-02",
    "0242.ac11.0002",
    "02:42:ac:11:00:02:03:04",
    "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01",
  ]) {
    assert.ok(isMacAddress(ok), ok);
  }
});

test("hostile MAC addresses are refused", () => {
  for (const bad of [
    "",
    "zz",
    "02:42:ac:11:00",
    "02:42:ac:11:00:0g",
    "02:42-ac:11:00:02",
    "02:42:ac:11:00:02:",
    "02:42:ac:11:00:02:03",
    "0242.ac11.00022",
    "a".repeat(5000),
    "02:42:ac:11:00:0\u0662",
  ]) {
    assert.ok(!isMacAddress(bad), bad.slice(0, 30));
  }
});

test("uint64 values as ParseUint(s, 0, 64) reads them", () => {
  assert.equal(parseGoUint64("10"), 10n);
  assert.equal(parseGoUint64("0x10"), 16n);
  assert.equal(parseGoUint64("0X10"), 16n);
  assert.equal(parseGoUint64("010"), 8n);
  assert.equal(parseGoUint64("1_0"), 10n);
  assert.equal(parseGoUint64("18446744073709551615"), 2n ** 64n - 1n);
  assert.equal(
    checkUint64("18446744073709551616"),
    'strconv.ParseUint: parsing "18446744073709551616": value out of range',
  );
  assert.equal(
    checkUint64("99999999999999999999"),
    'strconv.ParseUint: parsing "99999999999999999999": value out of range',
  );
  for (const bad of ["", "x", "-1", "+1", "1__0", "0x", "1e3", "9".repeat(10000)]) {
    assert.ok(checkUint64(bad) !== undefined, bad.slice(0, 20));
  }
  assert.equal(checkUint64("-1"), 'strconv.ParseUint: parsing "-1": invalid syntax');
});
