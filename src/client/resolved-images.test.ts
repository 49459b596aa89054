import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import type { BlobDescriptor, ContentPort, ImagePort, StoredImage } from "../oci/transfer/ports.ts";
import { ResolvedImages } from "./resolved-images.ts";

const digest = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** An image of one layer with `env` in its config, as blobs and a target. */
function image(env: string[]) {
  const config = json({
    architecture: "amd64",
    os: "linux",
    rootfs: { type: "layers", diff_ids: [`sha256:${"1".repeat(64)}`] },
    config: { Env: env },
  });
  const manifest = json({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: digest(config), size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${"2".repeat(64)}`, size: 1 }],
  });
  const target: BlobDescriptor = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: digest(manifest),
    size: manifest.length,
  };
  return { blobs: new Map([...[config, manifest].map((b) => [digest(b), b] as const)]), target };
}

function store(records: Map<string, StoredImage>, blobs: Map<string, Uint8Array>) {
  const reads = { images: 0, content: 0 };
  const images = {
    get: async (name: string) => {
      reads.images++;
      return records.get(name);
    },
  } as unknown as ImagePort;
  const content = {
    info: async (d: string) => {
      reads.content++;
      const b = blobs.get(d);
      return b ? { size: b.length, labels: {} } : undefined;
    },
    readAll: async (d: string) => {
      reads.content++;
      return blobs.get(d)!;
    },
  } as unknown as ContentPort;
  return { images, content, reads };
}

test("an image's documents are read once per target; its record every time; a retag is seen", async () => {
  const a = image(["A=1"]);
  const b = image(["B=2"]);
  const records = new Map<string, StoredImage>([["x:latest", { name: "x:latest", target: a.target } as StoredImage]]);
  const s = store(records, new Map([...a.blobs, ...b.blobs]));
  const cache = new ResolvedImages();
  const first = await cache.resolve(s.images, s.content, "x:latest");
  assert.deepEqual(first.config.config?.Env, ["A=1"]);
  const reads = s.reads.content;
  assert.ok(reads > 0);
  const again = await cache.resolve(s.images, s.content, "x:latest");
  assert.equal(s.reads.content, reads, "no document read again");
  assert.equal(s.reads.images, 2, "the record is read every time");
  assert.equal(again.chainId, first.chainId);
  // What a caller changes in its copy is not what the next one gets.
  (again.config.config!.Env as string[]).push("C=3");
  assert.deepEqual((await cache.resolve(s.images, s.content, "x:latest")).config.config?.Env, ["A=1"]);
  // Tagged onto another image: that image's documents.
  records.set("x:latest", { name: "x:latest", target: b.target } as StoredImage);
  assert.deepEqual((await cache.resolve(s.images, s.content, "x:latest")).config.config?.Env, ["B=2"]);
  records.delete("x:latest");
  await assert.rejects(cache.resolve(s.images, s.content, "x:latest"), /not found/);
});
