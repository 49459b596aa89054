import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { JsonLogReader, JsonLogWriter, MAX_LINE_BYTES, nanoTime, openTail, parseEntry } from "./json-log.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "berth-jsonlog-"));
  dirs.push(d);
  return d;
};

test("json-file lines in dockerd's format, split at newlines per stream, long lines cut", () => {
  const path = join(tmp(), "c-json.log");
  const w = new JsonLogWriter(path);
  w.write("stdout", Buffer.from("hel"));
  w.write("stderr", Buffer.from("err\n"));
  w.write("stdout", Buffer.from("lo\nwor"));
  w.write("stdout", Buffer.from("x".repeat(MAX_LINE_BYTES + 10)));
  w.close();
  const lines = readFileSync(path, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => [l.stream, l.log.length > 12 ? l.log.length : l.log]),
    [
      ["stderr", "err\n"],
      ["stdout", "hello\n"],
      ["stdout", MAX_LINE_BYTES],
      ["stdout", "wor".length + 10],
    ],
  );
  for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.deepEqual(Object.keys(lines[0]), ["log", "stream", "time"]);
  assert.match(nanoTime(), /\.\d{9}Z$/);
});

test("reading: tail, growth, torn and foreign lines skipped", () => {
  const path = join(tmp(), "c-json.log");
  const w = new JsonLogWriter(path);
  for (let i = 0; i < 10; i++) w.write(i % 2 ? "stderr" : "stdout", Buffer.from(`line ${i}\n`));
  appendFileSync(path, 'not json\n{"log":1}\n');
  const all = (r: ReturnType<typeof openTail>) => {
    const out = [];
    for (let b = r.readNew(); b.length > 0; b = r.readNew()) out.push(...b);
    return out;
  };
  const reader = openTail(path, 3);
  assert.deepEqual(
    all(reader).map((e) => e.log.toString()),
    ["line 7\n", "line 8\n", "line 9\n"],
  );
  assert.equal(all(openTail(path, undefined)).length, 10);
  assert.deepEqual(all(openTail(path, 0)), []);
  assert.equal(all(openTail(path, 1000)).length, 10);
  // Read in small steps, a skip that ends inside a step keeps the rest of it.
  const small = new JsonLogReader(path);
  small.skip(4);
  assert.deepEqual(small.readNew(200)[0]?.log.toString(), "line 4\n");
  // A line being written is read once it is whole.
  appendFileSync(path, '{"log":"late\\n","stream":"stdout",');
  assert.deepEqual(reader.readNew(), []);
  appendFileSync(path, '"time":"2026-12-05T12:00:00.000000000Z"}\n');
  assert.deepEqual(
    reader.readNew().map((e) => e.log.toString()),
    ["late\n"],
  );
  w.close();
  assert.deepEqual(new JsonLogReader(join(tmp(), "missing")).readNew(), []);
  assert.equal(parseEntry('{"log":"x","stream":"stdin","time":"t"}'), undefined);
  assert.equal(parseEntry("[1]"), undefined);
});
