// What the gRPC services share: the stores they wrap and the helpers every handler needs. Each
// service file is a thin wrapper that decodes a request, calls the store, encodes the reply.
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { FailedPreconditionError, InvalidArgumentError } from "../../common/errors.ts";
import type { DaemonLogger } from "../../common/log.ts";
import type { RequestContext } from "../../rpc/context.ts";
import type { LocalDiffService } from "../diff/local.ts";
import type { Exchange } from "../events/exchange.ts";
import type { GarbageCollector } from "../metadata/collector.ts";
import type { MetadataDB } from "../metadata/db.ts";
import type { NamespacedContent, NamespacedSnapshotter } from "../metadata/namespaced.ts";
import { validateIdentifier } from "../metadata/validate.ts";

export interface ServiceDeps {
  db: MetadataDB;
  content: NamespacedContent;
  snapshotters: Map<string, NamespacedSnapshotter>;
  diff: LocalDiffService;
  gc: GarbageCollector;
  events: Exchange;
  log: DaemonLogger;
  root: string;
  state: string;
}

/** The call's namespace; containerd refuses namespaced calls without one. */
export function namespaceOf(ctx: RequestContext): string {
  if (!ctx.namespace) throw new FailedPreconditionError("namespace is required: failed precondition");
  return validateIdentifier("namespace", ctx.namespace);
}

export function snapshotterOf(deps: ServiceDeps, name: string): NamespacedSnapshotter {
  const sn = deps.snapshotters.get(name || "overlayfs");
  if (!sn) throw new InvalidArgumentError(`snapshotter not loaded: ${name}: invalid argument`);
  return sn;
}

export const ts = (d: Date) => timestampFromDate(d);

/** Field-mask paths of an update request. */
export function pathsOf(mask: { paths: string[] } | undefined): string[] {
  return mask?.paths ?? [];
}
