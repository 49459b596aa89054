import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { groupOf, SOCKET_DIR, socketPathFor } from "./start.ts";

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

  test("groupOf reads the group annotations in order, else the container's own id", () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-group-"));
    try {
      assert.equal(groupOf(dir, "c1"), "c1", "no config.json");
      writeFileSync(join(dir, "config.json"), JSON.stringify({ annotations: { other: "x" } }));
      assert.equal(groupOf(dir, "c1"), "c1");
      writeFileSync(
        join(dir, "config.json"),
        JSON.stringify({ annotations: { "io.kubernetes.cri.sandbox-id": "pod1" } }),
      );
      assert.equal(groupOf(dir, "c1"), "pod1");
      writeFileSync(
        join(dir, "config.json"),
        JSON.stringify({
          annotations: { "io.kubernetes.cri.sandbox-id": "pod1", "io.containerd.runc.v2.group": "g" },
        }),
      );
      assert.equal(groupOf(dir, "c1"), "g");
      writeFileSync(join(dir, "config.json"), "{not json");
      assert.equal(groupOf(dir, "c1"), "c1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
