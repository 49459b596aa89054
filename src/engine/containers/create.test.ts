// docker create's clean-up when the very last step fails: a record that cannot be saved leaves no
// name, directory or containerd container behind (the name is free for the next create).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { ContainerdConnection } from "../../client/connection.ts";
import { ContainerCreator } from "./create.ts";
import { ContainerTable } from "./table.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-create-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A one-image content store: an image with no layers, as resolveTarget reads it. */
function fakePorts() {
  const blobs = new Map<string, Uint8Array>();
  const put = (v: unknown) => {
    const bytes = new TextEncoder().encode(JSON.stringify(v));
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  };
  const config = put({
    architecture: "amd64",
    os: "linux",
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [] },
  });
  const manifestType = "application/vnd.oci.image.manifest.v1+json";
  const manifest = put({
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: [],
  });
  return {
    images: { get: async () => ({ target: { mediaType: manifestType, ...manifest } }) },
    content: {
      info: async (d: string) => (blobs.has(d) ? { size: blobs.get(d)!.length, labels: {} } : undefined),
      readAll: async (d: string) => blobs.get(d)!,
    },
  };
}

test("create: a record that cannot be saved releases the name and removes what was made", async () => {
  const made: string[] = [];
  const removed: string[] = [];
  const ports = fakePorts();
  const conn = {
    namespace: "berth",
    remote: { ports: () => ports },
    newContainer: async (c: { id: string }) => void made.push(c.id),
    removeContainer: async (id: string) => void removed.push(id),
  } as unknown as ContainerdConnection;
  const t = new ContainerTable({
    conn,
    dataRoot: join(dir, "data"),
    execRoot: join(dir, "exec"),
    runtimes: { "berth-runc": { path: "berth-runc" } },
    defaultRuntime: "berth-runc",
    log: { debug() {}, info() {}, warn() {}, error() {} } as never,
  });
  const creator = new ContainerCreator(t);
  const save = t.store.save.bind(t.store);
  t.store.save = () => {
    throw new Error("ENOSPC: no space left on device, write");
  };
  await assert.rejects(creator.create({ Image: "busybox" }, "web"), /ENOSPC/);
  assert.equal(t.names.holder("/web") ?? t.names.holder("web"), undefined, "the name is still reserved");
  assert.deepEqual(readdirSync(t.store.root), [], "the container's directory is left");
  assert.equal(made.length, 1);
  assert.deepEqual(removed, made, "the containerd container is left");
  // The name is free again: the next create with it succeeds.
  t.store.save = save;
  const { Id } = await creator.create({ Image: "busybox" }, "web");
  assert.ok(existsSync(join(t.store.root, Id)));
});
