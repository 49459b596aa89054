// containerd.services.leases.v1 over the metadata database.
import { randomBytes } from "node:crypto";
import { InvalidArgumentError } from "../../common/errors.ts";
import type { Leases } from "../../proto/gen/containerd/services/leases/v1/leases_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { parseFilters, recordAdaptor } from "../filters/filters.ts";
import { namespaceOf, type ServiceDeps, ts } from "./deps.ts";

export function leasesService(deps: ServiceDeps): Impl<typeof Leases> {
  const resource = (r: { id: string; type: string } | undefined) => {
    if (!r) throw new InvalidArgumentError("resource is required");
    return { id: r.id, type: r.type };
  };
  return {
    create: async (req, ctx) => {
      const id = req.id || `${Date.now()}-${randomBytes(6).toString("hex")}`;
      const l = deps.db.leases.create(namespaceOf(ctx), id, req.labels);
      return { lease: { id: l.id, labels: l.labels, createdAt: ts(l.createdAt) } };
    },
    delete: async (req, ctx) => {
      deps.db.leases.delete(namespaceOf(ctx), req.id);
      if (req.sync) await deps.gc.collect();
      else deps.gc.schedule();
      return {};
    },
    list: async (req, ctx) => {
      const match = parseFilters(req.filters);
      return {
        leases: deps.db.leases
          .list(namespaceOf(ctx))
          .filter((l) => match(recordAdaptor({ id: l.id }, l.labels)))
          .map((l) => ({ id: l.id, labels: l.labels, createdAt: ts(l.createdAt) })),
      };
    },
    addResource: async (req, ctx) => {
      deps.db.leases.addResource(namespaceOf(ctx), req.id, resource(req.resource));
      return {};
    },
    deleteResource: async (req, ctx) => {
      deps.db.leases.deleteResource(namespaceOf(ctx), req.id, resource(req.resource));
      deps.gc.schedule();
      return {};
    },
    listResources: async (req, ctx) => ({ resources: deps.db.leases.listResources(namespaceOf(ctx), req.id) }),
  };
}
