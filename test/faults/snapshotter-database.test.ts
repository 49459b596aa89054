// A damaged snapshotter database: the overlayfs snapshotter's metadata.db truncated to 0 bytes.
// Before, its start-up cleanup deleted every snapshot directory no row owned: all of them,
// including the layers under a running container. Now the daemon refuses, naming the file; repair
// moves the file and the directories it can no longer vouch for into lost+found (the running
// container keeps reading its layers: they are moved, not deleted), drops the namespaces'
// snapshot rows that pointed into it, and the image unpacks again from the content store.
import assert from "node:assert/strict";
import { truncateSync } from "node:fs";
import { describe, test } from "node:test";
import { checkReferences } from "../helpers/invariants.ts";
import {
  endC1,
  lostSince,
  lsInContainer,
  overlayDb,
  refusedKeepingAll,
  repaired,
  skip,
  usableAgain,
  withScene,
} from "./database-faults.ts";

describe("a truncated snapshotter database", { skip }, () => {
  test("overlayfs metadata.db at 0 bytes: refused, directories kept, repaired", { timeout: 120_000 }, async (t) => {
    await withScene(t, async (s) => {
      const { d, pid, before } = s;
      truncateSync(overlayDb(d), 0);
      t.diagnostic(await refusedKeepingAll(s, overlayDb(d), "every snapshot directory is still there"));

      assert.match(repaired(t, d), /lost\+found/);
      assert.deepEqual(lostSince(before, d.root), []);
      assert.match(lsInContainer(pid), /\bbin\b/);
      await usableAgain(d, { reimport: false });
      // c1's record named the snapshot that could not be vouched for: it is removed as usual.
      await endC1(d, pid);
      assert.deepEqual(checkReferences(d.root).problems, []);
    });
  });
});
