import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { groupOf, NAMESPACE_GROUP, SOCKET_DIR, socketPathFor } from "./start.ts";

describe("shim start: socket paths and groups", () => {
  test("a socket path per daemon, namespace and group; short enough for sun_path", () => {
    const a = socketPathFor("/run/d.sock", "default", "c1");
    assert.equal(a, socketPathFor("/run/d.sock", "default", "c1"));
    assert.ok(a.startsWith(`${SOCKET_DIR}/`));
    assert.ok(a.length < 108);
    const others = [
      socketPathFor("/run/d.sock", "default", "c2"),
      socketPathFor("/run/d.sock", "other", "c1"),
      socketPathFor("/run/e.sock", "default", "c1"),
    ];
    assert.equal(new Set([a, ...others]).size, 4);
  });

  test("groupOf reads the group annotations in order, else the namespace's group or (per container) the id", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-group-"));
    try {
      assert.equal(groupOf(dir, "c1", false), NAMESPACE_GROUP, "no config.json");
      assert.equal(groupOf(dir, "c1", true), "c1", "no config.json, one shim per container");
      writeFileSync(join(dir, "config.json"), JSON.stringify({ annotations: { other: "x" } }));
      assert.equal(groupOf(dir, "c1", false), NAMESPACE_GROUP);
      assert.equal(groupOf(dir, "c1", true), "c1");
      writeFileSync(join(dir, "config.json"), JSON.stringify({ annotations: { "io.containerd.runc.v2.group": "" } }));
      assert.equal(groupOf(dir, "c1", false), NAMESPACE_GROUP, "an empty annotation names no group");
      writeFileSync(
        join(dir, "config.json"),
        JSON.stringify({ annotations: { "io.kubernetes.cri.sandbox-id": "pod1" } }),
      );
      assert.equal(groupOf(dir, "c1", false), "pod1");
      assert.equal(groupOf(dir, "c1", true), "pod1");
      writeFileSync(
        join(dir, "config.json"),
        JSON.stringify({
          annotations: { "io.kubernetes.cri.sandbox-id": "pod1", "io.containerd.runc.v2.group": "g" },
        }),
      );
      assert.equal(groupOf(dir, "c1", false), "g");
      writeFileSync(join(dir, "config.json"), "{not json");
      assert.equal(groupOf(dir, "c1", true), "c1");
      assert.equal(groupOf(dir, "c1", false), NAMESPACE_GROUP);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the namespace's shim has a socket of its own, apart from every group's and task's", () => {
    const ns = socketPathFor("/run/d.sock", "default", NAMESPACE_GROUP);
    assert.notEqual(ns, socketPathFor("/run/d.sock", "default", "c1"));
    assert.notEqual(ns, socketPathFor("/run/d.sock", "other", NAMESPACE_GROUP));
    assert.notEqual(ns, socketPathFor("/run/e.sock", "default", NAMESPACE_GROUP));
  });

  test("BERTH_SHIM_PER_CONTAINER=1 in the environment is the default of groupOf", () => {
    const saved = process.env.BERTH_SHIM_PER_CONTAINER;
    try {
      process.env.BERTH_SHIM_PER_CONTAINER = "1";
      assert.equal(groupOf("/nonexistent", "c1"), "c1");
      delete process.env.BERTH_SHIM_PER_CONTAINER;
      assert.equal(groupOf("/nonexistent", "c1"), NAMESPACE_GROUP);
    } finally {
      if (saved === undefined) delete process.env.BERTH_SHIM_PER_CONTAINER;
      else process.env.BERTH_SHIM_PER_CONTAINER = saved;
    }
  });
});
