import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFilters } from "../api/query.ts";
import { PRUNE_FILTERS, prunable, untilFilter } from "./prune.ts";
import type { ContainerRecord } from "./record.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");

function rec(over: { running?: boolean; paused?: boolean; labels?: Record<string, string>; created?: string }) {
  return {
    ID: "a".repeat(64),
    Created: over.created ?? "2026-01-01T11:00:00Z",
    State: { Running: over.running ?? false, Paused: over.paused ?? false },
    Config: { Labels: over.labels ?? {} },
  } as unknown as ContainerRecord;
}

const pick = (filters: object, r: ContainerRecord) =>
  prunable(parseFilters(JSON.stringify(filters), PRUNE_FILTERS), NOW)(r);

test("prune takes what is not running (created and exited), never a running or paused one", () => {
  assert.equal(pick({}, rec({})), true);
  assert.equal(pick({}, rec({ running: true })), false);
  assert.equal(pick({}, rec({ running: true, paused: true })), false);
});

test("label holds for every value; label! leaves out what has all of its values; until by creation", () => {
  const r = rec({ labels: { suite: "x", tier: "web" } });
  assert.equal(pick({ label: ["suite=x"] }, r), true);
  assert.equal(pick({ label: ["suite=x", "tier=db"] }, r), false);
  assert.equal(pick({ label: ["tier"] }, r), true);
  assert.equal(pick({ "label!": ["suite"] }, r), false);
  assert.equal(pick({ "label!": ["suite=y"] }, r), true);
  assert.equal(pick({ until: ["2026-01-01T11:30:00Z"] }, r), true);
  assert.equal(pick({ until: ["2026-01-01T10:30:00Z"] }, r), false);
  assert.equal(pick({ until: ["30m"] }, r), true, "made an hour ago: older than 30 minutes");
  assert.equal(pick({ until: ["2h"] }, r), false);
});

test("until: unix seconds, RFC 3339 or a Go duration back from now; anything else is dockerd's words", () => {
  assert.equal(untilFilter("1700000000", NOW), 1_700_000_000_000);
  assert.equal(untilFilter("1700000000.5", NOW), 1_700_000_000_500);
  assert.equal(untilFilter("2026-01-01T00:00:00Z", NOW), Date.parse("2026-01-01T00:00:00Z"));
  assert.equal(untilFilter("1h30m", NOW), NOW - 90 * 60_000);
  assert.equal(untilFilter("1.5s", NOW), NOW - 1500);
  for (const bad of ["x", "", "10 minutes", "1e9", "9".repeat(80), "-5m"]) {
    assert.throws(() => untilFilter(bad, NOW), {
      kind: "invalid-argument",
      message: /^failed to parse value as time or duration: /,
    });
  }
});

test("filters other than label, label! and until are refused as dockerd refuses them", () => {
  assert.throws(() => parseFilters(JSON.stringify({ status: ["exited"] }), PRUNE_FILTERS), /invalid filter 'status'/i);
});
