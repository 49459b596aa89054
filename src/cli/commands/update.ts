// berth update: POST /containers/{id}/update with the resources and restart policy the flags give
// (docker 28's body, zeros included), each container's name printed once it is updated, the
// daemon's warnings after them, and the failures together at the end (exit 1).
import { CliError, DaemonError, UsageError } from "../errors.ts";
import type { FlagDef, Parsed } from "../flags/parse.ts";
import { parseRestartPolicy } from "../run/create-body.ts";
import { CONTAINER_FLAGS } from "../run/flags.ts";
import { parseBytes, parseNanoCpus } from "../run/units.ts";
import { type Command, int, str } from "./command.ts";

/** run's own definition of a flag update shares with it (names, kinds, value checks). */
function runFlag(long: string, change: Partial<FlagDef> = {}): FlagDef {
  const def = CONTAINER_FLAGS.find((f) => f.long === long);
  if (def === undefined) throw new Error(`no run flag --${long}`);
  return { ...def, ...change };
}

const FLAGS: FlagDef[] = [
  runFlag("blkio-weight", { help: "Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)" }),
  runFlag("cpu-period"),
  runFlag("cpu-quota"),
  runFlag("cpu-rt-period"),
  runFlag("cpu-rt-runtime"),
  runFlag("cpu-shares"),
  // update's --cpus came later than run's (API 1.29, not 1.25).
  runFlag("cpus", { minApi: "1.29" }),
  runFlag("cpuset-cpus"),
  runFlag("cpuset-mems"),
  // Hidden in docker 28's update (the kernel dropped it), still sent when given.
  runFlag("kernel-memory", { hidden: true }),
  runFlag("memory"),
  runFlag("memory-reservation"),
  runFlag("memory-swap"),
  runFlag("pids-limit", { minApi: "1.40" }),
  // No default here: an update without --restart leaves the policy as it is.
  runFlag("restart", { default: undefined, help: "Restart policy to apply when a container exits" }),
];

function bytes(p: Parsed, name: string): number {
  const v = str(p, name);
  if (v === undefined || v === "") return 0;
  if (v === "-1") return -1;
  const r = parseBytes(v);
  return "value" in r ? r.value : 0;
}

/** The update body docker 28 sends for these flags. */
export function updateBody(p: Parsed): Record<string, unknown> {
  let restart = { Name: "", MaximumRetryCount: 0 };
  const policy = str(p, "restart");
  if (policy !== undefined && policy !== "") {
    const r = parseRestartPolicy(policy);
    if ("problem" in r) throw new CliError(r.problem);
    restart = r.value;
  }
  const cpus = str(p, "cpus");
  const nano = cpus === undefined || cpus === "" ? undefined : parseNanoCpus(cpus);
  const pids = int(p, "pids-limit") ?? 0;
  const kernel = bytes(p, "kernel-memory");
  return {
    CpuShares: int(p, "cpu-shares") ?? 0,
    Memory: bytes(p, "memory"),
    NanoCpus: nano !== undefined && "value" in nano ? nano.value : 0,
    CgroupParent: "",
    BlkioWeight: Number(str(p, "blkio-weight") ?? 0),
    BlkioWeightDevice: null,
    BlkioDeviceReadBps: null,
    BlkioDeviceWriteBps: null,
    BlkioDeviceReadIOps: null,
    BlkioDeviceWriteIOps: null,
    CpuPeriod: int(p, "cpu-period") ?? 0,
    CpuQuota: int(p, "cpu-quota") ?? 0,
    CpuRealtimePeriod: int(p, "cpu-rt-period") ?? 0,
    CpuRealtimeRuntime: int(p, "cpu-rt-runtime") ?? 0,
    CpusetCpus: str(p, "cpuset-cpus") ?? "",
    CpusetMems: str(p, "cpuset-mems") ?? "",
    Devices: null,
    DeviceCgroupRules: null,
    DeviceRequests: null,
    ...(kernel !== 0 ? { KernelMemory: kernel } : {}),
    MemoryReservation: bytes(p, "memory-reservation"),
    MemorySwap: bytes(p, "memory-swap"),
    MemorySwappiness: null,
    OomKillDisable: null,
    PidsLimit: pids !== 0 ? pids : null,
    Ulimits: null,
    CpuCount: 0,
    CpuPercent: 0,
    IOMaximumIOps: 0,
    IOMaximumBandwidth: 0,
    RestartPolicy: restart,
  };
}

const command: Command = {
  usage: "update [OPTIONS] CONTAINER [CONTAINER...]",
  summary: "Update configuration of one or more containers",
  aliases: "berth container update, berth update",
  flags: FLAGS,
  args: { min: 1 },
  async run(io, p) {
    if ([...p.set].filter((f) => f !== "help").length === 0)
      throw new UsageError("you must provide one or more flags when using this command", 1);
    const body = updateBody(p);
    const warnings: string[] = [];
    const failures: string[] = [];
    for (const name of p.args) {
      try {
        const r = await io
          .client()
          .json<{ Warnings?: unknown }>("POST", `/containers/${encodeURIComponent(name)}/update`, { body });
        io.out.write(`${name}\n`);
        if (Array.isArray(r?.Warnings)) warnings.push(...r.Warnings.filter((w) => typeof w === "string"));
      } catch (e) {
        if (!(e instanceof DaemonError)) throw e;
        failures.push(e.message);
      }
    }
    if (warnings.length > 0) io.out.write(`${warnings.join("\n")}\n`);
    if (failures.length > 0) throw new CliError(failures.join("\n"));
  },
};
export default command;
