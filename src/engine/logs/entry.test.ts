import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { decodeFrames, STDERR, STDOUT } from "../api/stdcopy.ts";
import { formatEntry, formatTimestamp, parseEntry, parseLogTime, parseRfc3339 } from "./entry.ts";

const T = 1_733_400_000n * 1_000_000_000n; // 2024-12-05T12:00:00Z

test("RFC 3339 times to nanoseconds, as Go parses them", () => {
  assert.equal(parseRfc3339("2024-12-05T12:00:00Z"), T);
  assert.equal(parseRfc3339("2024-12-05T12:00:00.284178278Z"), T + 284_178_278n);
  assert.equal(parseRfc3339("2024-12-05T12:00:00.5Z"), T + 500_000_000n);
  assert.equal(parseRfc3339("2024-12-05T13:30:00+01:30"), T);
  assert.equal(parseRfc3339("2024-12-05T10:00:00-02:00"), T);
  assert.equal(parseRfc3339("0005-01-01T00:00:00Z"), -62_009_366_400n * 1_000_000_000n);
  assert.equal(parseRfc3339("2024-02-29T00:00:00Z") !== undefined, true);
  for (const bad of [
    "",
    "2024-12-05",
    "2024-12-05 12:00:00Z",
    "2024-13-05T12:00:00Z",
    "2023-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-12-05T24:00:00Z",
    "2024-12-05T12:00:00.Z",
    "2024-12-05T12:00:00.1234567890Z",
    "2024-12-05T12:00:00+1:00",
    "2024-12-05T12:00:00",
    "12024-12-05T12:00:00Z",
  ]) {
    assert.equal(parseRfc3339(bad), undefined, bad);
  }
});

test("since/until: unix seconds with a fraction (padded as dockerd pads it) or RFC 3339; bad ones refused", () => {
  assert.equal(parseLogTime("1733400000", "since"), T);
  assert.equal(parseLogTime("1733400000.5", "since"), T + 500_000_000n);
  assert.equal(parseLogTime("1733400000.000000001", "since"), T + 1n);
  assert.equal(parseLogTime("1733400000.1234567891234", "since"), T + 123_456_789n);
  assert.equal(parseLogTime("0", "since"), 0n);
  assert.equal(parseLogTime("-1.5", "since"), -1_500_000_000n);
  assert.equal(parseLogTime("2024-12-05T12:00:00.000000001Z", "until"), T + 1n);
  for (const bad of ["", "abc", "1e9", "1733400000.", ".5", "1733400000.5x", "9".repeat(13), `1.${"1".repeat(70)}`]) {
    assert.throws(
      () => parseLogTime(bad, "since"),
      (e: Error) => e instanceof InvalidArgumentError && /since/.test(e.message),
      bad,
    );
  }
});

test("an entry line parses; anything else is undefined", () => {
  const e = parseEntry('{"log":"hi \\u003c\\n","stream":"stderr","time":"2024-12-05T12:00:00.1Z"}');
  assert.deepEqual(e, { stream: "stderr", line: Buffer.from("hi <\n"), timeNs: T + 100_000_000n });
  // Invalid UTF-8 was written as \ufffd; it comes back as U+FFFD's bytes.
  assert.deepEqual(
    parseEntry('{"log":"\\ufffd","stream":"stdout","time":"2024-12-05T12:00:00Z"}')?.line,
    Buffer.from([0xef, 0xbf, 0xbd]),
  );
  const a = parseEntry(
    '{"log":"x","stream":"stdout","attrs":{"b":"2","a":"1","__proto__":"p"},"time":"2024-12-05T12:00:00Z"}',
  );
  assert.equal(a?.attrs?.a, "1");
  assert.equal(Object.getPrototypeOf(a?.attrs), null);
  assert.equal(({} as Record<string, unknown>).p, undefined);
  // dockerd leaves "log" out when it is empty.
  assert.deepEqual(parseEntry('{"stream":"stdout","time":"2024-12-05T12:00:00Z"}')?.line, Buffer.alloc(0));
  for (const bad of [
    "",
    "not json",
    "[1,2]",
    "null",
    '"log"',
    '{"log":"x","stream":"stdin","time":"2024-12-05T12:00:00Z"}',
    '{"log":"x","time":"2024-12-05T12:00:00Z"}',
    '{"log":"x","stream":"stdout"}',
    '{"log":"x","stream":"stdout","time":"yesterday"}',
    '{"log":1,"stream":"stdout","time":"2024-12-05T12:00:00Z"}',
    '{"log":"x","stream":"stdout","time":"2024-12-05T12:00:00Z","attrs":{"a":1}}',
    '{"log":"x","stream":"stdout","time":"2024-12-05T12:00:00Z","attrs":[]}',
    '{"log":"x","stream":"stdout","time":"2024-12-05T12:00:00Z"',
  ]) {
    assert.equal(parseEntry(bad), undefined, bad);
  }
});

test("timestamps are dockerd's RFC3339NanoFixed: always nine digits", () => {
  assert.equal(formatTimestamp(T), "2024-12-05T12:00:00.000000000Z");
  assert.equal(formatTimestamp(T + 1n), "2024-12-05T12:00:00.000000001Z");
  assert.equal(formatTimestamp(T + 284_178_278n), "2024-12-05T12:00:00.284178278Z");
  assert.equal(formatTimestamp(-1n), "1969-12-31T23:59:59.999999999Z");
});

test("an entry as docker logs gets it: a stdcopy frame per stream, raw for a TTY, with time and details", () => {
  const out = { stream: "stdout" as const, line: Buffer.from("hi\n"), timeNs: T + 5n };
  const err = { ...out, stream: "stderr" as const, attrs: { z: "1", "a b": "c=d&e" } };
  const plain = { timestamps: false, details: false, tty: false };
  assert.deepEqual(decodeFrames(formatEntry(out, plain)), [{ stream: STDOUT, payload: Buffer.from("hi\n") }]);
  assert.deepEqual(decodeFrames(formatEntry(err, plain)), [{ stream: STDERR, payload: Buffer.from("hi\n") }]);
  assert.deepEqual(formatEntry(out, { ...plain, tty: true }), Buffer.from("hi\n"));
  assert.deepEqual(
    formatEntry(out, { timestamps: true, details: false, tty: true }),
    Buffer.from("2024-12-05T12:00:00.000000005Z hi\n"),
  );
  // details: sorted k=v, query-escaped as Go does, then a space; with no attributes just the space.
  assert.deepEqual(
    formatEntry(err, { timestamps: false, details: true, tty: true }),
    Buffer.from("a+b=c%3Dd%26e,z=1 hi\n"),
  );
  assert.deepEqual(
    formatEntry(out, { timestamps: true, details: true, tty: true }),
    Buffer.from("2024-12-05T12:00:00.000000005Z  hi\n"),
  );
});
