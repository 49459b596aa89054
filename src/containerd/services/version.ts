// containerd.services.version.v1: the daemon's version (what `ctr version` prints as Server).
import type { Version } from "../../proto/gen/containerd/services/version/v1/version_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { BERTH_VERSION } from "../version.ts";

export function versionService(): Impl<typeof Version> {
  return {
    version: async () => ({ version: BERTH_VERSION.version, revision: BERTH_VERSION.revision }),
  };
}
