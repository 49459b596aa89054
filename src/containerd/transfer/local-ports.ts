// The client workflows' ports (src/client/ports.ts) implemented inside the daemon, over the
// namespaced stores directly: what the transfer service hands to pull() so that a pull's bytes
// never cross gRPC. Writes run under the collector's lock and join the lease, as the gRPC
// services' do.

import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import type { ContainerdPorts, ContentPort, ImagePort, LeasePort, SnapshotPort } from "../../client/ports.ts";
import { AlreadyExistsError, NotFoundError } from "../../common/errors.ts";
import type { ServiceDeps } from "../services/deps.ts";
import { snapshotterOf } from "../services/deps.ts";

export function localPorts(deps: ServiceDeps, ns: string, lease = ""): ContainerdPorts {
  const content: ContentPort = {
    info: async (digest) => {
      const row = deps.db.getContent(ns, digest);
      if (!row) return undefined;
      const blob = await deps.content.store.info(digest).catch(() => undefined);
      if (!blob) return undefined;
      if (lease) deps.db.addLeaseResource(ns, lease, { type: "content", id: digest });
      return { size: blob.size, labels: row.labels };
    },
    read: (digest) => deps.content.store.read(digest),
    readAll: async (digest) => {
      const parts: Buffer[] = [];
      for await (const c of deps.content.store.read(digest)) parts.push(c as Buffer);
      return Buffer.concat(parts);
    },
    label: async (digest, labels) => {
      const paths = Object.keys(labels).map((k) => `labels.${k}`);
      if (paths.length > 0) deps.db.updateContentLabels(ns, digest, labels, paths);
    },
    write: async (ref, desc, open, labels, onProgress) => {
      if (deps.db.getContent(ns, desc.digest)) {
        if (lease) deps.db.addLeaseResource(ns, lease, { type: "content", id: desc.digest });
        return;
      }
      const w = await deps.content.writer(ns, ref, { total: desc.size, expected: desc.digest });
      try {
        if (w.offset() > desc.size) await w.truncate(0);
        for await (const chunk of await open(w.offset())) {
          await w.write(chunk as Buffer);
          onProgress?.(w.offset());
        }
        await deps.gc.exclusive(async () => {
          const d = await w.commit(desc.size, desc.digest);
          deps.content.committed(ns, d, labels ?? {}, lease);
        });
      } finally {
        await w.close();
      }
    },
  };
  const snapshots = (name: string): SnapshotPort => {
    const sn = snapshotterOf(deps, name);
    return {
      snapshotter: sn.name,
      exists: async (key) => deps.db.getSnapshot(ns, sn.name, key) !== undefined,
      prepare: (key, parent, labels) => deps.gc.exclusive(() => sn.prepare(ns, key, parent, labels ?? {}, lease)),
      commit: (name2, key, labels) => deps.gc.exclusive(() => sn.commit(ns, name2, key, labels ?? {}, lease)),
      remove: (key) => sn.remove(ns, key),
    };
  };
  const images: ImagePort = {
    get: async (name) => {
      try {
        const i = deps.db.getImage(ns, name);
        return { name: i.name, labels: i.labels, target: i.target };
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    },
    put: async (image) => {
      const record = {
        name: image.name,
        labels: image.labels,
        target: { ...image.target, annotations: image.target.annotations ?? {} },
      };
      try {
        deps.db.createImage(ns, record);
      } catch (err) {
        if (!(err instanceof AlreadyExistsError)) throw err;
        deps.db.updateImage(ns, record, []);
      }
      return image;
    },
    delete: async (name) => {
      deps.db.deleteImage(ns, name);
      deps.gc.schedule();
    },
    list: async () => deps.db.listImages(ns).map((i) => ({ name: i.name, labels: i.labels, target: i.target })),
  };
  const leases: LeasePort = {
    create: async (labels) =>
      deps.db.createLease(ns, `transfer-${Date.now()}-${randomBytes(4).toString("hex")}`, labels ?? {}).id,
    release: async (id) => {
      deps.db.deleteLease(ns, id);
      deps.gc.schedule();
    },
  };
  return {
    content,
    snapshots,
    diff: {
      apply: async (layer, mounts) => {
        if (!deps.db.getContent(ns, layer.digest)) throw new NotFoundError(`content digest ${layer.digest}: not found`);
        const blob = createReadStream(deps.content.store.blobPath(layer.digest), { highWaterMark: 1 << 20 });
        const r = await deps.diff.apply(mounts, blob);
        return { digest: r.diffId, size: r.size };
      },
    },
    images,
    leases,
    withLease: (id) => localPorts(deps, ns, id),
  };
}
