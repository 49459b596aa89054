import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import type { ContainerdConnection } from "../../client/connection.ts";
import type { DaemonLogger } from "../../common/log.ts";
import { ImageService } from "./service.ts";

const digest = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** A namespace holding `n` unnamed (dangling) images, each its own config and one layer. */
function storeOf(n: number) {
  const blobs = new Map<string, Buffer>();
  const put = (doc: unknown) => {
    const b = Buffer.from(JSON.stringify(doc));
    blobs.set(digest(b), b);
    return { digest: digest(b), size: b.length };
  };
  const records = Array.from({ length: n }, (_, i) => {
    const layer = `sha256:${String(i).padStart(64, "0")}`;
    const config = put({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [layer] } });
    const manifest = put({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layer, size: 1 }],
    });
    return {
      name: `moby-dangling@${manifest.digest}`,
      labels: {},
      target: { mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifest },
    };
  });
  const deletes: { name: string; sync: boolean }[] = [];
  const ports = {
    images: {
      list: async () => records.filter((r) => !deletes.some((d) => d.name === r.name)),
      delete: async (name: string, opts?: { sync?: boolean }) => {
        deletes.push({ name, sync: opts?.sync === true });
      },
    },
    content: {
      info: async (d: string) => (blobs.has(d) ? { size: blobs.get(d)!.length, labels: {} } : undefined),
      readAll: async (d: string) => blobs.get(d)!,
    },
  };
  const conn = {
    remote: { ports: () => ports },
    snapshots: () => ({ usage: async () => ({ size: 1, inodes: 1 }) }),
  } as unknown as ContainerdConnection;
  return { conn, deletes };
}

const log = { debug() {}, info() {}, warn() {}, error() {}, trace() {} } as unknown as DaemonLogger;

test("image prune removes every unused image and collects once, at the end (not a full collection per image)", async () => {
  const { conn, deletes } = storeOf(3);
  const s = new ImageService({ conn, log });
  const { deleted } = await s.prune(new Map());
  assert.equal(deleted.filter((e) => e.Deleted).length, 3, JSON.stringify(deleted));
  assert.equal(deletes.length, 3);
  assert.deepEqual(
    deletes.map((d) => d.sync),
    [false, false, true],
  );
});
