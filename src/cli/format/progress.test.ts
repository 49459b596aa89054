// The progress display against the real docker CLI: testdata/pull-*.json hold berthd's real pull
// streams (recorded from a fake registry) and what `docker pull` (CLI 28 and 20.10) printed for
// them, replayed by a fake daemon, through a pipe and through a pty of 150 columns.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import {
  goDuration,
  type JsonMessage,
  jsonMessages,
  MAX_MESSAGE_BYTES,
  progressText,
  StreamError,
  showProgress,
} from "./progress.ts";

interface Shown {
  stdout: string;
  stderr: string;
  status: number;
}
interface Recording {
  ref: string;
  stream: JsonMessage[];
  pipe28: Shown;
  pty28: Shown;
  pipe20: Shown;
  pty20: Shown;
}
const load = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, "testdata", `pull-${name}.json`), "utf8")) as Recording;

async function* each<T>(items: readonly T[]): AsyncIterable<T> {
  for (const i of items) yield i;
}

/** What `docker pull` would print for the stream (the pulled reference is the command's, not ours). */
async function shown(rec: Recording, tty: boolean): Promise<Shown> {
  let stdout = "";
  const out = new Writable({
    write(chunk, _enc, cb) {
      stdout += chunk;
      cb();
    },
  });
  const eol = tty ? "\r\n" : "\n"; // a pty's output processing turns \n into \r\n
  try {
    await showProgress(each(rec.stream), out, tty, { width: 150 });
    stdout += `${rec.ref}\n`;
    return { stdout: stdout.replaceAll("\n", eol), stderr: "", status: 0 };
  } catch (e) {
    if (!(e instanceof StreamError)) throw e;
    return { stdout: stdout.replaceAll("\n", eol), stderr: `${e.message}\n`, status: e.exitCode };
  }
}

for (const name of ["multi", "broken"]) {
  test(`pull ${name}: per-layer lines updated in place on a pty, a line per message through a pipe, as docker CLI 28 and 20.10 show them`, async () => {
    const rec = load(name);
    assert.ok(rec.stream.length > 3);
    for (const cli of ["28", "20"] as const) {
      assert.deepEqual(await shown(rec, false), rec[`pipe${cli}`], `pipe, CLI ${cli}`);
      assert.deepEqual(await shown(rec, true), rec[`pty${cli}`], `pty, CLI ${cli}`);
    }
  });
}

test("the progress bar: narrow terminals drop the bar, then the time left; units and hidden counts", () => {
  const p = { current: 500_000, total: 2_000_000, start: 100 };
  const now = 110_000; // 10 s after the start, a quarter done: 30 s left
  assert.equal(progressText(p, 150, now), `[============>${" ".repeat(38)}]    500kB/2MB 30s`);
  assert.equal(progressText(p, 80, now), "   500kB/2MB 30s");
  assert.equal(progressText(p, 40, now), "   500kB/2MB");
  assert.equal(progressText({ current: 3, total: 10, units: "layers" }, 150, 0).endsWith("] 3/10 layers"), true);
  assert.equal(
    progressText({ current: 5, total: 10, hidecounts: true }, 150, 0),
    `[${"=".repeat(25)}>${" ".repeat(25)}] `,
  );
  assert.equal(progressText({ current: 1234 }, 150, 0), " 1.234kB");
  assert.equal(progressText({}, 150, 0), "");
  // A hostile daemon's numbers: a negative current, a string, a string start: no throw.
  assert.equal(progressText({ current: -100, total: 10 }, 150, 0), `[>${" ".repeat(50)}]    -100B/10B`);
  const odd = { current: "x", total: 10, start: "5" } as unknown as { current: number };
  assert.equal(progressText(odd, 150, 0), `[>${" ".repeat(50)}]       0B/10B`);
  assert.deepEqual([0, 59, 65, 3603].map(goDuration), ["0s", "59s", "1m5s", "1h0m3s"]);
});

test("status lines without an id, streams, aux messages, a 401", async () => {
  let text = "";
  const out = new Writable({
    write(c, _e, cb) {
      text += c;
      cb();
    },
  });
  await showProgress(
    each<JsonMessage>([{ status: "Loading" }, { stream: "Loaded image: x:1\n" }, { aux: { ID: "sha256:1" } }]),
    out,
    true,
  );
  assert.equal(text, "Loading\nLoaded image: x:1\n");
  await assert.rejects(
    showProgress(each<JsonMessage>([{ errorDetail: { code: 401, message: "no" }, error: "no" }]), out, false),
    (e: unknown) => e instanceof StreamError && e.message === "authentication is required",
  );
});

test("hostile streams: a message split across chunks, blank lines, a line that is not JSON, one too long", async () => {
  const collect = async (chunks: string[]) => {
    const got: JsonMessage[] = [];
    for await (const m of jsonMessages(each(chunks))) got.push(m);
    return got;
  };
  assert.deepEqual(await collect(['{"status":"a"', '}\r\n\r\n{"id":"x",', '"status":"b"}']), [
    { status: "a" },
    { id: "x", status: "b" },
  ]);
  // A character split between two chunks arrives whole.
  const utf8 = Buffer.from('{"status":"h\u00e9llo \u2603"}\n');
  const cut = utf8.indexOf(0xc3) + 1;
  const snow = utf8.indexOf(0xe2) + 2;
  const bytes: Buffer[] = [];
  for await (const m of jsonMessages([utf8.subarray(0, cut), utf8.subarray(cut, snow), utf8.subarray(snow)])) {
    bytes.push(Buffer.from(m.status ?? ""));
  }
  assert.deepEqual(bytes, [Buffer.from("h\u00e9llo \u2603")]);
  await assert.rejects(collect(["not json\n"]), StreamError);
  await assert.rejects(collect(["[1,2]\n"]), StreamError);
  await assert.rejects(collect(['{"status":"', "x".repeat(MAX_MESSAGE_BYTES)]), /longer than/);
});
