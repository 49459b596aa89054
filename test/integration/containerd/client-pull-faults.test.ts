// Bad input on the pull path through berth's own client library (the ctr version of these cases is
// test/interop/ctr-pull-faults.test.ts): each fault gives a clear typed error, leaves no image and
// no snapshot, and the pull succeeds once the fault is gone. A connection dropped mid-blob leaves
// its bytes in the ingest, and the pull asks the registry only for the rest.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { RemoteContainerd } from "../../../src/client/remote.ts";
import { RegistryClient } from "../../../src/oci/registry/registry-client.ts";
import { pull } from "../../../src/oci/transfer/pull.ts";
import { gzipLayer } from "../../fixtures/layer-tar.ts";
import { type BerthContainerd, startBerthContainerd } from "../../helpers/berth-containerd.ts";
import { type FakeRegistry, publishImage, startFakeRegistry } from "../../helpers/fake-registry.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

describe("client pull faults", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: FakeRegistry;
  let rc: RegistryClient;
  const remotes: RemoteContainerd[] = [];
  before(async () => {
    d = await startBerthContainerd();
    reg = await startFakeRegistry();
    rc = new RegistryClient({ credentials: () => undefined, retries: 2 });
  });
  after(async () => {
    for (const r of remotes) r.close();
    await rc?.close();
    await reg?.stop();
    await d?.cleanup();
  });
  const ports = (ns: string) => {
    const r = new RemoteContainerd(d.address, { namespace: ns });
    remotes.push(r);
    return r.ports();
  };
  const nothingLeft = async (ns: string) => {
    assert.deepEqual(await ports(ns).images.list(), [], "no image");
    assert.deepEqual(
      d.ctr(["snapshots", "ls"], { namespace: ns }).stdout.trim().split("\n").slice(1),
      [],
      "no snapshot",
    );
  };
  const go = (ns: string, ref: string) => pull(ports(ns), rc, `${reg.host}/${ref}`, { snapshotter: "overlayfs" });

  test("wrong digest: refused, then the retry succeeds", { timeout: 60_000 }, async () => {
    const l = await gzipLayer([{ name: "f", body: Buffer.from("x") }]);
    const img = publishImage(reg, "c/digest", "1", [l]);
    reg.faults.set(img.layers[0]!.digest, { replaceWith: randomBytes(l.blob.length), times: 1 });
    await assert.rejects(
      go("c-digest", "c/digest:1"),
      (e: Error & { kind?: string }) => e.kind === "failed-precondition" && /unexpected digest/.test(e.message),
    );
    await nothingLeft("c-digest");
    const ok = await go("c-digest", "c/digest:1");
    assert.equal(ok.target.digest, img.digest);
  });

  test("a connection dropped mid-blob: the pull resumes from what the ingest holds (Range)", {
    timeout: 60_000,
  }, async () => {
    const l = await gzipLayer([{ name: "big", body: randomBytes(2 << 20) }]);
    const img = publishImage(reg, "c/drop", "1", [l]);
    reg.faults.set(img.layers[0]!.digest, { dropAfter: 700_000, times: 1 });
    reg.requests.length = 0;
    await go("c-drop", "c/drop:1");
    const asks = reg.requests.filter((q) => q.includes(img.layers[0]!.digest));
    assert.ok(
      asks.some((q) => /bytes=[1-9]\d*-/.test(q)),
      `the rest was asked for with Range: ${asks.join(" | ")}`,
    );
    assert.equal((await ports("c-drop").images.list()).length, 1);
  });

  test("path traversal in a layer: refused, no image, no snapshot", { timeout: 60_000 }, async () => {
    const l = await gzipLayer([{ name: "../../escape", body: Buffer.from("x") }]);
    publishImage(reg, "c/traversal", "1", [l]);
    await assert.rejects(go("c-trav", "c/traversal:1"), /escape|outside|\.\./);
    await nothingLeft("c-trav");
  });

  test("unknown manifest media type: refused by name, nothing recorded", { timeout: 60_000 }, async () => {
    const l = await gzipLayer([{ name: "f" }]);
    publishImage(reg, "c/media", "1", [l], { manifestMediaType: "application/vnd.example.unknown+json" });
    await assert.rejects(
      go("c-media", "c/media:1"),
      /unsupported manifest media type application\/vnd\.example\.unknown\+json/,
    );
    await nothingLeft("c-media");
  });

  test("a missing blob is a NotFound naming it", { timeout: 60_000 }, async () => {
    await assert.rejects(
      rc.fetchBlob("c/none", { mediaType: "x", digest: `sha256:${"9".repeat(64)}`, size: 1 }, { domain: reg.host }),
      (e: Error & { kind?: string }) => e.kind === "not-found" && /BLOB_UNKNOWN/.test(e.message),
    );
  });
});
