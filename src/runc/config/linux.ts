// The linux object: per-field decoding. Rules that relate several fields live in rules.ts.
import {
  absolutePath,
  array,
  type DecodeContext,
  fail,
  INT64,
  isAbsent,
  keyField,
  object,
  oneOf,
  optionalBoolean,
  optionalInteger,
  optionalString,
  optionalStringArray,
  optionalUserOrGroupId,
  put,
  record,
  string,
  UINT32,
} from "./decode.ts";
import { decodeIdMappings, decodeNamespaces } from "./namespaces.ts";
import { optionalLabel } from "./process.ts";
import { decodeResources } from "./resources.ts";
import { decodeSeccomp } from "./seccomp.ts";
import type { Device, Linux } from "./types.ts";

export const ROOTFS_PROPAGATIONS = [
  "private",
  "rprivate",
  "slave",
  "rslave",
  "shared",
  "rshared",
  "unbindable",
  "runbindable",
] as const;

const TIME_CLOCKS = ["boottime", "monotonic"] as const;

// mknod(2) hands the kernel a 32-bit dev_t that it splits into a 12-bit major and a 20-bit minor:
// no device has larger numbers, and a number cut to fit (nsexec passes them as unsigned ints, so
// major 2^32+1 became major 1: /dev/mem) would make another device. They are refused.
const DEVICE_MAJOR: readonly [bigint, bigint] = [0n, 0xfffn];
const DEVICE_MINOR: readonly [bigint, bigint] = [0n, 0xfffffn];

function decodeDevice(raw: unknown, field: string): Device {
  const o = object(raw, field);
  const type = oneOf(o.type, `${field}.type`, ["c", "b", "u", "p"] as const);
  const path = absolutePath(o.path, `${field}.path`);
  if (path === "/" || path.split("/").includes(".."))
    fail(`${field}.path`, `${JSON.stringify(path)} is not a device path`);
  const d: Device = { type, path };
  if (type !== "p") {
    if (isAbsent(o.major)) fail(`${field}.major`, `is required for a device of type ${JSON.stringify(type)}`);
    if (isAbsent(o.minor)) fail(`${field}.minor`, `is required for a device of type ${JSON.stringify(type)}`);
  }
  put(d, "major", optionalInteger(o.major, `${field}.major`, DEVICE_MAJOR));
  put(d, "minor", optionalInteger(o.minor, `${field}.minor`, DEVICE_MINOR));
  put(d, "fileMode", optionalInteger(o.fileMode, `${field}.fileMode`, UINT32));
  put(d, "uid", optionalUserOrGroupId(o.uid, `${field}.uid`));
  put(d, "gid", optionalUserOrGroupId(o.gid, `${field}.gid`));
  return d;
}

function decodeTimeOffsets(value: unknown, field: string): Record<string, { secs?: number; nanosecs?: number }> {
  return record(value, field, (raw, f) => {
    const o = object(raw, f);
    const out: { secs?: number; nanosecs?: number } = {};
    put(out, "secs", optionalInteger(o.secs, `${f}.secs`, INT64));
    put(out, "nanosecs", optionalInteger(o.nanosecs, `${f}.nanosecs`, [0n, 999_999_999n]));
    return out;
  });
}

function decodeIntelRdt(value: unknown, field: string): Record<string, unknown> {
  const o = object(value, field);
  const out: Record<string, unknown> = {};
  const closID = optionalString(o.closID, `${field}.closID`);
  if (closID !== undefined) {
    // It names a directory under /sys/fs/resctrl.
    if (closID === "." || closID === ".." || closID.includes("/")) {
      fail(`${field}.closID`, `${JSON.stringify(closID)} is not a valid CLOS name`);
    }
    out.closID = closID;
  }
  put(out, "l3CacheSchema", optionalString(o.l3CacheSchema, `${field}.l3CacheSchema`));
  put(out, "memBwSchema", optionalString(o.memBwSchema, `${field}.memBwSchema`));
  put(out, "schemata", optionalStringArray(o.schemata, `${field}.schemata`));
  for (const key of ["enableCMT", "enableMBM", "enableMonitoring"]) {
    put(out, key, optionalBoolean(o[key], `${field}.${key}`));
  }
  return out;
}

function pathList(value: unknown, field: string): string[] {
  return array(value, field, absolutePath);
}

export function decodeLinux(value: unknown, field: string, ctx: DecodeContext): Linux {
  const o = object(value, field);
  const l: Linux = {};
  if (!isAbsent(o.namespaces)) l.namespaces = decodeNamespaces(o.namespaces, `${field}.namespaces`, ctx);
  if (!isAbsent(o.uidMappings)) l.uidMappings = decodeIdMappings(o.uidMappings, `${field}.uidMappings`);
  if (!isAbsent(o.gidMappings)) l.gidMappings = decodeIdMappings(o.gidMappings, `${field}.gidMappings`);
  if (!isAbsent(o.timeOffsets)) {
    l.timeOffsets = decodeTimeOffsets(o.timeOffsets, `${field}.timeOffsets`);
    for (const clock of Object.keys(l.timeOffsets)) oneOf(clock, keyField(`${field}.timeOffsets`, clock), TIME_CLOCKS);
  }
  if (!isAbsent(o.devices)) l.devices = array(o.devices, `${field}.devices`, decodeDevice);
  put(l, "cgroupsPath", optionalString(o.cgroupsPath, `${field}.cgroupsPath`));
  if (!isAbsent(o.resources)) l.resources = decodeResources(o.resources, `${field}.resources`);
  if (!isAbsent(o.rootfsPropagation) && o.rootfsPropagation !== "") {
    l.rootfsPropagation = oneOf(o.rootfsPropagation, `${field}.rootfsPropagation`, ROOTFS_PROPAGATIONS);
  }
  if (!isAbsent(o.seccomp)) l.seccomp = decodeSeccomp(o.seccomp, `${field}.seccomp`);
  if (!isAbsent(o.sysctl)) l.sysctl = record(o.sysctl, `${field}.sysctl`, string);
  if (!isAbsent(o.maskedPaths)) l.maskedPaths = pathList(o.maskedPaths, `${field}.maskedPaths`);
  if (!isAbsent(o.readonlyPaths)) l.readonlyPaths = pathList(o.readonlyPaths, `${field}.readonlyPaths`);
  put(l, "mountLabel", optionalLabel(o.mountLabel, `${field}.mountLabel`));
  if (!isAbsent(o.personality)) {
    const p = object(o.personality, `${field}.personality`);
    const personality: { domain: string; flags?: string[] } = {
      domain: oneOf(p.domain, `${field}.personality.domain`, ["LINUX", "LINUX32"] as const),
    };
    put(personality, "flags", optionalStringArray(p.flags, `${field}.personality.flags`));
    l.personality = personality;
  }
  if (!isAbsent(o.intelRdt)) l.intelRdt = decodeIntelRdt(o.intelRdt, `${field}.intelRdt`);
  return l;
}
