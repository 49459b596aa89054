// kill -9 of berth-containerd at random points of `ctr images import` of a five-layer archive
// (blobs written through ingests, the image record, the unpack into snapshots): the daemon
// starts again on the same dirs, everything the metadata references is on disk, the import can
// be done again and gives a complete, unpacked image, and nothing is left once the daemon stops.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import {
  assertCleanAfterStop,
  assertReferences,
  ctrAndKill,
  faultIterations,
  faultSeed,
  killPoint,
  removeLeases,
  restart,
  seededRandom,
  spareSockets,
  timedCtr,
  writeLayeredArchive,
} from "../helpers/fault-loop.ts";

const NS = "faults";
const IMAGE = "docker.io/berth/faults-layered:1";
const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

describe("kill -9 at random points of an import", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let archive: string;
  before(async () => {
    d = await startBerthContainerd();
    archive = join(d.dir, "layered.tar");
    await writeLayeredArchive(archive, { name: IMAGE, extraLayers: 4, layerBytes: 3 << 20 });
  });
  after(async () => {
    await d?.cleanup();
  });

  test("the daemon restarts consistent and the import completes", { timeout: 600_000 }, async (t) => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const n = faultIterations(5);
    t.diagnostic(`seed ${seed} (BERTH_FAULT_SEED=${seed} replays it), ${n} iterations`);
    const importArchive = ["images", "import", archive];
    /** Removes the image and any lease a killed import left; then nothing of it may remain. */
    const removeImage = async (what: string) => {
      const r = await d.ctrAsync(["images", "rm", "--sync", IMAGE], { namespace: NS });
      assert.ok(r.status === 0 || /not found/.test(r.stderr), `${what}: ctr images rm: ${r.stderr}`);
      leasesLeft += await removeLeases(d, NS, what);
      const c = assertReferences(d, `${what}, then removed`);
      assert.deepEqual(
        { blobs: c.blobs, snapshotRows: c.snapshotRows, snapshotDirs: c.snapshotDirs },
        { blobs: 0, snapshotRows: 0, snapshotDirs: 0 },
        `${what}: left on disk once the image and every lease are gone`,
      );
    };
    let leasesLeft = 0;

    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const base = await timedCtr(d, importArchive, NS);
      assert.equal(base.r.status, 0, base.r.stderr);
      times.push(base.ms);
      await removeImage("calibration");
    }
    const windowMs = Math.round(Math.min(...times) * 1.1) + 50;
    t.diagnostic(`undisturbed imports took ${times.join(", ")} ms; kills fall in 0-${windowMs} ms`);

    const sockets = new Set<string>(spareSockets(d));
    let during = 0;
    for (let i = 0; i < n; i++) {
      const it0 = Date.now();
      const delay = Math.floor(random() * windowMs);
      const k = await ctrAndKill(d, importArchive, delay, { namespace: NS });
      if (k.during) during++;
      const what = `iteration ${i}: kill -9 ${delay} ms into the import (${killPoint(k)})`;
      const restartMs = await restart(d, what);
      for (const s of spareSockets(d)) sockets.add(s);
      assertReferences(d, what);

      const again = await d.ctrAsync(importArchive, { namespace: NS });
      assert.equal(again.status, 0, `${what}: importing again: ${again.stderr}`);
      const check = await d.ctrAsync(["images", "check"], { namespace: NS });
      assert.match(check.stdout, /complete \((\d+)\/\1\)/, `${what}: images check: ${check.stdout}${check.stderr}`);
      assert.doesNotMatch(check.stdout, /incomplete|missing/, `${what}: images check: ${check.stdout}`);
      const counts = assertReferences(d, `${what}, then imported again`);
      assert.ok(counts.snapshotRows >= 5, `${what}: ${counts.snapshotRows} snapshot rows after the import, not 5`);
      await removeImage(what);
      t.diagnostic(`${what}: restarted in ${restartMs} ms; the iteration took ${Date.now() - it0} ms`);
    }
    t.diagnostic(
      `${n} iterations: ${during} kills during the import, ${n - during} after it ended; ${leasesLeft} leases left by ctr removed`,
    );
    await assertCleanAfterStop(d, { namespace: NS, ids: [], sockets });
  });
});
