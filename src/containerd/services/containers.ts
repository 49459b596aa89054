// containerd.services.containers.v1: container records (metadata only) over the database.
import { InvalidArgumentError } from "../../common/errors.ts";
import {
  ContainerCreateSchema,
  ContainerDeleteSchema,
  ContainerUpdateSchema,
} from "../../proto/gen/containerd/events/store_pb.js";
import type { Container, Containers } from "../../proto/gen/containerd/services/containers/v1/containers_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { parseFilters, recordAdaptor } from "../filters/filters.ts";
import type { AnyValue, ContainerMetadata, NewContainer } from "../metadata/containers-table.ts";
import { namespaceOf, pathsOf, type ServiceDeps, ts } from "./deps.ts";
import { publish } from "./publish.ts";

const anyOut = (a: AnyValue | undefined) => (a ? { typeUrl: a.typeUrl, value: a.value } : undefined);
const anyIn = (a: { typeUrl: string; value: Uint8Array } | undefined): AnyValue | undefined =>
  a ? { typeUrl: a.typeUrl, value: a.value } : undefined;

const toProto = (c: ContainerMetadata) => ({
  id: c.id,
  labels: c.labels,
  image: c.image,
  runtime: { name: c.runtime.name, options: anyOut(c.runtime.options) },
  spec: anyOut(c.spec),
  snapshotter: c.snapshotter,
  snapshotKey: c.snapshotKey,
  createdAt: ts(c.createdAt),
  updatedAt: ts(c.updatedAt),
  extensions: Object.fromEntries(Object.entries(c.extensions).map(([k, v]) => [k, anyOut(v)!])),
});

function fromProto(c: Container | undefined): NewContainer {
  if (!c) throw new InvalidArgumentError("container is required");
  return {
    id: c.id,
    labels: c.labels,
    image: c.image,
    runtime: { name: c.runtime?.name ?? "", options: anyIn(c.runtime?.options) },
    spec: anyIn(c.spec),
    snapshotter: c.snapshotter,
    snapshotKey: c.snapshotKey,
    extensions: Object.fromEntries(Object.entries(c.extensions).map(([k, v]) => [k, anyIn(v)!])),
  };
}

export function containersService(deps: ServiceDeps): Impl<typeof Containers> {
  const list = (ns: string, filters: string[]) => {
    const match = parseFilters(filters);
    return deps.db.containers
      .list(ns)
      .filter((c) =>
        match(
          recordAdaptor(
            { id: c.id, image: c.image, "runtime.name": c.runtime.name, snapshotter: c.snapshotter },
            c.labels,
          ),
        ),
      );
  };
  return {
    get: async (req, ctx) => ({ container: toProto(deps.db.containers.get(namespaceOf(ctx), req.id)) }),
    list: async (req, ctx) => ({ containers: list(namespaceOf(ctx), req.filters).map(toProto) }),
    listStream: async function* (req, ctx) {
      for (const c of list(namespaceOf(ctx), req.filters)) yield { container: toProto(c) };
    },
    create: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const c = deps.db.containers.create(ns, fromProto(req.container));
      publish(deps, ns, "/containers/create", ContainerCreateSchema, {
        id: c.id,
        image: c.image,
        runtime: { name: c.runtime.name, options: anyOut(c.runtime.options) },
      });
      return { container: toProto(c) };
    },
    update: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      const c = deps.db.containers.update(ns, fromProto(req.container), pathsOf(req.updateMask));
      publish(deps, ns, "/containers/update", ContainerUpdateSchema, {
        id: c.id,
        image: c.image,
        labels: c.labels,
        snapshotKey: c.snapshotKey,
      });
      return { container: toProto(c) };
    },
    delete: async (req, ctx) => {
      const ns = namespaceOf(ctx);
      deps.db.containers.delete(ns, req.id);
      publish(deps, ns, "/containers/delete", ContainerDeleteSchema, { id: req.id });
      deps.gc.schedule();
      return {};
    },
  };
}
