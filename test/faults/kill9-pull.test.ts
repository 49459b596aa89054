// kill -9 of berth-containerd at random points of `ctr images pull` (a five-layer image from a
// local docker-registry): the daemon starts again on the same dirs, everything the metadata
// references is on disk, the pull can be done again and gives a complete, unpacked image, and
// nothing (mounts, shims, sockets) is left once the daemon stops.
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeTempDir } from "../fixtures/busybox.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { imageKillLoop, writeLayeredArchive } from "../helpers/fault-loop.ts";
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
    await imageKillLoop(t, d, {
      namespace: NS,
      ref: `${reg.host}/faults/layered:1`,
      command: ["images", "pull", "--plain-http", `${reg.host}/faults/layered:1`],
      iterations: 6,
      words: { noun: "pull", doing: "pulling", done: "pulled" },
    });
  });
});
