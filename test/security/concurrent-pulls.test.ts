// Hole (from reading): a content ingest ref held by one writer made a second writer of the same
// ref fail at once with "ref ... locked". Concurrent pulls of one image in one namespace write the
// same blobs under the same refs: ctr retries for as long as it likes, but the daemon's own pull
// (the transfer service) retried three times within 0.7 s and failed whenever the first pull held
// the blob longer than that (any layer that takes a second to download). containerd's store
// waits for the holder instead, as long as the holder is alive. Here the holder is alive while it
// keeps writing: a writer waits for the ref while its holder makes progress.
// Host-side check: four pulls at once of an image whose layer takes ~2 s to download, through
// the transfer service and through ctr, all succeed and the image runs.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { transferPull } from "../../src/client/transfer.ts";
import { gzipLayer } from "../fixtures/layer-tar.ts";
import { type BerthContainerd, CTR, type CtrResult, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { type FakeRegistry, publishImage, startFakeRegistry } from "../helpers/fake-registry.ts";

const skip = process.getuid?.() !== 0 ? "root only" : existsSync(CTR) ? undefined : "needs ctr";
const PULLS = 4;
/** A layer of incompressible bytes served at LAYER_BYTES / 2 per second: about 2 s a download. */
const LAYER_BYTES = 2 << 20;

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

describe("concurrent pulls of one image in one namespace", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: FakeRegistry;
  let ref: string;

  before(async () => {
    d = await startBerthContainerd();
    reg = await startFakeRegistry();
    const busybox = await gzipLayer([{ name: "data", body: randomBytes(LAYER_BYTES) }]);
    publishImage(reg, "slow/image", "1", [busybox]);
    reg.throttle = LAYER_BYTES / 2;
    ref = `${reg.host}/slow/image:1`;
  });

  after(async () => {
    await reg?.stop();
    await d?.cleanup();
  });

  test(`${PULLS} transfer-service pulls at once all succeed`, { timeout: 180_000 }, async () => {
    const ns = "transfer";
    const results = await Promise.allSettled(
      Array.from({ length: PULLS }, () => transferPull(d.address, ref, { namespace: ns, insecureHosts: [reg.host] })),
    );
    const failed = results.flatMap((r, i) => (r.status === "rejected" ? [`pull ${i}: ${String(r.reason)}`] : []));
    assert.deepEqual(failed, []);
    assert.match(ok(await d.ctrAsync(["images", "ls", "-q"], { namespace: ns }), "images ls"), /slow\/image:1/);
    assert.match(ok(await d.ctrAsync(["snapshots", "ls"], { namespace: ns }), "snapshots ls"), /Committed/);
  });

  test(`${PULLS} ctr pulls at once all succeed`, { timeout: 180_000 }, async () => {
    const ns = "ctr";
    const results = await Promise.all(
      Array.from({ length: PULLS }, () =>
        d.ctrAsync(["images", "pull", "--plain-http", ref], { namespace: ns, timeoutMs: 120_000 }),
      ),
    );
    for (const [i, r] of results.entries()) ok(r, `pull ${i}`);
    assert.match(ok(await d.ctrAsync(["images", "ls", "-q"], { namespace: ns }), "images ls"), /slow\/image:1/);
  });
});
