// linux.resources: types and ranges only. Whether a controller exists, or a value converts to
// cgroup v2, is for the cgroup managers to decide on the real host.
import {
  array,
  boolean,
  fail,
  INT64,
  integer,
  isAbsent,
  keyField,
  object,
  oneOf,
  optionalBoolean,
  optionalInteger,
  put,
  record,
  string,
  UINT16,
  UINT32,
  UINT64,
} from "./decode.ts";
import { optionalCpuList } from "./process.ts";
import type {
  BlockIoResources,
  CpuResources,
  DeviceCgroupRule,
  MemoryResources,
  NetworkResources,
  Resources,
  ThrottleDevice,
  WeightDevice,
} from "./types.ts";

/** Memory sizes are int64 where -1 means unlimited; other negatives are meaningless. */
const MEMORY: readonly [bigint, bigint] = [-1n, INT64[1]];

const DEVICE_RULE_NUMBER: readonly [bigint, bigint] = [-1n, 0xffff_ffffn];

function decodeDeviceRule(raw: unknown, field: string): DeviceCgroupRule {
  const o = object(raw, field);
  if (isAbsent(o.allow)) fail(`${field}.allow`, "is required");
  const rule: DeviceCgroupRule = { allow: boolean(o.allow, `${field}.allow`) };
  if (!isAbsent(o.type) && o.type !== "") rule.type = oneOf(o.type, `${field}.type`, ["a", "c", "b"] as const);
  // -1 is how some callers spell the wildcard that an absent major/minor means. The kernel compares
  // a device's major and minor as u32 (the v2 filter's immediates are 32 bits): a larger number
  // would be cut to its low bits and match another device, so it is refused.
  put(rule, "major", optionalInteger(o.major, `${field}.major`, DEVICE_RULE_NUMBER));
  put(rule, "minor", optionalInteger(o.minor, `${field}.minor`, DEVICE_RULE_NUMBER));
  if (!isAbsent(o.access)) {
    const access = string(o.access, `${field}.access`);
    if (!/^[rwm]*$/.test(access)) fail(`${field}.access`, `${JSON.stringify(access)} may only contain r, w and m`);
    rule.access = access;
  }
  return rule;
}

function decodeMemory(value: unknown, field: string): MemoryResources {
  const o = object(value, field);
  const m: MemoryResources = {};
  for (const key of ["limit", "reservation", "swap", "kernel", "kernelTCP"] as const) {
    put(m, key, optionalInteger(o[key], `${field}.${key}`, MEMORY));
  }
  put(m, "swappiness", optionalInteger(o.swappiness, `${field}.swappiness`, [0n, 100n]));
  for (const key of ["disableOOMKiller", "useHierarchy", "checkBeforeUpdate"] as const) {
    put(m, key, optionalBoolean(o[key], `${field}.${key}`));
  }
  return m;
}

function decodeCpu(value: unknown, field: string): CpuResources {
  const o = object(value, field);
  const c: CpuResources = {};
  for (const key of ["shares", "burst", "period", "realtimePeriod"] as const) {
    put(c, key, optionalInteger(o[key], `${field}.${key}`, UINT64));
  }
  // quota -1 means unlimited; realtimeRuntime -1 likewise; idle is 0 or 1 on current kernels.
  for (const key of ["quota", "realtimeRuntime", "idle"] as const) {
    put(c, key, optionalInteger(o[key], `${field}.${key}`, INT64));
  }
  put(c, "cpus", optionalCpuList(o.cpus, `${field}.cpus`));
  put(c, "mems", optionalCpuList(o.mems, `${field}.mems`));
  return c;
}

function decodeWeightDevice(raw: unknown, field: string): WeightDevice {
  const o = object(raw, field);
  const d: WeightDevice = {
    major: integer(o.major, `${field}.major`, INT64),
    minor: integer(o.minor, `${field}.minor`, INT64),
  };
  put(d, "weight", optionalInteger(o.weight, `${field}.weight`, UINT16));
  put(d, "leafWeight", optionalInteger(o.leafWeight, `${field}.leafWeight`, UINT16));
  return d;
}

function decodeThrottleDevice(raw: unknown, field: string): ThrottleDevice {
  const o = object(raw, field);
  return {
    major: integer(o.major, `${field}.major`, INT64),
    minor: integer(o.minor, `${field}.minor`, INT64),
    rate: integer(o.rate, `${field}.rate`, UINT64),
  };
}

function decodeBlockIo(value: unknown, field: string): BlockIoResources {
  const o = object(value, field);
  const b: BlockIoResources = {};
  put(b, "weight", optionalInteger(o.weight, `${field}.weight`, UINT16));
  put(b, "leafWeight", optionalInteger(o.leafWeight, `${field}.leafWeight`, UINT16));
  if (!isAbsent(o.weightDevice)) b.weightDevice = array(o.weightDevice, `${field}.weightDevice`, decodeWeightDevice);
  for (const key of [
    "throttleReadBpsDevice",
    "throttleWriteBpsDevice",
    "throttleReadIOPSDevice",
    "throttleWriteIOPSDevice",
  ] as const) {
    if (!isAbsent(o[key])) b[key] = array(o[key], `${field}.${key}`, decodeThrottleDevice);
  }
  return b;
}

function decodeNetwork(value: unknown, field: string): NetworkResources {
  const o = object(value, field);
  const n: NetworkResources = {};
  put(n, "classID", optionalInteger(o.classID, `${field}.classID`, UINT32));
  if (!isAbsent(o.priorities)) {
    n.priorities = array(o.priorities, `${field}.priorities`, (raw, f) => {
      const p = object(raw, f);
      return { name: string(p.name, `${f}.name`), priority: integer(p.priority, `${f}.priority`, UINT32) };
    });
  }
  return n;
}

export function decodeResources(value: unknown, field: string): Resources {
  const o = object(value, field);
  const r: Resources = {};
  if (!isAbsent(o.devices)) r.devices = array(o.devices, `${field}.devices`, decodeDeviceRule);
  if (!isAbsent(o.memory)) r.memory = decodeMemory(o.memory, `${field}.memory`);
  if (!isAbsent(o.cpu)) r.cpu = decodeCpu(o.cpu, `${field}.cpu`);
  if (!isAbsent(o.pids)) {
    const p = object(o.pids, `${field}.pids`);
    // runtime-spec 1.3 made the limit optional; without one there is nothing to set.
    if (!isAbsent(p.limit)) r.pids = { limit: integer(p.limit, `${field}.pids.limit`, INT64) };
  }
  if (!isAbsent(o.blockIO)) r.blockIO = decodeBlockIo(o.blockIO, `${field}.blockIO`);
  if (!isAbsent(o.hugepageLimits)) {
    r.hugepageLimits = array(o.hugepageLimits, `${field}.hugepageLimits`, (raw, f) => {
      const h = object(raw, f);
      const pageSize = string(h.pageSize, `${f}.pageSize`);
      if (!/^\d+[KMGTP]B$/.test(pageSize))
        fail(`${f}.pageSize`, `${JSON.stringify(pageSize)} is not a size like "2MB"`);
      return { pageSize, limit: integer(h.limit, `${f}.limit`, UINT64) };
    });
  }
  if (!isAbsent(o.network)) r.network = decodeNetwork(o.network, `${field}.network`);
  if (!isAbsent(o.rdma)) {
    r.rdma = record(o.rdma, `${field}.rdma`, (raw, f) => {
      const d = object(raw, f);
      const out: { hcaHandles?: number; hcaObjects?: number } = {};
      put(out, "hcaHandles", optionalInteger(d.hcaHandles, `${f}.hcaHandles`, UINT32));
      put(out, "hcaObjects", optionalInteger(d.hcaObjects, `${f}.hcaObjects`, UINT32));
      return out;
    });
  }
  if (!isAbsent(o.unified)) {
    r.unified = record(o.unified, `${field}.unified`, string);
    for (const key of Object.keys(r.unified)) {
      // Keys name files in the container's cgroup directory: no paths, no escaping it.
      if (key === "" || key.includes("/") || key === "." || key === "..") {
        fail(keyField(`${field}.unified`, key), "is not a cgroup file name");
      }
    }
  }
  return r;
}
