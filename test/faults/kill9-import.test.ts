// kill -9 of berth-containerd at random points of `ctr images import` of a five-layer archive
// (blobs written through ingests, the image record, the unpack into snapshots): the daemon
// starts again on the same dirs, everything the metadata references is on disk, the import can
// be done again and gives a complete, unpacked image, and nothing is left once the daemon stops.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { imageKillLoop, writeLayeredArchive } from "../helpers/fault-loop.ts";

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
    await imageKillLoop(t, d, {
      namespace: NS,
      ref: IMAGE,
      command: ["images", "import", archive],
      iterations: 5,
      words: { noun: "import", doing: "importing", done: "imported" },
    });
  });
});
