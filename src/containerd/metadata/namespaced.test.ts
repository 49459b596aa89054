import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";
import { CorruptDataError } from "./corrupt.ts";
import { namespacedIngestRef, splitIngestRef } from "./namespaced.ts";
import { type MetadataScene, metadataScene } from "./scene.testing.ts";

const digestOf = (b: string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

let t: MetadataScene;
before(async () => {
  t = await metadataScene("berth-ns-");
});
after(() => t.close());

async function readAll(s: AsyncIterable<unknown>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

test("ingest refs: namespaced in the shared store and split back", () => {
  assert.equal(namespacedIngestRef("ns", "a/b"), "ns/1/a/b");
  assert.deepEqual(splitIngestRef("ns/1/a/b"), { ns: "ns", ref: "a/b" });
  assert.equal(splitIngestRef("plain-ref"), undefined);
  assert.equal(splitIngestRef("ns/2/x"), undefined);
  assert.throws(() => namespacedIngestRef("ns", ""), /ref must not be empty/);
});

test("content: a blob is visible only in the namespace that committed it, even though it is on disk", async () => {
  const w = await t.content.writer("a", "layer", { total: 5 });
  await w.write(Buffer.from("hello"));
  const d = await w.commit(5, digestOf("hello"));
  t.content.committed("a", d, { x: "1" }, "");
  assert.deepEqual((await t.content.info("a", d)).labels, { x: "1" });
  assert.equal((await t.content.info("a", d)).size, 5);
  await assert.rejects(t.content.info("b", d), /not found/);
  await assert.rejects(t.content.read("b", d), /not found/);
  assert.equal(await readAll(await t.content.read("a", d, 1, 3)), "ell");
  assert.deepEqual(
    (await t.content.list("a")).map((r) => r.digest),
    [d],
  );
  assert.deepEqual(await t.content.list("b"), []);
  const u = await t.content.update("a", d, { y: "2" }, ["labels.y"]);
  assert.deepEqual(u.labels, { x: "1", y: "2" });
  await assert.rejects(t.content.update("a", d, {}, ["size"]), /cannot update "size"/);
  t.content.delete("a", d);
  await assert.rejects(t.content.info("a", d), /not found/);
  assert.throws(() => t.content.delete("a", d), /not found/);
});

test("content: ingests with the same ref in two namespaces are separate; status and abort are scoped", async () => {
  const a = await t.content.writer("a", "same", {});
  await a.write(Buffer.from("aaa"));
  await a.close();
  const b = await t.content.writer("b", "same", {});
  await b.write(Buffer.from("b"));
  await b.close();
  assert.equal((await t.content.status("a", "same")).offset, 3);
  assert.equal((await t.content.status("b", "same")).offset, 1);
  assert.equal((await t.content.status("a", "same")).ref, "same");
  assert.deepEqual(
    (await t.content.listStatuses("a")).map((s) => s.ref),
    ["same"],
  );
  await t.content.abort("a", "same");
  // Named by the client's ref, not the shared store's "a/1/same".
  await assert.rejects(t.content.status("a", "same"), { message: "ingest same: not found" });
  assert.equal((await t.content.status("b", "same")).offset, 1);
  await assert.rejects(t.content.abort("c", "same"), { message: "ingest same: not found" });
});

test("content: a writer with a lease adds its ingest to the lease; committed() adds the blob", async () => {
  t.db.leases.create("a", "l1", {});
  const w = await t.content.writer("a", "leased", {}, "l1");
  await w.write(Buffer.from("leased"));
  const d = await w.commit(0, "");
  t.content.committed("a", d, {}, "l1");
  assert.deepEqual(t.db.leases.listResources("a", "l1"), [
    { type: "content", id: d },
    { type: "ingests", id: "leased" },
  ]);
  await assert.rejects(t.content.writer("a", "x", {}, "no-such-lease"), /lease no-such-lease: not found/);
});

test("snapshots: keys are per namespace over distinct backend keys; parents must be committed", async () => {
  await t.snapshots.prepare("a", "work", "", { l: "1" });
  await t.snapshots.prepare("b", "work", "", {});
  const backendKeys = [...t.backend.snapshots.keys()];
  assert.equal(backendKeys.length, 2);
  assert.ok(
    backendKeys.every((k) => /^(a|b)\/\d+\/work$/.test(k)),
    backendKeys.join(","),
  );
  await assert.rejects(t.snapshots.prepare("a", "work", "", {}), /already exists/);
  await assert.rejects(t.snapshots.prepare("a", "child", "work", {}), /not a committed snapshot/);
  await t.snapshots.commit("a", "base", "work", { c: "2" });
  await assert.rejects(t.snapshots.stat("a", "work"), /not found/);
  const base = await t.snapshots.stat("a", "base");
  assert.equal(base.kind, "committed");
  assert.deepEqual(base.labels, { l: "1", c: "2" });
  // "base" exists only in namespace a.
  await assert.rejects(t.snapshots.prepare("b", "child", "base", {}), /parent snapshot base does not exist/);
  await t.snapshots.view("a", "look", "base", {});
  assert.equal((await t.snapshots.stat("a", "look")).parent, "base");
  assert.equal((await t.snapshots.mounts("a", "look"))[0]?.options[0], "ro");
  await assert.rejects(t.snapshots.remove("a", "base"), /has children/);
  assert.deepEqual(
    (await t.snapshots.list("a")).map((s) => `${s.name}:${s.kind}`),
    ["base:committed", "look:view"],
  );
  const updated = await t.snapshots.update("a", "look", { l: "", m: "3" }, ["labels.l", "labels.m"]);
  assert.deepEqual(updated.labels, { m: "3" });
  await assert.rejects(t.snapshots.update("a", "look", {}, ["parent"]), /cannot update "parent"/);
  await t.snapshots.remove("a", "look");
  await t.snapshots.remove("a", "base");
  assert.deepEqual(await t.snapshots.list("a"), []);
  assert.equal(t.backend.snapshots.size, 1, "namespace b's snapshot is untouched");
  await assert.rejects(t.snapshots.commit("a", "x", "missing", {}), /not found/);
});

test("snapshots: a lease records the snapshot it created", async () => {
  t.db.leases.create("c", "unpack", {});
  await t.snapshots.prepare("c", "extract", "", {}, "unpack");
  await t.snapshots.commit("c", "layer", "extract", {}, "unpack");
  assert.deepEqual(t.db.leases.listResources("c", "unpack"), [
    { type: "snapshots/memory", id: "extract" },
    { type: "snapshots/memory", id: "layer" },
  ]);
});

test("a row whose backend snapshot is gone says the row is wrong (file, row, backend key), not 'not found'", async () => {
  t.db.snapshots.insert("ns1", {
    snapshotter: t.snapshots.name,
    key: "dangling",
    backendKey: "ns1/9999/dangling",
    parent: "",
    kind: "committed",
    labels: {},
  });
  for (const call of [() => t.snapshots.stat("ns1", "dangling"), () => t.snapshots.usage("ns1", "dangling")]) {
    await assert.rejects(
      call,
      (err: Error) =>
        err instanceof CorruptDataError &&
        err.message.includes(t.db.path) &&
        err.message.includes('snapshots row (ns1, memory, dangling) names backend snapshot "ns1/9999/dangling"'),
    );
  }
  // A key with no row at all is still NotFound.
  await assert.rejects(() => t.snapshots.stat("ns1", "nothing"), /not found/);
  t.db.snapshots.delete("ns1", t.snapshots.name, "dangling");
});
