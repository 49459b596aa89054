// containerd.services.introspection.v1: the plugins this daemon runs (by containerd's plugin type
// and id, so clients that check for "overlayfs" find it) and the daemon's persistent UUID.
import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Introspection } from "../../proto/gen/containerd/services/introspection/v1/introspection_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { parseFilters, recordAdaptor } from "../filters/filters.ts";
import type { ServiceDeps } from "./deps.ts";

const host = () => ({ os: "linux", architecture: process.arch === "x64" ? "amd64" : process.arch, variant: "" });

export function introspectionService(deps: ServiceDeps, grpcServices: string[]): Impl<typeof Introspection> {
  const plugins: { type: string; id: string; requires: string[]; platforms?: ReturnType<typeof host>[] }[] = [
    { type: "io.containerd.content.v1", id: "content", requires: [] as string[] },
    ...[...deps.snapshotters.keys()].map((id) => ({
      type: "io.containerd.snapshotter.v1",
      id,
      requires: [] as string[],
      platforms: [host()],
    })),
    {
      type: "io.containerd.metadata.v1",
      id: "sqlite",
      requires: ["io.containerd.content.v1", "io.containerd.snapshotter.v1"],
    },
    { type: "io.containerd.gc.v1", id: "scheduler", requires: ["io.containerd.metadata.v1"] },
    { type: "io.containerd.differ.v1", id: "walking", requires: ["io.containerd.metadata.v1"], platforms: [host()] },
    { type: "io.containerd.event.v1", id: "exchange", requires: [] as string[] },
    ...grpcServices.map((id) => ({ type: "io.containerd.grpc.v1", id, requires: ["io.containerd.metadata.v1"] })),
  ];
  return {
    plugins: async (req) => {
      const match = parseFilters(req.filters);
      return {
        plugins: plugins
          .filter((p) => match(recordAdaptor({ type: p.type, id: p.id })))
          .map((p) => ({ ...p, platforms: p.platforms ?? [], exports: {}, capabilities: [] })),
      };
    },
    server: async () => ({ uuid: serverUuid(deps.root) }),
  };
}

function serverUuid(root: string): string {
  const path = join(root, "uuid");
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    const id = randomUUID();
    writeFileSync(path, id, { mode: 0o644 });
    return id;
  }
}
