import assert from "node:assert/strict";
import { test } from "node:test";
import {
  continueTrace,
  MAX_TRACEPARENT_LENGTH,
  newTrace,
  outgoingTraceparent,
  parseTraceparent,
  traceFromEnv,
  traceparentOf,
} from "./trace.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const VALID = `00-${TRACE}-${PARENT}-01`;

test("a valid version-00 header parses into its fields", () => {
  assert.deepEqual(parseTraceparent(VALID), { traceId: TRACE, parentId: PARENT, flags: "01" });
  assert.deepEqual(parseTraceparent(`00-${TRACE}-${PARENT}-00`)?.flags, "00");
});

test("invalid headers are refused, never thrown on", () => {
  const bad = [
    undefined,
    "",
    VALID.slice(0, -1), // short
    `${VALID}0`, // version 00 is exactly 55 characters
    `${VALID}-extra`, // ... with nothing after its flags
    VALID.toUpperCase(), // uppercase hex
    `00-${TRACE.toUpperCase()}-${PARENT}-01`,
    `00-${"0".repeat(32)}-${PARENT}-01`, // all-zero trace id
    `00-${TRACE}-${"0".repeat(16)}-01`, // all-zero parent id
    `ff-${TRACE}-${PARENT}-01`, // version ff is invalid
    `0g-${TRACE}-${PARENT}-01`,
    `00_${TRACE}-${PARENT}-01`,
    `00-${TRACE}_${PARENT}-01`,
    `00-${TRACE}-${PARENT}_01`,
    `00-${TRACE}-${PARENT}-0x`,
    `00-${TRACE.slice(0, 31)}z-${PARENT}-01`,
    "x".repeat(10 * 1024), // 10 KiB
    `01-${TRACE}-${PARENT}-01${"-x".repeat(MAX_TRACEPARENT_LENGTH)}`, // a later version, too long
    `01-${TRACE}-${PARENT}-01x`, // a later version's extra fields start with "-"
  ];
  for (const h of bad) assert.equal(parseTraceparent(h), undefined, String(h).slice(0, 80));
});

test("a later version is read by its first four fields", () => {
  assert.deepEqual(parseTraceparent(`01-${TRACE}-${PARENT}-01-future`), {
    traceId: TRACE,
    parentId: PARENT,
    flags: "01",
  });
  assert.deepEqual(parseTraceparent(`cc-${TRACE}-${PARENT}-01`)?.traceId, TRACE);
});

test("newTrace: random, valid, lowercase ids; no parent", () => {
  const a = newTrace();
  const b = newTrace();
  assert.match(a.traceId, /^[0-9a-f]{32}$/);
  assert.match(a.spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(a.traceId, b.traceId);
  assert.equal(a.parentId, undefined);
  assert.deepEqual(parseTraceparent(traceparentOf(a)), { traceId: a.traceId, parentId: a.spanId, flags: a.flags });
});

test("continueTrace keeps the caller's trace with a span of its own, or starts a new one", () => {
  const t = continueTrace(VALID);
  assert.equal(t.traceId, TRACE);
  assert.equal(t.parentId, PARENT);
  assert.notEqual(t.spanId, PARENT);
  assert.equal(t.flags, "01");
  // The next hop is a child of this one: same trace, this span as its parent.
  const next = continueTrace(traceparentOf(t));
  assert.equal(next.traceId, TRACE);
  assert.equal(next.parentId, t.spanId);
  // Unknown flag bits are not passed on.
  assert.equal(continueTrace(`00-${TRACE}-${PARENT}-ff`).flags, "01");
  assert.equal(continueTrace(`00-${TRACE}-${PARENT}-02`).flags, "00");
  for (const h of [undefined, "garbage", VALID.toUpperCase(), "0".repeat(10_240)]) {
    const fresh = continueTrace(h);
    assert.match(fresh.traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(fresh.traceId, TRACE);
    assert.equal(fresh.parentId, undefined);
  }
});

test("outgoingTraceparent: a context becomes its child header, a string goes as given", () => {
  const t = continueTrace(VALID);
  assert.equal(outgoingTraceparent(t), `00-${TRACE}-${t.spanId}-01`);
  assert.equal(outgoingTraceparent("not-valid"), "not-valid");
  assert.equal(outgoingTraceparent(undefined), undefined);
});

test("traceFromEnv: TRACEPARENT when valid, else none", () => {
  const t = traceFromEnv({ TRACEPARENT: VALID });
  assert.equal(t?.traceId, TRACE);
  assert.equal(t?.parentId, PARENT);
  assert.equal(traceFromEnv({ TRACEPARENT: "00-bad" }), undefined);
  assert.equal(traceFromEnv({}), undefined);
});
