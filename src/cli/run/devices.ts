// The values of run's block-IO, device-rule and namespace flags, read as the docker CLI reads them
// (its words for a bad value), and turned into the create body's shapes.
import { parseBytes } from "./units.ts";

/** --blkio-weight-device /dev/x:weight (weight 0, or 10 to 1000). */
export function weightDevice(v: string): { value: { Path: string; Weight: number } } | { problem: string } {
  const parts = v.split(":");
  if (parts.length !== 2) return { problem: `bad format: ${v}` };
  const [path, weight] = parts as [string, string];
  if (!path.startsWith("/dev/")) return { problem: `bad format for device path: ${v}` };
  const w = /^\d+$/.test(weight) ? Number(weight) : Number.NaN;
  if (!(w <= 65535) || (w > 0 && (w < 10 || w > 1000))) return { problem: `invalid weight for device: ${v}` };
  return { value: { Path: path, Weight: w } };
}

/** --device-read-bps/--device-write-bps /dev/x:rate[kb|mb|gb]. */
export function bpsDevice(v: string): { value: { Path: string; Rate: number } } | { problem: string } {
  const parts = v.split(":");
  if (parts.length !== 2) return { problem: `bad format: ${v}` };
  const [path, rate] = parts as [string, string];
  if (!path.startsWith("/dev/")) return { problem: `bad format for device path: ${v}` };
  const r = parseBytes(rate);
  if ("problem" in r || r.value < 0) {
    return {
      problem: `invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`,
    };
  }
  return { value: { Path: path, Rate: r.value } };
}

/** --device-read-iops/--device-write-iops /dev/x:rate. */
export function iopsDevice(v: string): { value: { Path: string; Rate: number } } | { problem: string } {
  const parts = v.split(":");
  if (parts.length !== 2) return { problem: `bad format: ${v}` };
  const [path, rate] = parts as [string, string];
  if (!path.startsWith("/dev/")) return { problem: `bad format for device path: ${v}` };
  if (!/^\d+$/.test(rate) || !Number.isSafeInteger(Number(rate))) {
    return {
      problem: `invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`,
    };
  }
  return { value: { Path: path, Rate: Number(rate) } };
}

const CGROUP_RULE = /^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/;

export function checkDeviceCgroupRule(v: string): string | undefined {
  return CGROUP_RULE.test(v) ? undefined : `invalid device cgroup format '${v}'`;
}

export function checkWeightDevice(v: string): string | undefined {
  const r = weightDevice(v);
  return "problem" in r ? r.problem : undefined;
}

export function checkBpsDevice(v: string): string | undefined {
  const r = bpsDevice(v);
  return "problem" in r ? r.problem : undefined;
}

export function checkIopsDevice(v: string): string | undefined {
  const r = iopsDevice(v);
  return "problem" in r ? r.problem : undefined;
}

/**
 * --pid, --uts, --userns, --cgroupns: the modes the docker CLI lets through; its words otherwise.
 * (--ipc it passes to the daemon unchecked.)
 */
export function namespaceProblem(flag: "pid" | "uts" | "userns" | "cgroupns", v: string): string | undefined {
  if (v === "") return undefined;
  switch (flag) {
    case "pid":
      return v === "host" || (v.startsWith("container:") && v.length > 10) ? undefined : "--pid: invalid PID mode";
    case "uts":
      return v === "host" ? undefined : "--uts: invalid UTS mode";
    case "userns":
      return v === "host" ? undefined : "--userns: invalid USER mode";
    case "cgroupns":
      return v === "host" || v === "private" ? undefined : "--cgroupns: invalid CGROUP mode";
  }
}

/** --link name[:alias]. */
export function checkLink(v: string): string | undefined {
  return v.split(":").length > 2 ? `bad format for links: ${v}` : undefined;
}
