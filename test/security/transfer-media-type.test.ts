// Hole: the transfer path unpacked layers of any media type. `ctr pull` of an image whose manifest
// lists a layer with a media type that is not a layer's is refused at Diff.Apply ("unsupported
// diff media type: ...: not implemented", as containerd's applier refuses it), but the daemon's
// own transfer service applied the blob as a tar without asking, staging it ahead of the chain,
// and stored the image with its snapshots. Now both paths go through one check.
// Host-side check: the transfer pull fails with the same error as ctr's pull, and leaves no image,
// no snapshot and nothing in the overlay snapshotter's staging directory.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { transferPull } from "../../src/client/transfer.ts";
import { gzipLayer } from "../fixtures/layer-tar.ts";
import { type BerthContainerd, retryUntil, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { type FakeRegistry, publishImage, startFakeRegistry } from "../helpers/fake-registry.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;
const NOT_A_LAYER = "application/vnd.example.not-a-layer";
const REFUSED = /unsupported diff media type: application\/vnd\.example\.not-a-layer: not implemented/;

describe("the transfer path refuses layers that are not layers, as ctr's pull does", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: FakeRegistry;
  before(async () => {
    d = await startBerthContainerd();
    reg = await startFakeRegistry();
    // A real layer tar under a media type that is not a layer's, above an ordinary bottom layer
    // (so both the plain bottom and an overlay layer above it go through staging).
    const bottom = await gzipLayer([{ name: "etc/os-release", body: "ID=test\n" }]);
    const odd = await gzipLayer([{ name: "planted", body: "applied as a layer" }]);
    publishImage(reg, "media/odd", "1", [bottom, { ...odd, mediaType: NOT_A_LAYER }]);
    publishImage(reg, "media/odd-bottom", "1", [{ ...odd, mediaType: NOT_A_LAYER }]);
  });
  after(async () => {
    await reg?.stop();
    await d?.cleanup();
  });

  const nothingLeft = async (ns: string) => {
    assert.equal(d.ctr(["images", "ls", "-q"], { namespace: ns }).stdout.trim(), "", "no image");
    // The bottom layer's snapshot was committed before the odd layer was refused; it goes with the
    // pull's lease, at the collection that the lease's release schedules.
    const snapshots = async () => d.ctr(["snapshots", "ls"], { namespace: ns }).stdout.trim().split("\n").slice(1);
    assert.deepEqual(await retryUntil(snapshots, (s) => s.length === 0), [], "no snapshot");
    const staging = join(d.root, "io.containerd.snapshotter.v1.overlayfs", "staging");
    assert.deepEqual(existsSync(staging) ? await readdir(staging) : [], [], "nothing staged");
  };

  for (const repo of ["media/odd", "media/odd-bottom"]) {
    test(`${repo}: ctr pull and the transfer service refuse it alike`, { timeout: 120_000 }, async () => {
      const ref = `${reg.host}/${repo}:1`;
      const ctr = await d.ctrAsync(["images", "pull", "--plain-http", ref], { namespace: "ctr" });
      assert.notEqual(ctr.status, 0, "ctr's pull is refused");
      assert.match(ctr.stderr, REFUSED);

      const ns = `transfer-${repo.replace("/", "-")}`;
      await assert.rejects(transferPull(d.address, ref, { namespace: ns }), (e: Error & { kind?: string }) => {
        assert.match(e.message, REFUSED);
        assert.equal(e.kind, "not-implemented", e.message);
        return true;
      });
      await nothingLeft(ns);
    });
  }
});
