// containerd.services.namespaces.v1 over the metadata database.
import { NotFoundError } from "../../common/errors.ts";
import {
  NamespaceCreateSchema,
  NamespaceDeleteSchema,
  NamespaceUpdateSchema,
} from "../../proto/gen/containerd/events/store_pb.js";
import type { Namespaces } from "../../proto/gen/containerd/services/namespaces/v1/namespace_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { parseFilters, recordAdaptor } from "../filters/filters.ts";
import { pathsOf, type ServiceDeps } from "./deps.ts";
import { publish } from "./publish.ts";

export function namespacesService(deps: ServiceDeps): Impl<typeof Namespaces> {
  return {
    get: async (req) => ({ namespace: { name: req.name, labels: deps.db.namespaces.labels(req.name) } }),
    list: async (req) => {
      const match = parseFilters(req.filter ? [req.filter] : []);
      return {
        namespaces: deps.db.namespaces.list().filter((n) => match(recordAdaptor({ name: n.name }, n.labels))),
      };
    },
    create: async (req, ctx) => {
      const ns = req.namespace ?? { name: "", labels: {} };
      deps.db.namespaces.create(ns.name, ns.labels);
      publish(deps, ctx.namespace, "/namespaces/create", NamespaceCreateSchema, { name: ns.name, labels: ns.labels });
      return { namespace: { name: ns.name, labels: ns.labels } };
    },
    update: async (req, ctx) => {
      const ns = req.namespace;
      if (!ns) throw new NotFoundError("namespace: not found");
      const labels = deps.db.namespaces.update(ns.name, ns.labels, pathsOf(req.updateMask));
      publish(deps, ctx.namespace, "/namespaces/update", NamespaceUpdateSchema, { name: ns.name, labels });
      return { namespace: { name: ns.name, labels } };
    },
    delete: async (req, ctx) => {
      deps.db.namespaces.delete(req.name);
      publish(deps, ctx.namespace, "/namespaces/delete", NamespaceDeleteSchema, { name: req.name });
      return {};
    },
  };
}
