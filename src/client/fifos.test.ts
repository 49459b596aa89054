import assert from "node:assert/strict";
import { closeSync, constants, existsSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { InvalidArgumentError } from "../common/errors.ts";
import { FifoSet, readOutput } from "./fifos.ts";

let parent: string;
before(async () => {
  parent = await mkdtemp(join(tmpdir(), "berth-fifos-test-"));
});
after(async () => {
  await rm(parent, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test("a private 0700 directory of 0700 fifos, named for the request; closed and removed", async () => {
  const f = await FifoSet.create(parent, "c1", { stdin: true });
  assert.equal(statSync(f.dir).mode & 0o777, 0o700);
  assert.deepEqual(f.io, {
    stdin: join(f.dir, "stdin"),
    stdout: join(f.dir, "stdout"),
    stderr: join(f.dir, "stderr"),
    terminal: false,
  });
  for (const p of [f.io.stdin, f.io.stdout, f.io.stderr]) {
    const st = statSync(p);
    assert.ok(st.isFIFO(), p);
    assert.equal(st.mode & 0o777, 0o700);
  }
  await f.close();
  await f.close();
  assert.equal(existsSync(f.dir), false);
  assert.deepEqual(await readdir(parent), []);
});

test("a terminal gets no stderr; stdin only when asked", async () => {
  const t = await FifoSet.create(parent, "tty", { terminal: true });
  assert.equal(t.io.stderr, "");
  assert.equal(t.io.stdin, "");
  assert.equal(t.stderr, undefined);
  assert.equal(t.stdin, undefined);
  assert.ok(t.stdout);
  await t.close();
});

test("output waits for the shim's writer and ends when the last writer closes", async () => {
  const f = await FifoSet.create(parent, "out");
  const out = readOutput(f.stdout!);
  let settled = false;
  out.then(() => {
    settled = true;
  });
  await sleep(200);
  assert.equal(settled, false, "no writer yet: the reader neither ends nor fails");
  // The shim's end: a writer, then a second one (the process), both closed.
  const w1 = openSync(f.io.stdout, constants.O_WRONLY);
  const w2 = openSync(f.io.stdout, constants.O_WRONLY);
  writeSync(w1, "hello ");
  closeSync(w1);
  await sleep(50);
  assert.equal(settled, false, "one writer is still open");
  writeSync(w2, "world\n");
  closeSync(w2);
  assert.deepEqual(await out, { text: "hello world\n", bytes: 12, truncated: false });
  await f.close();
});

test("stdin: the shim's non-blocking reader finds a writer; closeStdin gives it EOF", async () => {
  const f = await FifoSet.create(parent, "in", { stdin: true, stdout: false, stderr: false });
  const r = openSync(f.io.stdin, constants.O_RDONLY | constants.O_NONBLOCK);
  f.stdin!.write("piped\n");
  await f.closeStdin();
  await sleep(50);
  const buf = Buffer.alloc(64);
  assert.equal(buf.subarray(0, readSync(r, buf)).toString(), "piped\n");
  assert.equal(readSync(r, buf), 0, "EOF once the client's end is closed");
  closeSync(r);
  await f.close();
});

test("readOutput keeps at most its limit and drains the rest", async () => {
  const f = await FifoSet.create(parent, "big", { stderr: false });
  const out = readOutput(f.stdout!, 10);
  const w = openSync(f.io.stdout, constants.O_WRONLY);
  // Less than the pipe's 64 KiB: this thread is the reader too.
  writeSync(w, Buffer.alloc(60_000, 0x61));
  closeSync(w);
  const r = await out;
  assert.equal(r.text, "aaaaaaaaaa");
  assert.equal(r.bytes, 60_000);
  assert.equal(r.truncated, true);
  await f.close();
});

test("names that are not one safe path component are refused, nothing made", async () => {
  for (const name of ["", "../x", "a/b", ".hidden", "x".repeat(129), "a\0b", "-x"]) {
    await assert.rejects(FifoSet.create(parent, name), InvalidArgumentError, name);
  }
  assert.deepEqual(await readdir(parent), []);
});

test("reopen: a restarted client reads on from the fifos an earlier set made; only a private dir of fifos", async () => {
  const first = await FifoSet.create(parent, "again", { stdin: true });
  const w = openSync(first.io.stdout, constants.O_WRONLY | constants.O_NONBLOCK);
  writeSync(w, "before\n");
  // The first client goes away without removing anything (a daemon killed).
  for (const s of [first.stdin, first.stdout, first.stderr]) s?.destroy();
  await sleep(50);
  const again = FifoSet.reopen(first.dir, false);
  assert.deepEqual(again.io, first.io);
  const out = readOutput(again.stdout!);
  writeSync(w, "after\n");
  closeSync(w);
  assert.equal((await out).text, "before\nafter\n");
  await again.close();
  assert.equal(existsSync(first.dir), false);
  const loose = await mkdtemp(join(parent, "loose-"));
  const { chmodSync } = await import("node:fs");
  chmodSync(loose, 0o755);
  assert.throws(() => FifoSet.reopen(loose, false), InvalidArgumentError);
  assert.throws(() => FifoSet.reopen(join(parent, "missing"), false));
});
