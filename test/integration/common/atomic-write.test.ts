// writeFileAtomic on a full disk (a 64 KiB tmpfs: mounting needs root; the rest of atomic writes is
// unit tested beside src/common/atomic-write.ts).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeFileAtomic } from "../../../src/common/atomic-write.ts";
import { NoSpaceError } from "../../../src/common/storage-errors.ts";

test("a full disk names the file, keeps the old one whole and removes the temp file", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "berth-atomic-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir]);
  try {
    const path = join(dir, "state.json");
    writeFileAtomic(path, "old", { mode: 0o600 });
    const err = (() => {
      try {
        writeFileAtomic(path, Buffer.alloc(256 << 10, 1), { mode: 0o600 });
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof NoSpaceError, String(err));
    assert.match(err.message, new RegExp(`^write ${dir}/\\.state\\.json\\.\\d+\\.tmp: no space left on device$`));
    assert.equal(readFileSync(path, "utf8"), "old");
    assert.deepEqual(readdirSync(dir), ["state.json"]);
  } finally {
    spawnSync("umount", [dir]);
  }
});
