// --since/--until values and event lines as docker writes them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventLine } from "./events.ts";
import { parseGoDuration, timeArg } from "./times.ts";

test("durations become whole Unix seconds, as docker sends them; timestamps keep nanoseconds", () => {
  const now = Date.UTC(2026, 11, 5, 12, 0, 0);
  assert.equal(timeArg("1700000000", now), "1700000000");
  assert.equal(timeArg("1700000000.5", now), "1700000000.5");
  assert.equal(timeArg("10m", now), `${now / 1000 - 600}`);
  assert.equal(timeArg("1h30m", now), `${now / 1000 - 5400}`);
  // docker 28 sends `--until 0s` at x.9 s as until=x: an event at x.5 is not in the window.
  assert.equal(timeArg("0s", now + 900), `${now / 1000}`);
  assert.equal(timeArg("1.5s", now + 900), `${now / 1000 - 1}`);
  assert.equal(timeArg("2026-12-05T11:00:00.25Z", now), `${now / 1000 - 3600}.250000000`);
  assert.equal(timeArg("2026-12-05T11:00:00Z", now), `${now / 1000 - 3600}.000000000`);
  assert.equal(timeArg("2026-12-05", now), `${new Date(2026, 11, 5).getTime() / 1000}.000000000`);
  assert.equal(parseGoDuration("1.5s"), 1500);
  assert.equal(parseGoDuration("-2m"), -120_000);
  assert.equal(parseGoDuration("5x"), undefined);
  // events says what failed; logs names the flag, as docker's two commands do.
  assert.throws(
    () => timeArg("yesterday", now),
    /^UsageError: failed to parse value as time or duration: "yesterday"$/,
  );
  assert.throws(
    () => timeArg("yesterday", now, "until"),
    /^UsageError: invalid value for "until": failed to parse value as time or duration: "yesterday"$/,
  );
});

test("a date alone, or a time without a zone, is local time, as docker's GetTimestamp reads it", () => {
  const tz = process.env.TZ;
  process.env.TZ = "Asia/Tokyo";
  try {
    // Midnight in Tokyo is 15:00 UTC the day before.
    assert.equal(timeArg("2026-12-05"), `${Date.UTC(2026, 11, 4, 15) / 1000}.000000000`);
    assert.equal(timeArg("2026-12-05T09:00:00"), `${Date.UTC(2026, 11, 5) / 1000}.000000000`);
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});

test("an event line: nanoseconds exact, nine digits always, attributes sorted", () => {
  assert.equal(
    eventLine({
      Type: "container",
      Action: "die",
      Actor: { ID: "abc", Attributes: { name: "web", exitCode: "3", image: "busybox" } },
      timeNano: "1764936000123456789",
    }),
    "2025-12-05T12:00:00.123456789Z container die abc (exitCode=3, image=busybox, name=web)",
  );
  assert.equal(
    eventLine({ Type: "image", Action: "tag", Actor: { ID: "sha256:x" }, timeNano: "1764936000100000000" }),
    "2025-12-05T12:00:00.100000000Z image tag sha256:x",
  );
});
