import assert from "node:assert/strict";
import { test } from "node:test";
import { BerthError } from "../../common/errors.ts";
import { parseFilters } from "../api/query.ts";
import type { EngineEvent } from "./event.ts";
import { EVENT_FILTERS, eventMatcher, eventWindow, parseEventTime } from "./filter.ts";

const ID = "9c2a587aed777f116cfbc6ba9f88e0e3f7ff5e1d675226f0c3a88ddad5f5831d";
const IMAGE_ID = "sha256:28bce9cff8dd26b716f8aba0f9386c1eb0335e7efb2dca47d826c0a4e0613068";

function ev(Type: EngineEvent["Type"], Action: string, ID: string, Attributes: Record<string, string>): EngineEvent {
  return { Type, Action, Actor: { ID, Attributes }, scope: "local", timeNano: 1n };
}

const started = ev("container", "start", ID, { image: "busybox", name: "web", foo: "bar" });
const died = ev("container", "die", ID, { image: "busybox", name: "web", exitCode: "0" });
const exec = ev("container", "exec_start: sh -c true", ID, { image: "busybox", name: "web", execID: "e1" });
const health = ev("container", "health_status: healthy", ID, { image: "busybox", name: "web" });
const tagged = ev("image", "tag", IMAGE_ID, { name: "mytag:1" });
const pulled = ev("image", "pull", "127.0.0.1:5000/app:2", { name: "127.0.0.1:5000/app:2" });
const all = [started, died, exec, health, tagged, pulled];

const pick = (filters: Record<string, string[]>) => {
  const match = eventMatcher(parseFilters(JSON.stringify(filters), EVENT_FILTERS));
  return all.filter(match);
};

test("no filters: everything", () => {
  assert.deepEqual(pick({}), all);
});

test("type and event match exactly; the values of one key are ORed, keys ANDed", () => {
  assert.deepEqual(pick({ type: ["image"] }), [tagged, pulled]);
  assert.deepEqual(pick({ event: ["start", "die"] }), [started, died]);
  assert.deepEqual(pick({ event: ["die"], type: ["image"] }), []);
  assert.deepEqual(pick({ event: ["sta"] }), []);
});

test("exec_start and health_status match their longer actions, as dockerd allows", () => {
  assert.deepEqual(pick({ event: ["exec_start"] }), [exec]);
  assert.deepEqual(pick({ event: ["health_status"] }), [health]);
  assert.deepEqual(pick({ event: ["health_status: healthy"] }), [health]);
});

test("container matches an id or a name, exactly or by prefix; other types do not match", () => {
  assert.deepEqual(pick({ container: ["web"] }), [started, died, exec, health]);
  assert.deepEqual(pick({ container: [ID.slice(0, 12)] }), [started, died, exec, health]);
  assert.deepEqual(pick({ container: ["other"] }), []);
});

test("image matches a container's image and an image's id or name, with or without the tag", () => {
  assert.deepEqual(pick({ image: ["busybox"] }), [started, died, exec, health]);
  assert.deepEqual(pick({ image: ["busybox:latest"] }), []);
  assert.deepEqual(pick({ image: ["mytag"] }), [tagged]);
  assert.deepEqual(pick({ image: [IMAGE_ID] }), [tagged]);
  assert.deepEqual(pick({ image: ["127.0.0.1:5000/app"] }), [pulled]);
});

test("label matches the attributes: a key, or key=value, every one given", () => {
  assert.deepEqual(pick({ label: ["foo"] }), [started]);
  assert.deepEqual(pick({ label: ["foo=bar"] }), [started]);
  assert.deepEqual(pick({ label: ["foo=baz"] }), []);
  assert.deepEqual(pick({ label: ["foo", "missing"] }), []);
});

test("scope, daemon, volume and network filters", () => {
  assert.deepEqual(pick({ scope: ["local"] }), all);
  assert.deepEqual(pick({ scope: ["swarm"] }), []);
  assert.deepEqual(pick({ daemon: ["x"] }), []);
  assert.deepEqual(pick({ volume: ["v"] }), []);
  assert.deepEqual(pick({ network: ["n"] }), []);
});

test("an unknown filter key, bad JSON and oversized filters are 400s", () => {
  const bad = (raw: string) =>
    assert.throws(
      () => parseFilters(raw, EVENT_FILTERS),
      (e: unknown) => e instanceof BerthError && e.kind === "invalid-argument",
      raw.slice(0, 40),
    );
  bad('{"bogus":["x"]}');
  bad("{bad");
  bad('{"type":"container"}');
  bad(JSON.stringify({ label: Array.from({ length: 300 }, (_, i) => `k${i}`) }));
  bad(JSON.stringify({ label: ["x".repeat(20_000)] }));
});

test("since and until: Unix seconds with a fraction, or RFC 3339; else a 400", () => {
  assert.equal(parseEventTime(null, "since"), undefined);
  assert.equal(parseEventTime("", "since"), undefined);
  assert.equal(parseEventTime("1700000000", "since"), 1_700_000_000_000_000_000n);
  assert.equal(parseEventTime("1700000000.5", "since"), 1_700_000_000_500_000_000n);
  assert.equal(parseEventTime("1700000000.000000001", "since"), 1_700_000_000_000_000_001n);
  assert.equal(parseEventTime("0", "until"), 0n);
  assert.equal(parseEventTime("2023-11-14T22:13:20Z", "since"), 1_700_000_000_000_000_000n);
  assert.equal(parseEventTime("2023-11-14T23:13:20.25+01:00", "since"), 1_700_000_000_250_000_000n);
  for (const raw of ["abc", "5m", "1.5x", "1e9", "1.", "12345678901234", "2023-11-14", " 1"]) {
    assert.throws(
      () => parseEventTime(raw, "since"),
      (e: unknown) => e instanceof BerthError && e.kind === "invalid-argument" && /since/.test(e.message),
      raw,
    );
  }
});

test("since after until is dockerd's 400", () => {
  assert.throws(
    () => eventWindow("5", "1"),
    (e: unknown) => e instanceof BerthError && e.message === "`since` time (5) cannot be after `until` time (1)",
  );
  assert.deepEqual(eventWindow("1", "5"), { since: 1_000_000_000n, until: 5_000_000_000n });
  assert.deepEqual(eventWindow(null, null), { since: undefined, until: undefined });
});
