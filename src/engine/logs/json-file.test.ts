import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { LogEntry } from "./entry.ts";
import { openLogEnd, type ReadOptions, type ReadStats, readJsonFileLog, WATCHED_POLL_MS } from "./json-file.ts";

const root = mkdtempSync(join(tmpdir(), "berth-json-file-"));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(mkdtempSync(join(root, `c${n++}-`)), "c-json.log");

const BASE = Date.UTC(2024, 11, 5, 12) / 1000;
/** An entry line as berth-logger writes it; `i` is its second after BASE. */
const entry = (log: string, i: number, stream = "stdout") =>
  `${JSON.stringify({ log, stream, time: new Date((BASE + i) * 1000).toISOString().replace(".000Z", "Z") })}\n`;
const lines = (from: number, to: number, stream = "stdout") =>
  Array.from({ length: to - from }, (_, k) => entry(`${from + k}\n`, from + k, stream)).join("");
const ns = (i: number) => BigInt(BASE + i) * 1_000_000_000n;

async function collect(path: string, opts: ReadOptions = {}, stats?: ReadStats): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readJsonFileLog(path, opts, stats)) out.push(e.line.toString());
  return out;
}
const nums = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `${from + k}\n`);

/** Three files as a rotation leaves them: .2 oldest, then .1, then the current one. */
function rotated(): string {
  const p = fresh();
  writeFileSync(`${p}.2`, lines(0, 10));
  writeFileSync(`${p}.1`, lines(10, 20));
  writeFileSync(p, lines(20, 25));
  return p;
}

test("the rotated files are read oldest first, then the current one", async () => {
  assert.deepEqual(await collect(rotated()), nums(0, 25));
  const gap = fresh();
  writeFileSync(`${gap}.1`, lines(0, 3));
  // A gap (a rotation cut short by a crash): the file past it is an older one, read first.
  writeFileSync(`${gap}.3`, lines(90, 93));
  assert.deepEqual(await collect(gap), [...nums(90, 93), ...nums(0, 3)]);
  writeFileSync(`${gap}.6`, lines(60, 61)); // past two missing names: not this log's
  assert.deepEqual(await collect(gap), [...nums(90, 93), ...nums(0, 3)]);
  assert.deepEqual(await collect(fresh()), [], "no file yet: nothing");
});

test("tail N counts lines back across the files", async () => {
  const p = rotated();
  assert.deepEqual(await collect(p, { tail: 3 }), nums(22, 25));
  assert.deepEqual(await collect(p, { tail: 5 }), nums(20, 25));
  assert.deepEqual(await collect(p, { tail: 7 }), nums(18, 25));
  assert.deepEqual(await collect(p, { tail: 22 }), nums(3, 25));
  assert.deepEqual(await collect(p, { tail: 1000 }), nums(0, 25));
  assert.deepEqual(await collect(p, { tail: 0 }), []);
  assert.deepEqual(await collect(p, { tail: -1 }), nums(0, 25));
  // An unfinished last line (a write in progress) is no line: not counted, not read.
  appendFileSync(p, '{"log":"25\\n","str');
  const stats = { malformed: 0 };
  assert.deepEqual(await collect(p, { tail: 2 }, stats), nums(23, 25));
  assert.equal(stats.malformed, 0);
});

test("tail over a long file reads back from its end", async () => {
  const p = fresh();
  writeFileSync(p, lines(0, 20_000));
  assert.deepEqual(await collect(p, { tail: 2 }), nums(19_998, 20_000));
});

test("since and until keep the entries between them, both included", async () => {
  const p = rotated();
  assert.deepEqual(await collect(p, { since: ns(8), until: ns(12) }), nums(8, 13));
  assert.deepEqual(await collect(p, { since: ns(24) + 1n }), []);
  assert.deepEqual(await collect(p, { until: ns(0) }), nums(0, 1));
  // tail first, then since: as dockerd.
  assert.deepEqual(await collect(p, { tail: 3, since: ns(5) }), nums(22, 25));
  assert.deepEqual(await collect(p, { tail: 10, since: ns(20) }), nums(20, 25));
});

test("lines that are no entry are skipped and counted; a huge line is bounded, not read whole", async () => {
  const p = fresh();
  writeFileSync(
    p,
    [
      entry("a\n", 0),
      "garbage\n",
      "[1]\n",
      '{"log":"x","stream":"stdout"}\n',
      "\n",
      `${"x".repeat(5 << 20)}\n`,
      `{"log":"${"y".repeat(2000)}","stream":"stdout","time":"2024-12-05T12:00:00Z"}\n`,
      entry("b\n", 1),
    ].join(""),
  );
  const stats = { malformed: 0 };
  assert.deepEqual(await collect(p, { maxEntryBytes: 1000 }, stats), ["a\n", "b\n"]);
  assert.equal(stats.malformed, 6);
  const byDefault = { malformed: 0 };
  const all = await collect(p, {}, byDefault);
  assert.equal(all.length, 3, "a 2 KiB entry is within the default bound");
  assert.equal(byDefault.malformed, 5);
});

test("a rotated file that ends without a newline does not glue its last bytes to the next file", async () => {
  const p = fresh();
  writeFileSync(`${p}.1`, `${lines(0, 2)}{"log":"cut`);
  writeFileSync(p, lines(2, 4));
  const stats = { malformed: 0 };
  assert.deepEqual(await collect(p, {}, stats), nums(0, 4));
  assert.equal(stats.malformed, 1);
});

test("a symlink at the log path or a rotated name is not followed", async () => {
  const real = fresh();
  writeFileSync(real, lines(0, 3));
  const p = fresh();
  symlinkSync(real, p);
  symlinkSync(real, `${p}.1`);
  assert.deepEqual(await collect(p), []);
});

/** Follows `path` in the background; `seen` fills as entries come; stop() ends it. */
function follow(path: string, opts: ReadOptions = {}) {
  const ac = new AbortController();
  const seen: LogEntry[] = [];
  const stats = { malformed: 0 };
  const done = (async () => {
    for await (const e of readJsonFileLog(path, { follow: true, pollMs: 10, signal: ac.signal, ...opts }, stats))
      seen.push(e);
  })();
  const waitFor = async (count: number) => {
    for (let i = 0; i < 300 && seen.length < count; i++) await sleep(10);
    return seen.map((e) => e.line.toString());
  };
  return {
    seen,
    stats,
    waitFor,
    stop: async () => {
      ac.abort();
      await done;
      return seen.map((e) => e.line.toString());
    },
  };
}

test("follow: appends, a line written in two parts, rotations (one or two between polls) lose and repeat nothing", async () => {
  const p = fresh();
  writeFileSync(p, lines(0, 3));
  const f = follow(p, { tail: 1 });
  assert.deepEqual(await f.waitFor(1), nums(2, 3));
  appendFileSync(p, lines(3, 5));
  assert.deepEqual(await f.waitFor(3), nums(2, 5));
  // Half an entry now, the rest later: read once whole.
  const half = entry("5\n", 5);
  appendFileSync(p, half.slice(0, 10));
  await sleep(50);
  appendFileSync(p, half.slice(10));
  assert.deepEqual(await f.waitFor(4), nums(2, 6));
  // A last line into the old file, then a rotation, then lines in the new one.
  appendFileSync(p, lines(6, 7));
  renameSync(p, `${p}.1`);
  writeFileSync(p, lines(7, 9));
  assert.deepEqual(await f.waitFor(7), nums(2, 9));
  // Two rotations before the reader looks: the middle file is read too.
  appendFileSync(p, lines(9, 10));
  renameSync(`${p}.1`, `${p}.2`);
  renameSync(p, `${p}.1`);
  writeFileSync(p, lines(10, 12));
  renameSync(`${p}.1`, `${p}.2.tmp`);
  renameSync(`${p}.2`, `${p}.3`);
  renameSync(`${p}.2.tmp`, `${p}.2`);
  renameSync(p, `${p}.1`);
  writeFileSync(p, lines(12, 13));
  assert.deepEqual(await f.waitFor(11), nums(2, 13));
  assert.deepEqual(await f.stop(), nums(2, 13));
  assert.equal(f.stats.malformed, 0);
});

test("follow: a file emptied in place (max-file 1) is read again from its start", async () => {
  const p = fresh();
  writeFileSync(p, lines(0, 3));
  const f = follow(p);
  assert.deepEqual(await f.waitFor(3), nums(0, 3));
  truncateSync(p, 0);
  await sleep(50);
  appendFileSync(p, lines(3, 4));
  assert.deepEqual(await f.waitFor(4), nums(0, 4));
  await f.stop();
});

test("follow: a log that does not exist yet is read once it appears; the end reads what is there", async () => {
  const p = fresh();
  const f = follow(p);
  await sleep(30);
  writeFileSync(p, lines(0, 2));
  assert.deepEqual(await f.waitFor(2), nums(0, 2));
  appendFileSync(p, lines(2, 3));
  // Aborted right after the write: the last read still takes it.
  assert.deepEqual(await f.stop(), nums(0, 3));
});

test("follow with until ends once the clock passes it", async () => {
  const p = fresh();
  writeFileSync(p, lines(0, 2));
  const started = Date.now();
  const out = await collect(p, { follow: true, pollMs: 10, until: BigInt(Date.now() + 100) * 1_000_000n });
  assert.deepEqual(out, nums(0, 2));
  assert.ok(Date.now() - started < 2000);
});

test("follow: a rotation at any point of the first look loses nothing (the race that lost a first file)", async () => {
  // The rotation runs after k turns of the event loop, so it lands between each pair of the
  // reader's steps in turn (the reader once looked for name.1 before the rename and opened name
  // after it: the first file was then never read).
  for (let k = 0; k < 40; k++) {
    const p = fresh();
    writeFileSync(p, lines(0, 3));
    const f = follow(p, { pollMs: 1 });
    for (let i = 0; i < k; i++) await new Promise((r) => setImmediate(r));
    renameSync(p, `${p}.1`);
    writeFileSync(p, lines(3, 5));
    for (let i = 0; i < 100 && f.seen.length < 5; i++) await sleep(5);
    assert.deepEqual(await f.stop(), nums(0, 5), `rotation after ${k} turns`);
  }
});

test("follow from openLogEnd reads only what comes after, across a rotation, and the cursor's file is read to its end", async () => {
  const p = fresh();
  writeFileSync(p, lines(0, 3));
  const f = follow(p, { from: await openLogEnd(p) });
  appendFileSync(p, lines(3, 4));
  assert.deepEqual(await f.waitFor(1), nums(3, 4));
  // A rotation: the cursor's file gets one more line after the reader's last look, then is renamed.
  appendFileSync(p, lines(4, 5));
  renameSync(p, `${p}.1`);
  writeFileSync(p, lines(5, 6));
  assert.deepEqual(await f.stop(), nums(3, 6));
  // No file yet: everything that appears is read.
  const q = fresh();
  const g = follow(q, { from: await openLogEnd(q) });
  writeFileSync(q, lines(0, 2));
  assert.deepEqual(await g.waitFor(2), nums(0, 2));
  assert.deepEqual(await g.stop(), nums(0, 2));
});

test("follow wakes on a write at once (inotify), not at the next poll", async () => {
  const p = fresh();
  writeFileSync(p, "");
  const f = follow(p, { pollMs: undefined });
  await sleep(50);
  const t0 = Date.now();
  appendFileSync(p, lines(0, 1));
  assert.deepEqual(await f.waitFor(1), nums(0, 1));
  const took = Date.now() - t0;
  assert.ok(took < 500, `a line took ${took} ms (the poll without a watch is ${WATCHED_POLL_MS} ms)`);
  await f.stop();
});
