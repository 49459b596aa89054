// Pull through the daemon's transfer service: the daemon fetches and unpacks, the client only
// watches progress. The fastest path when the client and the daemon share a host.

import type { ProgressListener, ProgressPhase } from "../oci/transfer/progress.ts";
import { Transfer } from "../proto/gen/berth/transfer/v1/transfer_pb.js";
import { createClient } from "../rpc/grpc.ts";
import type { TraceContext } from "../rpc/trace.ts";

export interface TransferPullOptions {
  namespace: string;
  snapshotter?: string;
  platforms?: string[];
  insecureHosts?: string[];
  username?: string;
  password?: string;
  caPem?: Buffer;
  progress?: ProgressListener;
  /** Gives up: the call is cancelled, and the daemon stops the pull. */
  signal?: AbortSignal;
  /** The trace the pull belongs to (a traceparent header, or a TraceContext to continue). */
  trace?: TraceContext | string | undefined;
}

export async function transferPull(
  address: string,
  reference: string,
  opts: TransferPullOptions,
): Promise<{ name: string; digest: string }> {
  const client = createClient(Transfer, address, { namespace: opts.namespace, trace: opts.trace });
  try {
    let done: { name: string; digest: string } | undefined;
    for await (const p of client.pull(
      {
        reference,
        snapshotter: opts.snapshotter ?? "overlayfs",
        platforms: opts.platforms ?? [],
        insecureHosts: opts.insecureHosts ?? [],
        username: opts.username ?? "",
        password: opts.password ?? "",
        caPem: opts.caPem ?? new Uint8Array(),
      },
      { signal: opts.signal },
    )) {
      opts.progress?.({
        phase: p.phase as ProgressPhase,
        digest: p.digest,
        mediaType: p.mediaType || undefined,
        current: Number(p.current),
        total: Number(p.total),
      });
      if (p.phase === "done") done = { name: p.name, digest: p.digest };
    }
    if (!done) throw new Error(`pull ${reference}: the daemon ended the transfer without finishing it`);
    return done;
  } finally {
    client.close();
  }
}
