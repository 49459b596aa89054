// containerd.services.snapshots.v1: the namespaced snapshotters. Creating a snapshot runs under the
// collector's lock so a collection never sees the directory before its row.

import { InvalidArgumentError } from "../../common/errors.ts";
import {
  SnapshotCommitSchema,
  SnapshotPrepareSchema,
  SnapshotRemoveSchema,
} from "../../proto/gen/containerd/events/store_pb.js";
import { Kind, type Snapshots } from "../../proto/gen/containerd/services/snapshots/v1/snapshots_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { parseFilters, recordAdaptor } from "../filters/filters.ts";
import type { SnapshotInfo } from "../snapshots/snapshotter.ts";
import { namespaceOf, pathsOf, type ServiceDeps, snapshotterOf, ts } from "./deps.ts";
import { publish } from "./publish.ts";

const kindOf = { view: Kind.VIEW, active: Kind.ACTIVE, committed: Kind.COMMITTED } as const;

const infoOf = (i: SnapshotInfo) => ({
  name: i.name,
  parent: i.parent,
  kind: kindOf[i.kind],
  createdAt: ts(i.created),
  updatedAt: ts(i.updated),
  labels: i.labels,
});

export function snapshotsService(deps: ServiceDeps): Impl<typeof Snapshots> {
  return {
    prepare: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const sn = snapshotterOf(deps, req.snapshotter);
      const mounts = await deps.gc.exclusive(() => sn.prepare(ns, req.key, req.parent, req.labels, ctx.lease));
      publish(deps, ns, "/snapshot/prepare", SnapshotPrepareSchema, { key: req.key, parent: req.parent });
      return { mounts };
    },
    view: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const sn = snapshotterOf(deps, req.snapshotter);
      return { mounts: await deps.gc.exclusive(() => sn.view(ns, req.key, req.parent, req.labels, ctx.lease)) };
    },
    mounts: async (req, ctx) => ({
      mounts: await snapshotterOf(deps, req.snapshotter).mounts(namespaceOf(ctx), req.key),
    }),
    commit: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const sn = snapshotterOf(deps, req.snapshotter);
      await deps.gc.exclusive(() => sn.commit(ns, req.name, req.key, req.labels, ctx.lease));
      publish(deps, ns, "/snapshot/commit", SnapshotCommitSchema, { key: req.key, name: req.name });
      return {};
    },
    remove: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      await snapshotterOf(deps, req.snapshotter).remove(ns, req.key);
      publish(deps, ns, "/snapshot/remove", SnapshotRemoveSchema, { key: req.key });
      return {};
    },
    stat: async (req, ctx) => ({
      info: infoOf(await snapshotterOf(deps, req.snapshotter).stat(namespaceOf(ctx), req.key)),
    }),
    update: async (req, ctx) => {
      if (!req.info) throw new InvalidArgumentError("update: info is required");
      const sn = snapshotterOf(deps, req.snapshotter);
      return {
        info: infoOf(await sn.update(namespaceOf(ctx), req.info.name, req.info.labels, pathsOf(req.updateMask))),
      };
    },
    list: async function* (req, ctx) {
      const match = parseFilters(req.filters);
      const all = await snapshotterOf(deps, req.snapshotter).list(namespaceOf(ctx));
      const infos = all.filter((i) => match(recordAdaptor({ name: i.name, parent: i.parent, kind: i.kind }, i.labels)));
      for (let i = 0; i < infos.length; i += 100) yield { info: infos.slice(i, i + 100).map(infoOf) };
    },
    usage: async (req, ctx) => {
      const u = await snapshotterOf(deps, req.snapshotter).usage(namespaceOf(ctx), req.key);
      return { size: BigInt(u.size), inodes: BigInt(u.inodes) };
    },
    cleanup: async (req) => {
      snapshotterOf(deps, req.snapshotter);
      await deps.gc.collect();
      return {};
    },
  };
}
