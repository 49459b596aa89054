// A temporary lease around work that makes unreferenced resources, as containerd's client does
// around a container's creation: the writable snapshot exists before the container record that
// references it, and a garbage collection between the two (one runs after any deletion) would
// remove it. The lease holds it until the record does; should the client die first, the lease
// expires and the collector takes what it held.
import type { LeasePort } from "../oci/transfer/ports.ts";

/** Runs `work` with a fresh lease (expiring after `ttlMs`), released when `work` settles. */
export async function withTemporaryLease<T>(
  leases: LeasePort,
  work: (lease: string) => Promise<T>,
  ttlMs = 10 * 60_000,
): Promise<T> {
  const lease = await leases.create({ "containerd.io/gc.expire": new Date(Date.now() + ttlMs).toISOString() });
  try {
    return await work(lease);
  } finally {
    await leases.release(lease);
  }
}
