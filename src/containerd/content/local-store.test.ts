import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
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
  await holder.close();
  store = await LocalContentStore.open(dir); // as after a daemon restart
  const w2 = await store.writer("resume");
  assert.equal(w2.offset(), 1 << 20);
  assert.equal((await store.status("resume")).total, data.length);
  await w2.write(data.subarray(1 << 20));
  assert.equal(await w2.commit(data.length, digestOf(data)), digestOf(data));
  await assert.rejects(store.status("resume"), /not found/);
});

test("a second writer of a ref waits while the holder writes; a stalled holder is given up on", async () => {
  const store = await LocalContentStore.open(join(root, "wait"), { lockStallMs: 300 });
  const data = Buffer.alloc(64, 5);
  const holder = await store.writer("shared", { total: data.length, expected: digestOf(data) });
  // The holder writes every 100 ms for 600 ms (twice the stall limit) and commits: alive all along.
  const writing = (async () => {
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await holder.write(data.subarray(i * 8, i * 8 + 8));
    }
    await holder.write(data.subarray(48));
    await holder.commit(data.length, digestOf(data));
  })();
  const second = await store.writer("shared", { total: data.length, expected: digestOf(data) });
  await writing;
  assert.equal(second.offset(), 0, "the second writer starts after the holder committed");
  // A holder that writes nothing: the waiter fails with "locked" once the stall limit passes.
  const started = Date.now();
  await assert.rejects(store.writer("shared"), /ref shared locked/);
  assert.ok(Date.now() - started >= 300);
  await second.close();
  const third = await store.writer("shared");
  await third.close();
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

/** Deterministic bytes, so a killed child and this process agree on the blob. */
function pattern(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 0x2545f491;
  for (let i = 0; i < size; i += 4) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

test("a writer killed mid-write (SIGKILL) resumes at the ingest's size after a restart and commits", async () => {
  const dir = join(root, "killed");
  const total = 8 << 20;
  const data = pattern(total);
  const storeUrl = new URL("./local-store.ts", import.meta.url).href;
  const script = `
    import { LocalContentStore } from ${JSON.stringify(storeUrl)};
    ${pattern.toString()}
    const data = pattern(${total});
    const store = await LocalContentStore.open(${JSON.stringify(dir)});
    const w = await store.writer("killed", { total: ${total} });
    for (let at = 0; at < data.length; at += 65536) {
      await w.write(data.subarray(at, at + 65536));
      if (at === 1 << 20) process.stdout.write("started\\n");
      await new Promise((r) => setTimeout(r, 2));
    }
    process.stdout.write("finished\\n");
    await new Promise(() => {});
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  let out = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.includes("started")) resolve();
    });
    child.on("exit", () => reject(new Error(`child exited early: ${out}`)));
  });
  await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGKILL");
  await exited;
  assert.ok(!out.includes("finished"), "killed before it finished");

  const store = await LocalContentStore.open(dir);
  const st = await store.status("killed");
  assert.equal(st.total, total);
  const onDisk = (await stat(join(dir, "ingest", createHash("sha256").update("killed").digest("hex"), "data"))).size;
  assert.ok(onDisk > 0 && onDisk < total, `partial data on disk (${onDisk})`);
  assert.equal(st.offset, onDisk);
  const w = await store.writer("killed");
  assert.equal(w.offset(), onDisk);
  await w.write(data.subarray(onDisk));
  assert.equal(await w.commit(total, digestOf(data)), digestOf(data));
  assert.equal((await store.info(digestOf(data))).size, total);
});

test("an ingest whose metadata was torn by a crash starts over", async () => {
  const dir = join(root, "torn");
  const store = await LocalContentStore.open(dir);
  const w = await store.writer("torn");
  await w.write(Buffer.from("partial"));
  await w.close();
  const ingest = join(dir, "ingest", createHash("sha256").update("torn").digest("hex"));
  await writeFile(join(ingest, "meta.json"), '{"ref": "to');
  const reopened = await LocalContentStore.open(dir);
  await assert.rejects(reopened.status("torn"), /ingest torn: not found/);
  const w2 = await reopened.writer("torn");
  assert.equal(w2.offset(), 0);
  await w2.write(Buffer.from("whole"));
  assert.equal(await w2.commit(5, digestOf(Buffer.from("whole"))), digestOf(Buffer.from("whole")));
});

test("status of a held ingest counts buffered bytes; abort refuses while held; list and abort", async () => {
  const store = await LocalContentStore.open(join(root, "status"));
  const w = await store.writer("held", { total: 10 });
  await w.write(Buffer.from("12345"));
  assert.equal((await store.status("held")).offset, 5);
  await assert.rejects(store.abort("held"), /ref held locked/);
  await w.close();
  const other = await store.writer("other");
  await other.close();
  assert.deepEqual((await store.listStatuses()).map((s) => s.ref).sort(), ["held", "other"]);
  await store.abort("held");
  await assert.rejects(store.status("held"), /not found/);
  await assert.rejects(store.abort("held"), /not found/);
  assert.deepEqual(
    (await store.listStatuses()).map((s) => s.ref),
    ["other"],
  );
});

test("strict digests, ranged reads, delete and walk", async () => {
  const store = await LocalContentStore.open(join(root, "digests"));
  for (const bad of ["sha256:" + "A".repeat(64), "sha512:" + "a".repeat(64), "sha256:" + "a".repeat(63), ""]) {
    assert.throws(() => store.blobPath(bad), /invalid digest/);
  }
  await assert.rejects(store.writer("x", { expected: "sha256:nope" }), /invalid digest/);
  const data = Buffer.from("0123456789");
  const w = await store.writer("r");
  await w.write(data);
  await w.commit(0, "");
  const chunks: Buffer[] = [];
  for await (const c of store.read(digestOf(data), 2, 3)) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).toString(), "234");
  const seen: string[] = [];
  await store.walk((i) => {
    seen.push(`${i.digest}:${i.size}`);
  });
  assert.deepEqual(seen, [`${digestOf(data)}:10`]);
  await store.delete(digestOf(data));
  await assert.rejects(store.delete(digestOf(data)), /not found/);
  await assert.rejects(store.info(digestOf(data)), /not found/);
});
