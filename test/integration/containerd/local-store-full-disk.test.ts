// The content store on a full disk (a 1 MiB tmpfs: mounting needs root; the rest of the store is
// unit tested beside src/containerd/content/local-store.ts).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LocalContentStore } from "../../../src/containerd/content/local-store.ts";

test("a full disk fails the write with the data file's name, releases the ref, and the next writer resumes from the disk", async (t) => {
  // A 1 MiB tmpfs: the 16 MiB write buffer takes the chunks at once, the disk refuses later.
  const dir = await mkdtemp(join(tmpdir(), "berth-content-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
  try {
    const store = await LocalContentStore.open(dir);
    const data = Buffer.alloc(2 << 20, 1);
    const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    const w = await store.writer("full", { total: data.length, expected: digest });
    const failed = await (async () => {
      for (let i = 0; i < data.length; i += 64 << 10) await w.write(data.subarray(i, i + (64 << 10)));
      await w.commit(data.length, digest);
    })().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    assert.ok(failed, "the write or the commit failed");
    assert.equal(failed.code, "ENOSPC");
    assert.match(failed.message, /^write \/.*\/ingest\/[0-9a-f]{64}\/data: no space left on device$/);
    await w.close();
    // Not locked: the next writer resumes from what is on disk, not from the lost chunks.
    const again = await store.writer("full", { total: data.length });
    const onDisk = (await stat(failed.message.slice("write ".length, -": no space left on device".length))).size;
    assert.equal(again.offset(), onDisk);
    assert.ok(onDisk < data.length);
    await again.close();
    await store.abort("full");
  } finally {
    spawnSync("umount", [dir]);
  }
});
