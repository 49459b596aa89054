import assert from "node:assert/strict";
import { test } from "node:test";
import { MANIFEST_TARGET, tempDbForFile } from "./scene.testing.ts";

const t = tempDbForFile("berth-meta-images-");

const target = MANIFEST_TARGET;

test("images: duplicate, update by field path, delete; namespaces do not see each other", () => {
  const { db } = t;
  db.images.create("ns1", { name: "img:1", labels: {}, target });
  assert.throws(() => db.images.create("ns1", { name: "img:1", labels: {}, target }), /already exists/);
  const other = { ...target, digest: `sha256:${"2".repeat(64)}` };
  const u = db.images.update("ns1", { name: "img:1", labels: { x: "y" }, target: other }, ["target"]);
  assert.equal(u.target.digest, other.digest);
  assert.deepEqual(u.labels, {}, "labels untouched when the mask names only the target");
  assert.throws(() => db.images.get("ns3", "img:1"), /not found/);
  assert.throws(
    () => db.images.update("ns1", { name: "img:1", labels: {}, target }, ["bogus"]),
    /cannot update "bogus"/,
  );
  assert.throws(
    () => db.images.create("ns1", { name: "x", labels: {}, target: { ...target, digest: "sha256:zz" } }),
    /invalid target digest/,
  );
  db.images.delete("ns1", "img:1");
  assert.throws(() => db.images.delete("ns1", "img:1"), /not found/);
});

test("images: annotations and labels by field path; the whole image without paths", () => {
  const { db } = t;
  db.images.create("ns1", {
    name: "img:2",
    labels: { keep: "1", drop: "2" },
    target: { ...target, annotations: { a: "1" } },
  });
  const u = db.images.update(
    "ns1",
    { name: "img:2", labels: { add: "3" }, target: { ...target, annotations: { b: "2" } } },
    ["annotations.b", "annotations.a", "labels.drop", "labels.add"],
  );
  assert.deepEqual(u.target.annotations, { b: "2" });
  assert.deepEqual(u.labels, { keep: "1", add: "3" });
  const whole = db.images.update("ns1", { name: "img:2", labels: {}, target }, []);
  assert.deepEqual(whole.labels, {});
  assert.deepEqual(whole.target, target);
  assert.deepEqual(
    db.images.list("ns1").map((i) => i.name),
    ["img:2"],
  );
});
