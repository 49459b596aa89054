import assert from "node:assert/strict";
import { test } from "node:test";
import { tempDbForFile } from "./scene.testing.ts";

const t = tempDbForFile("berth-meta-content-");

const digest = `sha256:${"1".repeat(64)}`;

test("content: a namespace sees a blob once put; labels merge, update by mask, delete", () => {
  const { db } = t;
  assert.equal(db.content.get("ns1", digest), undefined);
  db.content.put("ns1", digest, { a: "1" });
  db.content.put("ns1", digest, { b: "2" });
  assert.deepEqual(db.content.get("ns1", digest)?.labels, { a: "1", b: "2" });
  assert.equal(db.content.get("ns2", digest), undefined);
  assert.deepEqual(db.content.updateLabels("ns1", digest, { a: "" }, ["labels.a"]).labels, { b: "2" });
  assert.throws(
    () => db.content.updateLabels("ns1", digest, {}, ["size"]),
    /cannot update "size" field on content info/,
  );
  assert.throws(() => db.content.updateLabels("ns2", digest, {}, []), /content digest .*: not found/);
  assert.ok(db.content.referencedDigests().has(digest));
  db.content.delete("ns1", digest);
  assert.throws(() => db.content.delete("ns1", digest), /content digest .*: not found/);
  assert.equal(db.content.referencedDigests().has(digest), false);
});
