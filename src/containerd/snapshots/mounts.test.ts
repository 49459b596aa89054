import assert from "node:assert/strict";
import { test } from "node:test";
import { nativeMounts, overlayMounts, updatedLabels, validateLabels } from "./mounts.ts";

const o = { fs: "/r/3/fs", work: "/r/3/work", indexOff: true };

test("overlay: no parent is a bind of fs (rw for active, ro for view)", () => {
  assert.deepEqual(overlayMounts({ ...o, kind: "active", parents: [] }), [
    { type: "bind", source: "/r/3/fs", options: ["rw", "rbind"] },
  ]);
  assert.deepEqual(overlayMounts({ ...o, kind: "view", parents: [] })[0]?.options, ["ro", "rbind"]);
});

test("overlay: active with parents is upper+work over the parents, nearest first", () => {
  assert.deepEqual(overlayMounts({ ...o, kind: "active", parents: ["/r/2/fs", "/r/1/fs"] }), [
    {
      type: "overlay",
      source: "overlay",
      options: ["index=off", "workdir=/r/3/work", "upperdir=/r/3/fs", "lowerdir=/r/2/fs:/r/1/fs"],
    },
  ]);
  assert.deepEqual(overlayMounts({ ...o, indexOff: false, kind: "active", parents: ["/r/2/fs"] })[0]?.options, [
    "workdir=/r/3/work",
    "upperdir=/r/3/fs",
    "lowerdir=/r/2/fs",
  ]);
});

test("overlay: a view of one parent binds it read-only; of several, lowerdirs only", () => {
  assert.deepEqual(overlayMounts({ ...o, kind: "view", parents: ["/r/2/fs"] }), [
    { type: "bind", source: "/r/2/fs", options: ["ro", "rbind"] },
  ]);
  assert.deepEqual(overlayMounts({ ...o, kind: "view", parents: ["/r/2/fs", "/r/1/fs"] })[0]?.options, [
    "index=off",
    "lowerdir=/r/2/fs:/r/1/fs",
  ]);
});

test("native: active binds its own copy; a view binds the parent", () => {
  assert.deepEqual(nativeMounts({ kind: "active", dir: "/r/2", parent: "/r/1" }), [
    { type: "bind", source: "/r/2", options: ["rw", "rbind"] },
  ]);
  assert.deepEqual(nativeMounts({ kind: "view", dir: "/r/2", parent: "/r/1" }), [
    { type: "bind", source: "/r/1", options: ["ro", "rbind"] },
  ]);
  assert.equal(nativeMounts({ kind: "view", dir: "/r/2" })[0]?.source, "/r/2");
});

test("labels: replace, per-key set/delete, unknown fields and oversized labels refused", () => {
  const cur = { a: "1", b: "2" };
  assert.deepEqual(updatedLabels("s", cur, { c: "3" }), { c: "3" });
  assert.deepEqual(updatedLabels("s", cur, { c: "3" }, ["labels"]), { c: "3" });
  assert.deepEqual(updatedLabels("s", cur, { b: "9" }, ["labels.b", "labels.a"]), { b: "9" });
  assert.throws(() => updatedLabels("s", cur, {}, ["name"]), /cannot update "name"/);
  assert.throws(() => validateLabels({ k: "v".repeat(4096) }), /exceed/);
  assert.doesNotThrow(() => validateLabels({ k: "v".repeat(4095) }));
});
