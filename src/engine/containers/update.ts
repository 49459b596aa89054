// `docker update` (POST /containers/{id}/update): the body (container.UpdateConfig: the resource
// fields and RestartPolicy) decoded and checked as dockerd checks it, then laid over the
// container's HostConfig by dockerd's rules (a zero field keeps the current value; NanoCpus and
// CpuPeriod/CpuQuota exclude each other across updates; a restart policy is refused on an
// auto-removed container). Pure: the manager applies the result to the record and the task.
import { BerthError, InvalidArgumentError } from "../../common/errors.ts";
import type { Resources } from "../../runc/config/types.ts";
import { ApiError } from "../api/api-errors.ts";
import { checkRestartPolicy } from "./spec/build.ts";
import { decodeHostConfig } from "./spec/decode.ts";
import { fields, int } from "./spec/go-json.ts";
import { checkResources, type HostFacts } from "./spec/resources.ts";
import type { HostConfig } from "./spec/types.ts";

export interface UpdateRequest {
  /** The request as a HostConfig: zero where the field was not given. */
  h: HostConfig;
  /** RestartPolicy was given with a name. */
  restartPolicy: boolean;
}

/** The body decoded and checked (400 in dockerd's words when wrong). */
export function decodeUpdate(body: unknown, host: HostFacts): UpdateRequest {
  const h = decodeHostConfig(body ?? {}, "UpdateConfig");
  const blkio = int(
    fields(body, "UpdateConfig", "container.UpdateConfig").get("blkioweight"),
    "UpdateConfig.BlkioWeight",
    "uint16",
    [0, 65_535],
  );
  if (blkio !== 0) throw new InvalidArgumentError("BlkioWeight: berthd does not set block IO weights");
  if (h.RestartPolicy.Name !== "") checkRestartPolicy(h.RestartPolicy);
  checkResources(h, host);
  return { h, restartPolicy: h.RestartPolicy.Name !== "" };
}

/** A conflict with what the container has: 409, as dockerd's conflictingUpdateOptions. */
function conflict(id: string, message: string): never {
  throw new ApiError(409, `Cannot update container ${id}: ${message}`, "failed-precondition");
}

/** The container's HostConfig after the update (dockerd's UpdateContainer). */
export function applyUpdate(id: string, current: HostConfig, u: UpdateRequest): HostConfig {
  const r = u.h;
  const c = current;
  if (r.NanoCpus > 0 && c.CpuPeriod > 0) {
    conflict(id, "Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  }
  if (r.NanoCpus > 0 && c.CpuQuota > 0) {
    conflict(id, "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  }
  if (r.CpuPeriod > 0 && c.NanoCpus > 0) {
    conflict(id, "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  }
  if (r.CpuQuota > 0 && c.NanoCpus > 0) {
    conflict(id, "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  }
  const out: HostConfig = { ...c };
  if (r.CpuShares !== 0) out.CpuShares = r.CpuShares;
  if (r.NanoCpus !== 0) out.NanoCpus = r.NanoCpus;
  if (r.CpuPeriod !== 0) out.CpuPeriod = r.CpuPeriod;
  if (r.CpuQuota !== 0) out.CpuQuota = r.CpuQuota;
  if (r.CpusetCpus !== "") out.CpusetCpus = r.CpusetCpus;
  if (r.CpusetMems !== "") out.CpusetMems = r.CpusetMems;
  if (r.Memory !== 0) {
    // A new limit above a swap limit already set needs a new swap limit too (a container
    // without a swap limit takes the new memory limit alone, as current dockerd does).
    if (c.MemorySwap > 0 && r.Memory > c.MemorySwap && r.MemorySwap === 0) {
      conflict(
        id,
        "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
      );
    }
    out.Memory = r.Memory;
  }
  if (r.MemorySwap !== 0) out.MemorySwap = r.MemorySwap;
  if (r.MemoryReservation !== 0) out.MemoryReservation = r.MemoryReservation;
  if (r.PidsLimit !== undefined) out.PidsLimit = r.PidsLimit;
  if (u.restartPolicy) {
    if (c.AutoRemove && r.RestartPolicy.Name !== "no") {
      conflict(id, "Restart policy cannot be updated because AutoRemove is enabled for the container");
    }
    out.RestartPolicy = { ...r.RestartPolicy };
  }
  // The result must still hold together (memory above its reservation, swap above memory).
  if (out.MemoryReservation > 0 && out.Memory > 0 && out.Memory < out.MemoryReservation) {
    conflict(id, "Minimum memory limit can not be less than memory reservation limit, see usage");
  }
  if (out.Memory > 0 && out.MemorySwap > 0 && out.MemorySwap < out.Memory) {
    conflict(id, "Minimum memoryswap limit should be larger than memory limit, see usage");
  }
  return out;
}

/** RLIM_INFINITY as read back from JSON (2^64 - 1 parses to the double 2^64). */
const RLIM_INFINITY_READ = 2 ** 64;

/**
 * A copy of a spec (or a part of one, such as its process) read back from containerd, with
 * RLIM_INFINITY written exactly again, so it can be sent on. Anything but an object is refused:
 * sending a made-up spec would replace the container's.
 */
export function exactSpec(spec: unknown): Record<string, unknown> {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new BerthError("internal", "the spec containerd keeps for the container is not a runtime spec");
  }
  const raw = (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON;
  return JSON.parse(JSON.stringify(spec), (_k, v: unknown) =>
    v === RLIM_INFINITY_READ ? raw("18446744073709551615") : v,
  ) as Record<string, unknown>;
}

/**
 * The spec containerd keeps with linux.resources' memory, cpu and pids replaced by `resources`
 * (devices and the rest kept), for the next start. The spec comes back as parsed JSON, where
 * RLIM_INFINITY (the only integer past 2^53 berthd writes: Ulimits of -1) became 2^64: it is
 * written exactly again.
 */
export function specWithResources(spec: unknown, resources: Resources): unknown {
  const copy = exactSpec(spec) as { linux?: { resources?: Record<string, unknown> } };
  copy.linux ??= {};
  const current = { ...(copy.linux.resources ?? {}) };
  for (const k of ["memory", "cpu", "pids"] as const) {
    if (resources[k] === undefined) delete current[k];
    else current[k] = resources[k];
  }
  copy.linux.resources = current;
  return copy;
}
