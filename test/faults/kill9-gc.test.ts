// kill -9 of berth-containerd at random points of a garbage collection, started by each thing
// that starts one in turn: an image removal (`ctr images rm --sync`), a lease deletion (`ctr
// leases rm --sync` of the lease that alone held the image's blobs and snapshots) and a content
// removal (`ctr content rm` of a gc.root manifest: the collection is scheduled after the answer).
// After the restart the metadata references only what is on disk, the removal can be redone and
// the next collection frees all of it (no blob, snapshot row or snapshot directory left), and the
// image can be imported again.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RemoteContainerd } from "../../src/client/remote.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import {
  assertCleanAfterStop,
  assertReferences,
  ctrAndKill,
  faultRun,
  killPoint,
  type LayeredImage,
  restart,
  spareSockets,
  writeLayeredArchive,
} from "../helpers/fault-loop.ts";
import { checkReferences } from "../helpers/invariants.ts";

const NS = "faults";
const IMAGE = "docker.io/berth/faults-layered:1";
const TRIGGERS = ["image removal", "lease deletion", "content removal"] as const;
type Trigger = (typeof TRIGGERS)[number];
const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

describe("kill -9 at random points of a garbage collection", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let archive: string;
  let image: LayeredImage;
  before(async () => {
    d = await startBerthContainerd();
    archive = join(d.dir, "layered.tar");
    image = await writeLayeredArchive(archive, { name: IMAGE, extraLayers: 4, layerBytes: 2 << 20 });
  });
  after(async () => {
    await d?.cleanup();
  });

  test("the daemon restarts consistent, the collection finishes, the image imports again", {
    timeout: 600_000,
  }, async (t) => {
    const { random, n } = faultRun(t, 9);
    const ok = async (args: string[], what: string) => {
      const r = await d.ctrAsync(args, { namespace: NS });
      assert.equal(r.status, 0, `${what}: ctr ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    const blobs = () => [image.manifestDigest, image.configDigest, ...image.layerDigests];

    /** Imports the image and arranges for `trigger` to be what frees it; returns the ctr commands that do. */
    const arrange = async (trigger: Trigger, i: number, what: string): Promise<string[][]> => {
      await ok(["images", "import", archive], what);
      if (trigger === "image removal") return [["images", "rm", "--sync", IMAGE]];
      if (trigger === "content removal") {
        await ok(["content", "label", image.manifestDigest, "containerd.io/gc.root=faults"], what);
        await ok(["images", "rm", "--sync", IMAGE], what);
        return [["content", "rm", image.manifestDigest]];
      }
      const lease = `hold${i}`;
      await ok(["leases", "create", "--id", lease, "--expires", "0"], what);
      const keys = (await ok(["snapshots", "ls"], what))
        .split("\n")
        .slice(1)
        .map((l) => l.split(/\s+/)[0])
        .filter((k): k is string => !!k);
      assert.ok(keys.length >= 5, `${what}: ${keys.length} snapshots after the import`);
      const rc = new RemoteContainerd(d.address, { namespace: NS });
      try {
        for (const digest of blobs())
          await rc.leases.addResource({ id: lease, resource: { id: digest, type: "content" } });
        for (const key of keys) {
          await rc.leases.addResource({ id: lease, resource: { id: key, type: "snapshots/overlayfs" } });
        }
      } finally {
        rc.close();
      }
      await ok(["images", "rm", "--sync", IMAGE], what);
      const held = checkReferences(d.root).counts;
      assert.ok(held.blobs >= blobs().length && held.snapshotRows >= 5, `${what}: the lease holds nothing`);
      return [["leases", "rm", "--sync", lease]];
    };
    /** Redoes the removal (what it removed may be gone already), then collects synchronously. */
    const finish = async (commands: string[][], i: number, what: string) => {
      for (const c of commands) {
        const r = await d.ctrAsync(c, { namespace: NS });
        assert.ok(r.status === 0 || /not found/.test(r.stderr), `${what}: redoing ctr ${c.join(" ")}: ${r.stderr}`);
      }
      // An empty lease's synchronous deletion runs a full collection.
      await ok(["leases", "create", "--id", `sync${i}`], what);
      await ok(["leases", "rm", "--sync", `sync${i}`], what);
    };

    // The window: an undisturbed synchronous collection of the whole image, plus a margin.
    const calibrate = await arrange("image removal", -1, "calibration");
    const t0 = Date.now();
    await ok(calibrate[0]!, "calibration");
    const gcMs = Date.now() - t0;
    // A content removal answers first and collects 100 ms later (the collector's schedule()).
    const windowOf = (trigger: Trigger) => Math.round(gcMs * 1.2) + (trigger === "content removal" ? 150 : 30);
    t.diagnostic(
      `an undisturbed ctr images rm --sync took ${gcMs} ms; kills fall in 0-${windowOf("image removal")} ms (content removal: 0-${windowOf("content removal")} ms)`,
    );

    const sockets = new Set<string>(spareSockets(d));
    const during: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const it0 = Date.now();
      const trigger = TRIGGERS[i % TRIGGERS.length]!;
      const commands = await arrange(trigger, i, `iteration ${i} (${trigger}): setting up`);
      const delay = Math.floor(random() * windowOf(trigger));
      const k = await ctrAndKill(d, commands, delay, { namespace: NS });
      if (k.during) during[trigger] = (during[trigger] ?? 0) + 1;
      const what = `iteration ${i}: kill -9 ${delay} ms into the ${trigger} (${killPoint(k)})`;
      const restartMs = await restart(d, what);
      for (const s of spareSockets(d)) sockets.add(s);
      assertReferences(d, what);

      await finish(commands, i, what);
      const counts = assertReferences(d, `${what}, then collected`);
      const left = blobs().filter((b) =>
        existsSync(join(d.root, "io.containerd.content.v1.content/blobs/sha256", b.slice(7))),
      );
      assert.deepEqual(left, [], `${what}: blobs nothing references are still on disk after a collection`);
      assert.equal(counts.snapshotRows, 0, `${what}: snapshot rows left after a collection`);
      assert.equal(counts.backendSnapshots, 0, `${what}: backend snapshots left after a collection`);
      assert.equal(counts.snapshotDirs, 0, `${what}: snapshot directories left after a collection`);
      t.diagnostic(`${what}: restarted in ${restartMs} ms; the iteration took ${Date.now() - it0} ms`);
    }
    t.diagnostic(
      `${n} iterations (${TRIGGERS.join(", ")} in turn); kills during the command: ${JSON.stringify(during)}, the rest after it ended`,
    );
    await ok(["images", "import", archive], "at the end");
    await assertCleanAfterStop(d, { namespace: NS, ids: [], sockets });
  });
});
