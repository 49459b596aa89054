// Device access rules. The spec gives an ordered list of allow/deny rules applied on top of
// "deny everything"; the kernel's v1 devices controller has the same semantics, so we emulate it
// here to get the *resulting* policy. v1 writes that policy (skipping the writes when the cgroup
// already has it, so `update` never opens a window where devices are denied). v2 has no devices
// files: access is enforced by an eBPF program, which Node cannot load (bpf(2)); `devicePolicy`
// is what a native stage needs to generate that program.

import { InvalidArgumentError } from "../../common/errors.ts";
import type { DeviceCgroupRule } from "../config/types.ts";

export type DeviceType = "a" | "b" | "c";

/** One exception: type, major/minor (-1 = any) and a subset of "rwm". */
export interface DeviceException {
  type: DeviceType;
  major: number;
  minor: number;
  access: string;
}

/**
 * The effective policy: when defaultAllow is false the exceptions are what is allowed (an
 * allow-list); when true they are what is denied.
 */
export interface DevicePolicy {
  defaultAllow: boolean;
  exceptions: DeviceException[];
}

const ACCESS_ORDER = "rwm";

function normalizeAccess(access: string | undefined, where: string): string {
  const a = access ?? "rwm";
  for (const ch of a) {
    if (!ACCESS_ORDER.includes(ch)) throw new InvalidArgumentError(`${where}: invalid access ${JSON.stringify(a)}`);
  }
  return [...ACCESS_ORDER].filter((c) => a.includes(c)).join("");
}

function key(e: { type: DeviceType; major: number; minor: number }): string {
  return `${e.type} ${e.major}:${e.minor}`;
}

function addAccess(list: DeviceException[], rule: DeviceException): void {
  const existing = list.find((e) => key(e) === key(rule));
  if (existing) existing.access = normalizeAccess(existing.access + rule.access, "device rule");
  else list.push({ ...rule });
}

// The kernel removes access only from exceptions with exactly the same type/major/minor.
function removeAccess(list: DeviceException[], rule: DeviceException): DeviceException[] {
  const out: DeviceException[] = [];
  for (const e of list) {
    if (key(e) !== key(rule)) {
      out.push(e);
      continue;
    }
    const left = [...e.access].filter((c) => !rule.access.includes(c)).join("");
    if (left !== "") out.push({ ...e, access: left });
  }
  return out;
}

/** Applies the spec's rules, in order, starting from deny-all (runc's starting point). */
export function devicePolicy(rules: DeviceCgroupRule[], start?: DevicePolicy): DevicePolicy {
  let defaultAllow = start?.defaultAllow ?? false;
  let exceptions = start ? start.exceptions.map((e) => ({ ...e })) : [];
  rules.forEach((r, i) => {
    const where = `linux.resources.devices[${i}]`;
    const type = r.type ?? "a";
    if (type !== "a" && type !== "b" && type !== "c") throw new InvalidArgumentError(`${where}: invalid type ${type}`);
    const access = normalizeAccess(r.access, where);
    if (type === "a") {
      // "a" resets the whole policy, whatever major/minor/access say (as the kernel does).
      defaultAllow = r.allow;
      exceptions = [];
      return;
    }
    const rule = { type, major: r.major ?? -1, minor: r.minor ?? -1, access };
    if (access === "") return;
    // An allow rule in deny-by-default mode adds to the allow-list; in allow mode it removes a denial.
    if (r.allow !== defaultAllow) addAccess(exceptions, rule);
    else exceptions = removeAccess(exceptions, rule);
  });
  return { defaultAllow, exceptions };
}

export function formatRule(e: DeviceException): string {
  const n = (v: number) => (v < 0 ? "*" : String(v));
  return `${e.type} ${n(e.major)}:${n(e.minor)} ${e.access}`;
}

/** Parses v1 devices.list. */
export function parseDevicesList(text: string): DevicePolicy {
  const exceptions: DeviceException[] = [];
  for (const line of text.split("\n")) {
    const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!m) continue;
    const type = m[1] as DeviceType;
    // The kernel shows allow-all mode as a single "a *:* rwm" line.
    if (type === "a") return { defaultAllow: true, exceptions: [] };
    const num = (s: string) => (s === "*" ? -1 : Number(s));
    exceptions.push({ type, major: num(m[2]!), minor: num(m[3]!), access: m[4]! });
  }
  return { defaultAllow: false, exceptions };
}

export function samePolicy(a: DevicePolicy, b: DevicePolicy): boolean {
  if (a.defaultAllow !== b.defaultAllow || a.exceptions.length !== b.exceptions.length) return false;
  const set = new Set(a.exceptions.map((e) => `${key(e)} ${e.access}`));
  return b.exceptions.every((e) => set.has(`${key(e)} ${e.access}`));
}

export interface DeviceWrite {
  file: "devices.allow" | "devices.deny";
  value: string;
}

/** The v1 writes that put a cgroup into `target`: reset with "a", then the exceptions. */
export function v1DeviceWrites(target: DevicePolicy): DeviceWrite[] {
  const reset: DeviceWrite = { file: target.defaultAllow ? "devices.allow" : "devices.deny", value: "a" };
  const file = target.defaultAllow ? "devices.deny" : "devices.allow";
  return [reset, ...target.exceptions.map((e) => ({ file, value: formatRule(e) }) as DeviceWrite)];
}
