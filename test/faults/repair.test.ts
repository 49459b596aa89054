// `berth-containerd repair` itself, and the daemon beside a database that is only suspect: repair
// never runs beside a daemon (it takes the root's lock), has nothing to do on a healthy root, and
// a row whose blob was deleted by hand (one dangling reference, not a wholesale disagreement) lets
// the daemon start — but while the database is suspect no collection deletes a file no row
// vouches for, until repair drops the dangling row and the image is re-imported.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, test } from "node:test";
import { BUSYBOX_IMAGE, startWithBusybox } from "../helpers/berth-containerd.ts";
import { checkReferences } from "../helpers/invariants.ts";
import { metaDb, ok, repair, skip } from "./database-faults.ts";

const blobDir = (root: string) => join(root, "io.containerd.content.v1.content", "blobs", "sha256");

describe("berth-containerd repair", { skip }, () => {
  test("refused beside a running daemon; nothing to do on a healthy root", { timeout: 120_000 }, async (t) => {
    const d = await startWithBusybox();
    try {
      const beside = repair(d);
      assert.notEqual(beside.status, 0, beside.out);
      assert.match(beside.out, /is in use by berth-containerd pid \d+/);
      await d.stop();
      const healthy = repair(d);
      t.diagnostic(healthy.out);
      assert.equal(healthy.status, 0, healthy.out);
      assert.match(healthy.out, /nothing to repair/);
      assert.equal(existsSync(join(d.root, "lost+found")), false);
      await d.start();
      ok(await d.ctrAsync(["run", "--rm", BUSYBOX_IMAGE, "r1", "true"]), "run after a no-op repair");
    } finally {
      await d.cleanup();
    }
  });

  test("a healthy root's crash leftovers are still swept at start", { timeout: 120_000 }, async () => {
    const d = await startWithBusybox();
    try {
      await d.stop();
      // What a kill -9 leaves: a prepare's directory filled and renamed but whose row was never
      // committed, one still being filled, and a blob committed without its row.
      const snaps = join(d.root, "io.containerd.snapshotter.v1.overlayfs", "snapshots");
      mkdirSync(join(snaps, "99", "fs"), { recursive: true });
      mkdirSync(join(snaps, "new-abc123", "fs"), { recursive: true });
      const data = "a blob committed without its row";
      const stray = createHash("sha256").update(data).digest("hex");
      writeFileSync(join(blobDir(d.root), stray), data);
      await d.start();
      assert.equal(existsSync(join(snaps, "99")), false);
      assert.equal(existsSync(join(snaps, "new-abc123")), false);
      assert.equal(existsSync(join(blobDir(d.root), stray)), false);
      ok(await d.ctrAsync(["run", "--rm", BUSYBOX_IMAGE, "r0", "true"]), "run after the sweep");
    } finally {
      await d.cleanup();
    }
  });

  test("one blob deleted by hand: the daemon starts but deletes no unvouched file; repair reconciles", {
    timeout: 120_000,
  }, async (t) => {
    const d = await startWithBusybox();
    try {
      await d.stop();
      // The image's config blob: a row in meta.db whose file is gone.
      const db = new DatabaseSync(metaDb(d), { readOnly: true });
      const target = JSON.parse((db.prepare("SELECT target FROM images").get() as { target: string }).target) as {
        digest: string;
      };
      db.close();
      const blobs = readdirSync(blobDir(d.root));
      const manifest = target.digest.slice(7);
      assert.ok(blobs.includes(manifest));
      const victim = blobs.find((b) => b !== manifest)!;
      rmSync(join(blobDir(d.root), victim));

      await d.start();
      // Removing the image makes its blobs and layer garbage: while the database is suspect, the
      // collection deletes their rows but keeps every file.
      ok(await d.ctrAsync(["images", "rm", "--sync", BUSYBOX_IMAGE]), "images rm");
      await new Promise((r) => setTimeout(r, 500));
      for (const b of blobs.filter((b) => b !== victim)) assert.ok(existsSync(join(blobDir(d.root), b)), `blob ${b}`);
      const log = await d.log();
      assert.match(log, /garbage collection deleted rows but kept every file/);
      assert.match(log, new RegExp(`content row \\(default, sha256:${victim}\\) has no blob`));
      await d.stop();

      const r = repair(d);
      t.diagnostic(r.out);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /adopted blob/);
      await d.start();
      ok(await d.ctrAsync(["images", "import", join(d.dir, "busybox.tar")]), "re-import");
      ok(await d.ctrAsync(["run", "--rm", BUSYBOX_IMAGE, "r2", "true"]), "run after repair");
      assert.deepEqual(checkReferences(d.root).problems, []);
    } finally {
      await d.cleanup();
    }
  });
});
