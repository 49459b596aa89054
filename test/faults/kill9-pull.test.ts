// kill -9 of berth-containerd at random points of `ctr images pull` (a five-layer image from a
// local docker-registry): the daemon starts again on the same dirs, everything the metadata
// references is on disk, the pull can be done again and gives a complete, unpacked image, and
// nothing (mounts, shims, sockets) is left once the daemon stops.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeTempDir } from "../fixtures/busybox.ts";
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
import { type LocalRegistry, REGISTRY_BINARY, seedImage, startRegistry } from "../helpers/local-registry.ts";

const NS = "faults";
const skip =
  process.getuid?.() !== 0
    ? "needs root"
    : !existsSync("/usr/bin/ctr")
      ? "ctr not installed"
      : !existsSync(REGISTRY_BINARY)
        ? "docker-registry not installed"
        : undefined;

describe("kill -9 at random points of a pull", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: LocalRegistry;
  let work: string;
  before(async () => {
    work = await makeTempDir("berth-kill9-pull-");
    reg = await startRegistry();
    const archive = join(work, "layered.tar");
    await writeLayeredArchive(archive, { name: "faults/layered:1", extraLayers: 4, layerBytes: 3 << 20 });
    await seedImage(reg, archive, "faults/layered:1");
    d = await startBerthContainerd();
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test("the daemon restarts consistent and the pull completes", { timeout: 600_000 }, async (t) => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const n = faultIterations(6);
    t.diagnostic(`seed ${seed} (BERTH_FAULT_SEED=${seed} replays it), ${n} iterations`);
    const ref = `${reg.host}/faults/layered:1`;
    const pull = ["images", "pull", "--plain-http", ref];
    /** Removes the image and any lease a killed pull left; then nothing of it may remain. */
    const removeImage = async (what: string) => {
      const r = await d.ctrAsync(["images", "rm", "--sync", ref], { namespace: NS });
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

    // The window the kills are spread over: an undisturbed pull and its unpack (the faster of two:
    // the first also warms the registry), plus a margin for what follows the answer.
    const times: number[] = [];
    for (let i = 0; i < 2; i++) {
      const base = await timedCtr(d, pull, NS);
      assert.equal(base.r.status, 0, base.r.stderr);
      times.push(base.ms);
      await removeImage("calibration");
    }
    const windowMs = Math.round(Math.min(...times) * 1.1) + 50;
    t.diagnostic(`undisturbed pulls took ${times.join(", ")} ms; kills fall in 0-${windowMs} ms`);

    const sockets = new Set<string>(spareSockets(d));
    let during = 0;
    for (let i = 0; i < n; i++) {
      const it0 = Date.now();
      const delay = Math.floor(random() * windowMs);
      const k = await ctrAndKill(d, pull, delay, { namespace: NS });
      if (k.during) during++;
      const what = `iteration ${i}: kill -9 ${delay} ms into the pull (${killPoint(k)})`;
      const restartMs = await restart(d, what);
      for (const s of spareSockets(d)) sockets.add(s);
      assertReferences(d, what);

      const again = await d.ctrAsync(pull, { namespace: NS });
      assert.equal(again.status, 0, `${what}: pulling again: ${again.stderr}`);
      const check = await d.ctrAsync(["images", "check"], { namespace: NS });
      assert.match(check.stdout, /complete \((\d+)\/\1\)/, `${what}: images check: ${check.stdout}${check.stderr}`);
      assert.doesNotMatch(check.stdout, /incomplete|missing/, `${what}: images check: ${check.stdout}`);
      const counts = assertReferences(d, `${what}, then pulled again`);
      // The unpacked chain: one committed snapshot per layer.
      assert.ok(counts.snapshotRows >= 5, `${what}: ${counts.snapshotRows} snapshot rows after the pull, not 5`);
      await removeImage(what);
      t.diagnostic(`${what}: restarted in ${restartMs} ms; the iteration took ${Date.now() - it0} ms`);
    }
    t.diagnostic(
      `${n} iterations: ${during} kills during the pull, ${n - during} after it ended; ${leasesLeft} leases left by ctr removed`,
    );
    await assertCleanAfterStop(d, { namespace: NS, ids: [], sockets });
  });
});
