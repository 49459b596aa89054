import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { renameDurably, writeFileAtomic } from "./atomic-write.ts";

// A full disk: test/integration/common/atomic-write.test.ts (mounting a tmpfs needs root).

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-atomic-"));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "replaces the file whole, with exactly the mode given, and leaves no temp file",
  withDir((dir) => {
    const path = join(dir, "state.json");
    writeFileSync(path, "old", { mode: 0o644 });
    const umask = process.umask(0o077);
    try {
      writeFileAtomic(path, "new", { mode: 0o644 });
    } finally {
      process.umask(umask);
    }
    assert.equal(readFileSync(path, "utf8"), "new");
    assert.equal(statSync(path).mode & 0o777, 0o644, "the umask took nothing away");
    writeFileAtomic(path, Buffer.from("bytes"), { mode: 0o600, durable: false });
    assert.equal(readFileSync(path, "utf8"), "bytes");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ["state.json"]);
  }),
);

test(
  "a temp file left by a writer that died is replaced, not appended to",
  withDir((dir) => {
    const path = join(dir, "address");
    writeFileSync(join(dir, `.address.${process.pid}.tmp`), "half an addr");
    writeFileAtomic(path, "unix:///run/x", { mode: 0o644 });
    assert.equal(readFileSync(path, "utf8"), "unix:///run/x");
    assert.deepEqual(readdirSync(dir), ["address"]);
  }),
);

test(
  "a missing directory is an error naming the file",
  withDir((dir) => {
    assert.throws(
      () => writeFileAtomic(join(dir, "gone", "f"), "x", { mode: 0o600 }),
      (e: NodeJS.ErrnoException) => e.code === "ENOENT" && String(e.path).startsWith(join(dir, "gone")),
    );
  }),
);

test(
  "renameDurably moves a file into place",
  withDir(async (dir) => {
    writeFileSync(join(dir, "data"), "blob");
    await renameDurably(join(dir, "data"), join(dir, "blob"));
    assert.deepEqual(readdirSync(dir), ["blob"]);
    assert.equal(readFileSync(join(dir, "blob"), "utf8"), "blob");
  }),
);
