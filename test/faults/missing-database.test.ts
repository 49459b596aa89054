// A lost metadata database: meta.db (and its WAL) deleted while the content store and the
// snapshotters still hold an image and a running container's layers. Before, the daemon made a
// new empty database and its start-up collection deleted every blob and snapshot directory. Now
// it refuses (an empty database beside a full disk is a wholesale disagreement), and repair
// rebuilds content and snapshot rows from the disk under a lease, so a re-import reuses them.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { describe, test } from "node:test";
import { checkReferences } from "../helpers/invariants.ts";
import {
  assertRefused,
  endC1,
  lostSince,
  lsInContainer,
  metaDb,
  repair,
  scene,
  skip,
  tryStart,
  usableAgain,
} from "./database-faults.ts";

describe("a missing meta.db", { skip }, () => {
  test("deleted: refused, nothing deleted, rebuilt by repair", { timeout: 120_000 }, async (t) => {
    const { d, pid, before } = await scene(t);
    try {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${metaDb(d)}${suffix}`, { force: true });
      const refused = await tryStart(d);
      assert.deepEqual(lostSince(before, d.root), []);
      assert.match(lsInContainer(pid), /\bbin\b/);
      t.diagnostic(assertRefused(refused, metaDb(d)));

      const dry = repair(d, ["--dry-run"]);
      assert.equal(dry.status, 0, dry.out);
      assert.match(dry.out, /dry run/i);
      assertRefused(await tryStart(d), metaDb(d));

      const r = repair(d);
      t.diagnostic(r.out);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /lease/);
      assert.deepEqual(lostSince(before, d.root), []);
      await usableAgain(d, { reimport: true });
      assert.deepEqual(checkReferences(d.root).problems, []);
      await endC1(d, pid);
    } finally {
      await d.cleanup();
    }
  });
});
