// berth.services.transfer.v1: the daemon pulls for the client (see transfer.proto). The pull is the
// client library's own workflow, run over in-process ports; progress streams back as it happens.
// The pull lives no longer than its call: when the client cancels or goes away, the call's signal
// aborts the pull's requests, downloads and unpacks, and the call ends once they have stopped.

import type { MessageInitShape } from "@bufbuild/protobuf";
import { RegistryClient } from "../../oci/registry/registry-client.ts";
import type { ProgressEvent } from "../../oci/transfer/progress.ts";
import { pull } from "../../oci/transfer/pull.ts";
import type { PullProgress, PullProgressSchema, Transfer } from "../../proto/gen/berth/transfer/v1/transfer_pb.js";
import type { Impl } from "../../rpc/service.ts";
import { localPorts } from "../transfer/local-ports.ts";
import { namespaceOf, type ServiceDeps } from "./deps.ts";

type Progress = MessageInitShape<typeof PullProgressSchema>;

export function transferService(deps: ServiceDeps): Impl<typeof Transfer> {
  return {
    pull: async function* (req, ctx) {
      const ns = namespaceOf(ctx);
      const registry = new RegistryClient({
        insecure: req.insecureHosts,
        ca: req.caPem.length > 0 ? Buffer.from(req.caPem) : undefined,
        credentials: req.username ? () => ({ username: req.username, password: req.password }) : () => undefined,
      });
      const queue: Progress[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      let failure: unknown;
      const push = (p: Progress) => {
        queue.push(p);
        wake?.();
      };
      const toMsg = (e: ProgressEvent): Progress => ({
        phase: e.phase,
        digest: e.digest,
        mediaType: e.mediaType ?? "",
        current: BigInt(e.current ?? 0),
        total: BigInt(e.total ?? 0),
      });
      const work = pull(localPorts(deps, ns, { signal: ctx.signal }), registry, req.reference, {
        snapshotter: req.snapshotter || undefined,
        platforms: req.platforms,
        signal: ctx.signal,
        progress: (e) => {
          if (e.phase !== "done") push(toMsg(e));
        },
      }).then(
        (image) => push({ phase: "done", digest: image.target.digest, name: image.name }),
        (err) => {
          failure = err;
        },
      );
      void work.finally(() => {
        finished = true;
        wake?.();
      });
      try {
        for (;;) {
          while (queue.length > 0) yield queue.shift()!;
          if (finished) break;
          await new Promise<void>((r) => {
            wake = r;
          });
          wake = undefined;
        }
        while (queue.length > 0) yield queue.shift()!;
        if (failure) throw failure;
      } finally {
        // Left early (the call was cancelled): the aborted pull settles first, then no request of
        // this transfer is left on the registry's connections.
        await work;
        await registry.close();
      }
    },
  };
}

export type { PullProgress };
