// cgroup v1 statistics of a task for the shim's Stats call: the cgroups the task's init is in (from
// /proc/<pid>/cgroup), read from the v1 hierarchies and packed as io.containerd.cgroups.v1.Metrics.
// A controller or file that is absent is left out, as containerd's shim does. The parsers are pure;
// the message code is loaded on the first call (a shim that is never asked pays nothing for it).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { NotFoundError } from "../common/errors.ts";
import type { MetricsSchema } from "../proto/gen/cgroups/v1/metrics_pb.js";
import { parseProcCgroup } from "../runc/cgroups/paths.ts";

export const METRICS_TYPE = "io.containerd.cgroups.v1.Metrics";
/** USER_HZ: the unit of cpuacct.stat. */
const USER_HZ = 100;
const NS_PER_TICK = 1_000_000_000n / BigInt(USER_HZ);

type MetricsInit = MessageInitShape<typeof MetricsSchema>;

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat). Pure. */
export function keyValues(text: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v && /^\d+$/.test(v)) m.set(k, BigInt(v));
  }
  return m;
}

/** A file holding one number; "max" (no limit) reads as 0, as containerd reports it. Pure. */
export function numberOf(text: string): bigint | undefined {
  const t = text.trim();
  if (t === "max") return 0n;
  return /^\d+$/.test(t) ? BigInt(t) : undefined;
}

/** memory.stat in MemoryStat's fields (snake_case keys become the message's camelCase). Pure. */
export function memoryStatFields(stat: Map<string, bigint>): Record<string, bigint> {
  const renames: Record<string, string> = {
    pgpgin: "pgPgIn",
    pgpgout: "pgPgOut",
    pgfault: "pgFault",
    pgmajfault: "pgMajFault",
    total_pgpgin: "totalPgPgIn",
    total_pgpgout: "totalPgPgOut",
    total_pgfault: "totalPgFault",
    total_pgmajfault: "totalPgMajFault",
  };
  const known = new Set([
    "cache",
    "rss",
    "rss_huge",
    "mapped_file",
    "dirty",
    "writeback",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
  ]);
  const out: Record<string, bigint> = {};
  for (const [k, v] of stat) {
    const base = k.startsWith("total_") ? k.slice("total_".length) : k;
    let name = renames[k];
    if (!name && known.has(base)) name = camel(k === "hierarchical_memsw_limit" ? "hierarchical_swap_limit" : k);
    if (name) out[name] = v;
  }
  return out;
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

async function read(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

async function num(path: string): Promise<bigint | undefined> {
  const t = await read(path);
  return t === undefined ? undefined : numberOf(t);
}

async function memoryEntry(dir: string, prefix: string) {
  const [limit, usage, max, failcnt] = await Promise.all(
    ["limit_in_bytes", "usage_in_bytes", "max_usage_in_bytes", "failcnt"].map((f) => num(join(dir, `${prefix}.${f}`))),
  );
  if (usage === undefined) return undefined;
  return { limit: limit ?? 0n, usage, max: max ?? 0n, failcnt: failcnt ?? 0n };
}

/** Reads the v1 statistics of the cgroups `pid` is in. */
export async function readCgroupV1Metrics(pid: number, root = "/sys/fs/cgroup"): Promise<MetricsInit> {
  const procText = await read(`/proc/${pid}/cgroup`);
  if (procText === undefined) throw new NotFoundError(`process ${pid}: not found`);
  const paths = parseProcCgroup(procText);
  const dirOf = (controller: string) => {
    const p = paths.get(controller);
    return p === undefined ? undefined : join(root, controller, p);
  };
  const metrics: MetricsInit = {};

  const pids = dirOf("pids");
  if (pids) {
    const current = await num(join(pids, "pids.current"));
    if (current !== undefined) metrics.pids = { current, limit: (await num(join(pids, "pids.max"))) ?? 0n };
  }

  // Hosts mount cpu and cpuacct together (with cpu and cpuacct as symlinks) or apart: these names work for both.
  const cpuacct = dirOf("cpuacct");
  const cpu = dirOf("cpu");
  if (cpuacct) {
    const total = await num(join(cpuacct, "cpuacct.usage"));
    if (total !== undefined) {
      const perCpu = ((await read(join(cpuacct, "cpuacct.usage_percpu"))) ?? "")
        .trim()
        .split(/\s+/)
        .filter((x) => /^\d+$/.test(x))
        .map(BigInt);
      const st = keyValues((await read(join(cpuacct, "cpuacct.stat"))) ?? "");
      const throttle = keyValues((cpu && (await read(join(cpu, "cpu.stat")))) || "");
      metrics.cpu = {
        usage: {
          total,
          perCpu,
          user: (st.get("user") ?? 0n) * NS_PER_TICK,
          kernel: (st.get("system") ?? 0n) * NS_PER_TICK,
        },
        throttling: {
          periods: throttle.get("nr_periods") ?? 0n,
          throttledPeriods: throttle.get("nr_throttled") ?? 0n,
          throttledTime: throttle.get("throttled_time") ?? 0n,
        },
      };
    }
  }

  const memory = dirOf("memory");
  if (memory) {
    const usage = await memoryEntry(memory, "memory");
    if (usage) {
      const stat = keyValues((await read(join(memory, "memory.stat"))) ?? "");
      metrics.memory = {
        ...memoryStatFields(stat),
        usage,
        swap: await memoryEntry(memory, "memory.memsw"),
        kernel: await memoryEntry(memory, "memory.kmem"),
        kernelTcp: await memoryEntry(memory, "memory.kmem.tcp"),
      };
      const oom = keyValues((await read(join(memory, "memory.oom_control"))) ?? "");
      metrics.memoryOomControl = {
        oomKillDisable: oom.get("oom_kill_disable") ?? 0n,
        underOom: oom.get("under_oom") ?? 0n,
        oomKill: oom.get("oom_kill") ?? 0n,
      };
    }
  }
  return metrics;
}

/** The Stats answer: the metrics of `pid`'s cgroups as an Any. */
export async function statsAny(pid: number): Promise<{ typeUrl: string; value: Uint8Array }> {
  const metrics = await readCgroupV1Metrics(pid);
  const [{ create, toBinary }, { MetricsSchema: schema }] = await Promise.all([
    import("@bufbuild/protobuf"),
    import("../proto/gen/cgroups/v1/metrics_pb.js"),
  ]);
  return { typeUrl: METRICS_TYPE, value: toBinary(schema, create(schema, metrics)) };
}
