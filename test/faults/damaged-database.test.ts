// A damaged metadata database (meta.db): truncated to nothing, garbage over its header, and four
// bytes of one snapshot row changed. Before, the start-up collection trusted whatever the file
// said: an empty schema made it delete every blob and snapshot directory (the running container's
// layers too), and a changed backend key made it delete that layer. Now the daemon refuses to
// start, naming the file and the repair command, deletes nothing, and `berth-containerd repair`
// moves the damaged file aside and rebuilds what the disk still holds.
import assert from "node:assert/strict";
import { closeSync, openSync, truncateSync, writeSync } from "node:fs";
import { describe, test } from "node:test";
import { checkReferences } from "../helpers/invariants.ts";
import {
  endC1,
  layerRow,
  lostSince,
  lsInContainer,
  metaDb,
  offsetsOf,
  refusedKeepingAll,
  repaired,
  skip,
  usableAgain,
  withScene,
} from "./database-faults.ts";

describe("a damaged meta.db", { skip }, () => {
  test("truncated to 0 bytes: refused, nothing deleted, repaired", { timeout: 120_000 }, async (t) => {
    await withScene(t, async (s) => {
      const { d, pid, before } = s;
      truncateSync(metaDb(d), 0);
      t.diagnostic(await refusedKeepingAll(s, metaDb(d), "blobs and snapshot directories are all still there"));

      repaired(t, d);
      assert.deepEqual(lostSince(before, d.root), [], "repair moves, never deletes");
      await usableAgain(d, { reimport: true });
      assert.deepEqual(checkReferences(d.root).problems, []);
      assert.match(lsInContainer(pid), /\bbin\b/);
      await endC1(d, pid);
    });
  });

  test("garbage over the header: refused naming the file, repaired", { timeout: 120_000 }, async (t) => {
    await withScene(t, async (s) => {
      const { d, pid, before } = s;
      const fd = openSync(metaDb(d), "r+");
      writeSync(fd, Buffer.from("this is no sqlite header at all!"), 0, 32, 0);
      closeSync(fd);
      assert.match(await refusedKeepingAll(s, metaDb(d)), /not a database/);

      repaired(t, d);
      assert.deepEqual(lostSince(before, d.root), []);
      await usableAgain(d, { reimport: true });
      await endC1(d, pid);
    });
  });

  test("4 bytes of a snapshot row changed: refused, the layer kept, repaired", { timeout: 120_000 }, async (t) => {
    await withScene(t, async (s) => {
      const { d, pid, before } = s;
      // The table's record holds the key and the backend key side by side (the index has only
      // the backend key): change the backend key's "sha2" to "XXXX" in the row itself.
      const { key, backendKey } = layerRow(d);
      const at = offsetsOf(metaDb(d), `${key}${backendKey}`);
      assert.equal(at.length, 1, `the row's bytes are found once in ${metaDb(d)}`);
      const fd = openSync(metaDb(d), "r+");
      writeSync(fd, Buffer.from("XXXX"), 0, 4, at[0]! + key.length + backendKey.indexOf("sha2"));
      closeSync(fd);

      t.diagnostic(await refusedKeepingAll(s, metaDb(d), "the layer is still there"));

      repaired(t, d);
      assert.deepEqual(lostSince(before, d.root), []);
      // The image record survives the salvage: it runs without a re-import.
      await usableAgain(d, { reimport: false });
      assert.deepEqual(checkReferences(d.root).problems, []);
      await endC1(d, pid);
    });
  });
});
