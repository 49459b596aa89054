import { readFileSync } from "node:fs";
import { FailedPreconditionError } from "../../common/errors.ts";
import { type FlagSpecs, parseFlags, str, UsageError } from "../../common/flags.ts";
import type { Command } from "../cli/context.ts";
import { decodeResources } from "../config/resources.ts";
import type { Resources } from "../config/types.ts";
import { statusOf, updateContainer } from "../container/lifecycle.ts";
import { idArg } from "./create.ts";

const updateFlags: FlagSpecs = {
  resources: { kind: "string", aliases: ["r"], usage: "path to a LinuxResources JSON file, or - for stdin" },
  "blkio-weight": { kind: "string", usage: "block IO weight (10-1000)" },
  "cpu-period": { kind: "string", usage: "CPU CFS period in microseconds" },
  "cpu-quota": { kind: "string", usage: "CPU CFS quota in microseconds" },
  "cpu-rt-period": { kind: "string", usage: "CPU realtime period" },
  "cpu-rt-runtime": { kind: "string", usage: "CPU realtime runtime" },
  "cpu-share": { kind: "string", usage: "CPU shares (relative weight)" },
  "cpuset-cpus": { kind: "string", usage: "CPUs to use" },
  "cpuset-mems": { kind: "string", usage: "memory nodes to use" },
  memory: { kind: "string", usage: "memory limit (bytes, or with k/m/g suffix)" },
  "memory-reservation": { kind: "string", usage: "memory soft limit" },
  "memory-swap": { kind: "string", usage: "memory + swap limit (-1 for unlimited)" },
  "kernel-memory": { kind: "string", usage: "kernel memory limit (deprecated)" },
  "kernel-memory-tcp": { kind: "string", usage: "kernel TCP buffer limit (deprecated)" },
  "pids-limit": { kind: "string", usage: "maximum number of pids (-1 or 0 for unlimited)" },
};

/** "64m", "1g", "1024", "-1": what docker-style memory flags accept. */
export function parseBytes(text: string, flag: string): number {
  const m = /^(-1|\d+(?:\.\d+)?)([kmgt]?)b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid value for --${flag}: ${text}`);
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()]!;
  return m[1] === "-1" ? -1 : Math.floor(Number(m[1]) * mult);
}

function int(text: string, flag: string): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`invalid value for --${flag}: ${text}`);
  return Number(text);
}

export function resourcesFromFlags(get: (name: string) => string | undefined): Resources {
  const r: Resources = {};
  const v = (n: string) => get(n);
  const cpu: NonNullable<Resources["cpu"]> = {};
  const mem: NonNullable<Resources["memory"]> = {};
  if (v("cpu-period")) cpu.period = int(v("cpu-period")!, "cpu-period");
  if (v("cpu-quota")) cpu.quota = int(v("cpu-quota")!, "cpu-quota");
  if (v("cpu-rt-period")) cpu.realtimePeriod = int(v("cpu-rt-period")!, "cpu-rt-period");
  if (v("cpu-rt-runtime")) cpu.realtimeRuntime = int(v("cpu-rt-runtime")!, "cpu-rt-runtime");
  if (v("cpu-share")) cpu.shares = int(v("cpu-share")!, "cpu-share");
  if (v("cpuset-cpus")) cpu.cpus = v("cpuset-cpus");
  if (v("cpuset-mems")) cpu.mems = v("cpuset-mems");
  if (v("memory")) mem.limit = parseBytes(v("memory")!, "memory");
  if (v("memory-reservation")) mem.reservation = parseBytes(v("memory-reservation")!, "memory-reservation");
  if (v("memory-swap")) mem.swap = parseBytes(v("memory-swap")!, "memory-swap");
  if (v("kernel-memory")) mem.kernel = parseBytes(v("kernel-memory")!, "kernel-memory");
  if (v("kernel-memory-tcp")) mem.kernelTCP = parseBytes(v("kernel-memory-tcp")!, "kernel-memory-tcp");
  if (v("pids-limit")) r.pids = { limit: int(v("pids-limit")!, "pids-limit") };
  if (v("blkio-weight")) r.blockIO = { weight: int(v("blkio-weight")!, "blkio-weight") };
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  if (Object.keys(mem).length > 0) r.memory = mem;
  return r;
}

export const update: Command = {
  name: "update",
  summary: "change the resource limits of a container",
  usage: "update [options] <container-id>",
  async run(ctx, argv) {
    const p = parseFlags(argv, updateFlags);
    const id = idArg(p.positionals, "update");
    const rec = ctx.store.load(id);
    if (statusOf(ctx.store, rec) === "stopped") throw new FailedPreconditionError("container not running");
    const file = str(p, "resources");
    const next = file
      ? decodeResources(JSON.parse(readFileSync(file === "-" ? 0 : file, "utf8")), "resources")
      : resourcesFromFlags((n) => str(p, n));
    updateContainer(ctx.store, id, next);
    return 0;
  },
};
