import assert from "node:assert/strict";
import { test } from "node:test";
import { joinOps } from "./namespaces.ts";

test("joinOps: user namespace first, mount namespace last (later /proc paths resolve on the host)", () => {
  const ops = joinOps([
    { type: "mount", path: "/proc/9/ns/mnt" },
    { type: "network", path: "/proc/9/ns/net" },
    { type: "user", path: "/proc/9/ns/user" },
    { type: "pid", path: "/proc/9/ns/pid" },
  ]);
  assert.deepEqual(
    ops.map((o) => o.args[0]),
    ["/proc/9/ns/user", "/proc/9/ns/net", "/proc/9/ns/pid", "/proc/9/ns/mnt"],
  );
});
