// The daemon's services as a table: one row per gRPC service, with the id containerd's
// Introspection lists it under (io.containerd.grpc.v1.<id>) and how it is built from what the
// services share. The daemon registers the rows in one loop; a new service is a new row.
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import type * as grpc from "@grpc/grpc-js";
import { Transfer } from "../../proto/gen/berth/transfer/v1/transfer_pb.js";
import { Containers } from "../../proto/gen/containerd/services/containers/v1/containers_pb.js";
import { Content } from "../../proto/gen/containerd/services/content/v1/content_pb.js";
import { Diff } from "../../proto/gen/containerd/services/diff/v1/diff_pb.js";
import { Events } from "../../proto/gen/containerd/services/events/v1/events_pb.js";
import { Images } from "../../proto/gen/containerd/services/images/v1/images_pb.js";
import { Introspection } from "../../proto/gen/containerd/services/introspection/v1/introspection_pb.js";
import { Leases } from "../../proto/gen/containerd/services/leases/v1/leases_pb.js";
import { Namespaces } from "../../proto/gen/containerd/services/namespaces/v1/namespace_pb.js";
import { Snapshots } from "../../proto/gen/containerd/services/snapshots/v1/snapshots_pb.js";
import { Tasks } from "../../proto/gen/containerd/services/tasks/v1/tasks_pb.js";
import { Events as ShimEvents } from "../../proto/gen/containerd/services/ttrpc/events/v1/events_pb.js";
import { Version } from "../../proto/gen/containerd/services/version/v1/version_pb.js";
import { addService } from "../../rpc/grpc.ts";
import type { ErrorObserver, ServiceImpl } from "../../rpc/service.ts";
import { addTtrpcService, type TtrpcServer } from "../../rpc/ttrpc/server.ts";
import type { ShimManager } from "../runtime/manager.ts";
import { containersService } from "./containers.ts";
import { contentService } from "./content.ts";
import type { ServiceDeps } from "./deps.ts";
import { diffService } from "./diff.ts";
import { eventsService, shimEventsService } from "./events.ts";
import { imagesService } from "./images.ts";
import { introspectionService } from "./introspection.ts";
import { leasesService } from "./leases.ts";
import { namespacesService } from "./namespaces.ts";
import { snapshotsService } from "./snapshots.ts";
import { tasksService } from "./tasks.ts";
import { transferService } from "./transfer.ts";
import { versionService } from "./version.ts";

/** What a service is built from: the stores and helpers (deps), and the runtime manager. */
export interface ServiceContext {
  deps: ServiceDeps;
  shims: ShimManager;
}

export interface ServiceRow {
  /** containerd's plugin id, which Introspection lists; undefined for berth's own services. */
  id: string | undefined;
  /** The full gRPC name ("containerd.services.content.v1.Content"). */
  name: string;
  /** Builds the service from `ctx` and registers it on `server`. */
  register(server: grpc.Server, ctx: ServiceContext, onError: ErrorObserver): void;
}

/** One row; typed per service, so a builder must implement the service it is listed with. */
function row<S extends GenServiceMethods>(
  id: string | undefined,
  service: GenService<S>,
  build: (ctx: ServiceContext) => ServiceImpl<S>,
): ServiceRow {
  return {
    id,
    name: service.typeName,
    register: (server, ctx, onError) => addService(server, service, build(ctx), onError),
  };
}

export const SERVICES: readonly ServiceRow[] = [
  row("version", Version, () => versionService()),
  row("namespaces", Namespaces, ({ deps }) => namespacesService(deps)),
  row("content", Content, ({ deps }) => contentService(deps)),
  row("images", Images, ({ deps }) => imagesService(deps)),
  row("leases", Leases, ({ deps }) => leasesService(deps)),
  row("snapshots", Snapshots, ({ deps }) => snapshotsService(deps)),
  row("diff", Diff, ({ deps }) => diffService(deps)),
  row("events", Events, ({ deps }) => eventsService(deps)),
  row("containers", Containers, ({ deps }) => containersService(deps)),
  // berth's own: the client library's pull and push run in the daemon (not a containerd plugin).
  row(undefined, Transfer, ({ deps }) => transferService(deps)),
  row("tasks", Tasks, ({ deps, shims }) => tasksService(deps, shims)),
  row("introspection", Introspection, ({ deps }) => introspectionService(deps, listedIds())),
];

/** The ids Introspection lists, in the table's order. */
export function listedIds(): string[] {
  return SERVICES.flatMap((s) => (s.id === undefined ? [] : [s.id]));
}

/** Registers every service of the table on the daemon's gRPC server. */
export function registerServices(server: grpc.Server, ctx: ServiceContext, onError: ErrorObserver): void {
  for (const s of SERVICES) s.register(server, ctx, onError);
}

/** Registers what shims call on the daemon's ttrpc socket: the events they publish. */
export function registerShimServices(server: TtrpcServer, deps: ServiceDeps): void {
  addTtrpcService(server, ShimEvents, shimEventsService(deps));
}
