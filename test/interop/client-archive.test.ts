// berth's client library exports and imports image archives through berth-containerd: an export
// round-trips with equal digests and `ctr images import` (containerd's reader) accepts it; a
// legacy docker-save archive imports; hostile archives (a blob whose bytes do not match its name,
// a missing blob, a path escaping the archive) are refused and record no image.
import assert from "node:assert/strict";
import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pack } from "tar-stream";
import { RemoteContainerd } from "../../src/client/remote.ts";
import { exportImages, importImages } from "../../src/oci/transfer/archive.ts";
import { writeImageArchive, writeOciLayout } from "../fixtures/oci-image.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

async function tarOf(files: Record<string, Buffer | string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((r) => p.on("end", () => r()));
  for (const [name, body] of Object.entries(files)) p.entry({ name }, body);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

describe("image archives through the client library", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let remote: (ns: string) => RemoteContainerd;
  const opened: RemoteContainerd[] = [];
  before(async () => {
    d = await startBerthContainerd();
    remote = (ns) => {
      const r = new RemoteContainerd(d.address, { namespace: ns });
      opened.push(r);
      return r;
    };
  });
  after(async () => {
    for (const r of opened) r.close();
    await d?.cleanup();
  });

  test("import an OCI layout, export it, import the export elsewhere: same digests; ctr reads it", {
    timeout: 60_000,
  }, async () => {
    const src = join(d.dir, "src.tar");
    const info = await writeImageArchive(src, { name: "berth/archive:1" });
    const a = remote("arch-a").ports();
    const imported = await importImages(a, createReadStream(src));
    assert.deepEqual(
      imported.map((i) => [i.name, i.target.digest]),
      [["berth/archive:1", info.manifestDigest]],
    );

    const out = join(d.dir, "export.tar");
    await exportImages(a, ["berth/archive:1"], createWriteStream(out));
    const b = remote("arch-b").ports();
    const again = await importImages(b, createReadStream(out));
    assert.equal(again[0]!.target.digest, info.manifestDigest);
    for (const digest of [info.manifestDigest, info.configDigest, info.layerDigest])
      assert.ok(await b.content.info(digest), digest);

    const r = d.ctr(["images", "import", out], { namespace: "arch-ctr" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(d.ctr(["images", "ls"], { namespace: "arch-ctr" }).stdout, new RegExp(info.manifestDigest));
  });

  // An export whose destination fails midway (a full disk) fails with that error: before, the
  // write's rejection went unheard while the export waited for its next tar entry (an unhandled
  // rejection, which ends a Node process by default) and the export itself never settled.
  test("an export whose destination fails midway rejects with the destination's error", {
    timeout: 60_000,
  }, async () => {
    const src = join(d.dir, "full-src.tar");
    await writeImageArchive(src, { name: "berth/full:1" });
    const p = remote("arch-full").ports();
    await importImages(p, createReadStream(src));
    let written = 0;
    const full = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written += chunk.length;
        if (written > 2048)
          cb(Object.assign(new Error("write /mnt/full/export.tar: no space left on device"), { code: "ENOSPC" }));
        else cb();
      },
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on("unhandledRejection", onUnhandled);
    try {
      const outcome = await Promise.race([
        exportImages(p, ["berth/full:1"], full).then(
          () => "resolved",
          (err: Error) => err.message,
        ),
        new Promise<string>((r) => setTimeout(() => r("still pending after 10 s"), 10_000)),
      ]);
      await new Promise((r) => setImmediate(r));
      assert.equal(outcome, "write /mnt/full/export.tar: no space left on device");
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("a legacy docker-save archive (<id>/layer.tar, <config>.json) imports", { timeout: 60_000 }, async () => {
    const layout = join(d.dir, "legacy-src");
    const info = await writeOciLayout(layout, { name: "legacy" });
    const blob = (digest: string) => readFile(join(layout, "blobs", "sha256", digest.slice(7)));
    const { gunzipSync } = await import("node:zlib");
    const config = await blob(info.configDigest);
    const layerTar = gunzipSync(await blob(info.layerDigest));
    const archive = await tarOf({
      [`${info.configDigest.slice(7)}.json`]: config,
      "abc123/layer.tar": layerTar,
      "manifest.json": JSON.stringify([
        { Config: `${info.configDigest.slice(7)}.json`, RepoTags: ["berth/legacy:1"], Layers: ["abc123/layer.tar"] },
      ]),
    });
    const p = remote("legacy").ports();
    const images = await importImages(p, Readable.from([archive]));
    assert.equal(images[0]!.name, "berth/legacy:1");
    assert.equal(images[0]!.target.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    assert.ok(await p.content.info(info.diffId), "the uncompressed layer is stored under its diffID");
  });

  test("hostile archives are refused and record nothing", { timeout: 60_000 }, async () => {
    const p = remote("hostile").ports();
    const fake = `sha256:${"0".repeat(64)}`;
    const cases: [string, Buffer, RegExp][] = [
      [
        "wrong bytes",
        await tarOf({ [`blobs/sha256/${"0".repeat(64)}`]: "not that", "index.json": "{}" }),
        /has digest/,
      ],
      [
        "missing blob",
        await tarOf({
          "index.json": JSON.stringify({
            schemaVersion: 2,
            manifests: [
              {
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                digest: fake,
                size: 2,
                annotations: { "io.containerd.image.name": "x:1" },
              },
            ],
          }),
        }),
        /lacks blob/,
      ],
      ["traversal", await tarOf({ "../../etc/evil": "x" }), /escapes the archive/],
      ["not an archive", await tarOf({ README: "hello" }), /not an image archive/],
    ];
    for (const [what, tar, err] of cases) {
      await assert.rejects(importImages(p, Readable.from([tar])), err, what);
    }
    assert.deepEqual(await p.images.list(), []);
  });
});
