import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { LocalContentStore } from "./local-store.ts";

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), "berth-content-"));
});
after(() => rm(root, { recursive: true, force: true }));

const digestOf = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

test("write, commit, read back; a second commit of the same bytes succeeds", async () => {
  const store = await LocalContentStore.open(join(root, "a"));
  const data = Buffer.from("hello content");
  const w = await store.writer("ref-1", { total: data.length, expected: digestOf(data) });
  await w.write(data);
  assert.equal(await w.commit(data.length, digestOf(data)), digestOf(data));
  const chunks: Buffer[] = [];
  for await (const c of store.read(digestOf(data), 6)) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), "content");
  const w2 = await store.writer("ref-2");
  await w2.write(data);
  assert.equal(await w2.commit(data.length, digestOf(data)), digestOf(data));
});

test("an ingest survives its writer and a restarted store, and resumes at its offset", async () => {
  const dir = join(root, "b");
  const data = Buffer.alloc(3 << 20, 7);
  let store = await LocalContentStore.open(dir);
  const w = await store.writer("resume", { total: data.length, expected: digestOf(data) });
  await w.write(data.subarray(0, 1 << 20));
  await w.close();
  const holder = await store.writer("resume");
  await assert.rejects(store.writer("resume"), /locked/);
  await holder.close();
  store = await LocalContentStore.open(dir); // as after a daemon restart
  const w2 = await store.writer("resume");
  assert.equal(w2.offset(), 1 << 20);
  assert.equal((await store.status("resume")).total, data.length);
  await w2.write(data.subarray(1 << 20));
  assert.equal(await w2.commit(data.length, digestOf(data)), digestOf(data));
  await assert.rejects(store.status("resume"), /not found/);
});

test("size and digest mismatches fail; a wrong digest restarts the ingest", async () => {
  const store = await LocalContentStore.open(join(root, "c"));
  const w = await store.writer("bad");
  await w.write(Buffer.from("abc"));
  await assert.rejects(w.commit(4, ""), /unexpected size 3, expected 4/);
  const w2 = await store.writer("bad");
  assert.equal(w2.offset(), 3);
  await assert.rejects(w2.commit(3, digestOf(Buffer.from("xyz"))), /unexpected digest/);
  const w3 = await store.writer("bad");
  assert.equal(w3.offset(), 0, "the wrong bytes are gone");
  await w3.close();
  await assert.rejects(store.info(digestOf(Buffer.from("abc"))), /not found/);
  assert.throws(() => store.blobPath("sha256:xyz"), /invalid digest/);
});
