// Content is shared between namespaces (containerd's default policy): a blob one namespace stored
// is not downloaded again by another, whether the client writes over gRPC, ctr does, or the
// daemon pulls; yet each namespace sees only what it pulled, and deleting it in one leaves the other.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { RemoteContainerd } from "../../../src/client/remote.ts";
import { transferPull } from "../../../src/client/transfer.ts";
import { RegistryClient } from "../../../src/oci/registry/registry-client.ts";
import { pull } from "../../../src/oci/transfer/pull.ts";
import { gzipLayer } from "../../fixtures/layer-tar.ts";
import { type BerthContainerd, startBerthContainerd } from "../../helpers/berth-containerd.ts";
import { type FakeRegistry, publishImage, startFakeRegistry } from "../../helpers/fake-registry.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

describe("content shared between namespaces", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: FakeRegistry;
  let rc: RegistryClient;
  before(async () => {
    d = await startBerthContainerd();
    reg = await startFakeRegistry();
    rc = new RegistryClient({ credentials: () => undefined });
  });
  after(async () => {
    await rc?.close();
    await reg?.stop();
    await d?.cleanup();
  });

  test("a second namespace downloads no blob again", { timeout: 60_000 }, async () => {
    const img = publishImage(reg, "shared/image", "1", [
      await gzipLayer([{ name: "data", body: randomBytes(1 << 20) }]),
    ]);
    const ref = `${reg.host}/shared/image:1`;
    const blobGets = () => reg.requests.filter((q) => q.startsWith("GET") && q.includes("/blobs/")).length;
    const remote = (ns: string) => new RemoteContainerd(d.address, { namespace: ns });

    const first = remote("first");
    await pull(first.ports(), rc, ref, { snapshotter: "overlayfs" });
    const downloaded = blobGets();
    assert.equal(downloaded, 2, "config and layer, once");

    const second = remote("second");
    await pull(second.ports(), rc, ref, { snapshotter: "overlayfs" });
    await transferPull(d.address, ref, { namespace: "third" });
    const ctr = await d.ctrAsync(["images", "pull", "--plain-http", ref], { namespace: "fourth" });
    assert.equal(ctr.status, 0, ctr.stderr);
    assert.equal(blobGets(), downloaded, "no blob fetched again");

    assert.ok(await second.ports().content.info(img.layers[0]!.digest), "the second namespace sees the layer");
    assert.equal(
      await remote("elsewhere").ports().content.info(img.layers[0]!.digest),
      undefined,
      "an unrelated one does not",
    );
    const rm = await d.ctrAsync(["images", "rm", "--sync", ref], { namespace: "first" });
    assert.equal(rm.status, 0, rm.stderr);
    assert.equal(await first.ports().content.info(img.layers[0]!.digest), undefined, "gone from the first namespace");
    assert.ok(await second.ports().content.info(img.layers[0]!.digest), "still there for the second namespace");
    for (const r of [first, second]) r.close();
  });
});
