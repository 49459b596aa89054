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
  metaDb,
  refusedKeepingAll,
  repair,
  repaired,
  skip,
  tryStart,
  usableAgain,
  withScene,
} from "./database-faults.ts";

describe("a missing meta.db", { skip }, () => {
  test("deleted: refused, nothing deleted, rebuilt by repair", { timeout: 120_000 }, async (t) => {
    await withScene(t, async (s) => {
      const { d, pid, before } = s;
      for (const suffix of ["", "-wal", "-shm"]) rmSync(`${metaDb(d)}${suffix}`, { force: true });
      t.diagnostic(await refusedKeepingAll(s, metaDb(d)));

      const dry = repair(d, ["--dry-run"]);
      assert.equal(dry.status, 0, dry.out);
      assert.match(dry.out, /dry run/i);
      assertRefused(await tryStart(d), metaDb(d));

      assert.match(repaired(t, d), /lease/);
      assert.deepEqual(lostSince(before, d.root), []);
      await usableAgain(d, { reimport: true });
      assert.deepEqual(checkReferences(d.root).problems, []);
      await endC1(d, pid);
    });
  });
});
