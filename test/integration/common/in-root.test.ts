// readFileInRoot never opens a device (mknod needs root; the rest of in-root is unit tested beside
// src/common/in-root.ts): /dev/zero would never end.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readFileInRoot } from "../../../src/common/in-root.ts";

test("a character device in the root is never opened", (t) => {
  const base = mkdtempSync(join(tmpdir(), "berth-in-root-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, "root");
  mkdirSync(root);
  execFileSync("mknod", [join(root, "zero"), "c", "1", "5"]);
  assert.equal(readFileInRoot(root, "/zero", { maxBytes: 1024 }), undefined);
});
