import assert from "node:assert/strict";
import { test } from "node:test";
import { FILTER_LIMITS, parseFilters, queryBool, queryInt, queryTail } from "./query.ts";

const q = (s: string) => new URLSearchParams(s);

test("booleans read as dockerd reads them", () => {
  for (const v of ["1", "true", "True", "yes", " on ", "maybe"]) assert.equal(queryBool(q(`all=${v}`), "all"), true, v);
  for (const v of ["", "0", "false", "FALSE", "no", "none", " 0 "])
    assert.equal(queryBool(q(`all=${v}`), "all"), false, v);
  assert.equal(queryBool(q(""), "all"), false);
  assert.equal(queryBool(q(""), "stream", true), true);
});

test("integers within bounds; anything else is a 400 naming the parameter", () => {
  const b = { min: -1, max: 1000 };
  assert.equal(queryInt(q("limit=10"), "limit", b), 10);
  assert.equal(queryInt(q("limit=-1"), "limit", b), -1);
  assert.equal(queryInt(q(""), "limit", b), undefined);
  assert.equal(queryInt(q("limit="), "limit", b, 7), 7);
  for (const bad of ["x", "1.5", "1e3", "0x10", " 1", "99999999999999999999"]) {
    assert.throws(() => queryInt(q(`limit=${encodeURIComponent(bad)}`), "limit", b), {
      kind: "invalid-argument",
      message: /invalid value for limit/,
    });
  }
  assert.throws(() => queryInt(q("limit=1001"), "limit", b), /must be between -1 and 1000/);
  assert.throws(() => queryInt(q("limit=-2"), "limit", b), /must be between/);
});

test("tail as dockerd reads it: a count, else every line (negative, not a number, absent)", () => {
  assert.equal(queryTail(q("tail=0")), 0);
  assert.equal(queryTail(q("tail=25")), 25);
  assert.equal(queryTail(q("tail=%2B3")), 3);
  // testcontainers asks for tail=-1; dockerd reads anything but a non-negative integer as "all".
  for (const all of [
    "",
    "tail=all",
    "tail=",
    "tail=-1",
    "tail=-5",
    "tail=abc",
    "tail=1.5",
    "tail=99999999999999999999",
  ]) {
    assert.equal(queryTail(q(all)), undefined, all);
  }
});

test("filters in both of docker's forms", () => {
  const allowed = ["status", "label", "name"];
  const current = parseFilters(
    JSON.stringify({ label: { "a=b": true, c: true }, status: { running: false } }),
    allowed,
  );
  assert.deepEqual(Object.fromEntries(current), { label: ["a=b", "c"], status: ["running"] });
  const legacy = parseFilters(JSON.stringify({ name: ["web", "web", "db"] }), allowed);
  assert.deepEqual(Object.fromEntries(legacy), { name: ["web", "db"] });
  assert.equal(parseFilters(null, allowed).size, 0);
  assert.equal(parseFilters("", allowed).size, 0);
  assert.equal(parseFilters("{}", allowed).size, 0);
});

test("hostile filters are refused with a clear 400", () => {
  const allowed = ["status", "label"];
  const bad: [string, RegExp][] = [
    ["notjson", /invalid filters: /],
    ["[]", /must be a JSON object/],
    ["null", /must be a JSON object/],
    ['"status"', /must be a JSON object/],
    ['{"bogus":["x"]}', /^invalid filter 'bogus'$/],
    ['{"__proto__":["x"]}', /invalid filter '__proto__'/],
    ['{"status":5}', /status: expected/],
    ['{"status":"running"}', /status: expected/],
    ['{"status":[5]}', /values must be strings/],
    ['{"status":{"running":"yes"}}', /expected \{"value": true\}/],
    [JSON.stringify({ label: { ["x".repeat(FILTER_LIMITS.chars + 1)]: true } }), /longer than/],
    [JSON.stringify({ label: Array.from({ length: FILTER_LIMITS.values + 1 }, (_, i) => `v${i}`) }), /more than 256/],
    [`{"label":["${"x".repeat(FILTER_LIMITS.bytes)}"]}`, /longer than 16384 bytes/],
  ];
  for (const [raw, message] of bad) {
    assert.throws(() => parseFilters(raw, allowed), { kind: "invalid-argument", message }, raw.slice(0, 60));
  }
  const manyKeys = Object.fromEntries(Array.from({ length: FILTER_LIMITS.keys + 1 }, (_, i) => [`k${i}`, ["v"]]));
  assert.throws(() => parseFilters(JSON.stringify(manyKeys), Object.keys(manyKeys)), /more than 32 filter names/);
});
