// Docker-format seccomp profiles (the default one, and one sent inline as
// SecurityOpt "seccomp=<json>") turned into the runtime-spec's linux.seccomp for one container:
// rules whose includes/excludes (capabilities, architectures, minimum kernel) do not hold for it
// are dropped, the architectures come from the profile's archMap entry for the native arch, and
// what is left is checked by berth-runc's own linux.seccomp decoder, so berth-runc, runc and
// crun all load the result. Pure.
import { errorMessage, InvalidArgumentError } from "../../../common/errors.ts";
import { decodeSeccomp } from "../../../runc/config/seccomp.ts";
import type { Seccomp, SeccompAction, SeccompArg, SeccompSyscall } from "../../../runc/config/types.ts";
import type { ArchName } from "../../../runc/seccomp/index.ts";

export interface ProfileFilter {
  caps?: string[];
  /** Go's architecture names (amd64, arm64, s390x, ...). */
  arches?: string[];
  /** "major.minor". */
  minKernel?: string;
}

export interface DockerSyscallRule {
  name?: string;
  names?: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[];
  comment?: string;
  includes?: ProfileFilter;
  excludes?: ProfileFilter;
}

export interface DockerSeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] }[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: DockerSyscallRule[];
}

/** What decides which rules apply: the container's bounding set, the host's arch and kernel. */
export interface SeccompTarget {
  capabilities: readonly string[];
  /** Go's name of the native architecture (amd64, arm64, ...). */
  goArch: string;
  kernel: readonly [number, number];
}

/** Go's GOARCH for a Node process.arch. */
export function goArch(nodeArch: string = process.arch): string {
  const map: Record<string, string> = {
    x64: "amd64",
    ia32: "386",
    arm64: "arm64",
    arm: "arm",
    ppc64: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
    mips64el: "mips64le",
    loong64: "loong64",
  };
  return map[nodeArch] ?? nodeArch;
}

/** libseccomp's name of a Go arch (what archMap entries are keyed by). */
export const SECCOMP_ARCH_OF_GO: Readonly<Record<string, ArchName>> = {
  amd64: "SCMP_ARCH_X86_64",
  "386": "SCMP_ARCH_X86",
  arm64: "SCMP_ARCH_AARCH64",
  arm: "SCMP_ARCH_ARM",
  ppc64le: "SCMP_ARCH_PPC64LE",
  s390x: "SCMP_ARCH_S390X",
  riscv64: "SCMP_ARCH_RISCV64",
  mips64: "SCMP_ARCH_MIPS64",
  mips64le: "SCMP_ARCH_MIPSEL64",
  loong64: "SCMP_ARCH_LOONGARCH64",
};

function parseKernel(v: string, field: string): [number, number] {
  const m = /^([0-9]{1,4})\.([0-9]{1,4})$/.exec(v);
  if (m === null)
    throw new InvalidArgumentError(
      `Decoding seccomp profile failed: ${field}: invalid kernel version ${JSON.stringify(v)}`,
    );
  return [Number(m[1]), Number(m[2])];
}

const atLeast = (k: readonly [number, number], min: [number, number]) =>
  k[0] > min[0] || (k[0] === min[0] && k[1] >= min[1]);

/** Whether a rule applies to the target, as dockerd decides it. */
function applies(rule: DockerSyscallRule, t: SeccompTarget, field: string): boolean {
  const ex = rule.excludes;
  if (ex?.arches?.includes(t.goArch)) return false;
  if (ex?.caps?.some((c) => t.capabilities.includes(c))) return false;
  if (ex?.minKernel !== undefined && atLeast(t.kernel, parseKernel(ex.minKernel, `${field}.excludes.minKernel`)))
    return false;
  const inc = rule.includes;
  if (inc?.arches !== undefined && inc.arches.length > 0 && !inc.arches.includes(t.goArch)) return false;
  if (inc?.caps !== undefined && !inc.caps.every((c) => t.capabilities.includes(c))) return false;
  if (inc?.minKernel !== undefined && !atLeast(t.kernel, parseKernel(inc.minKernel, `${field}.includes.minKernel`)))
    return false;
  return true;
}

/** linux.seccomp for one container from a docker-format profile. */
export function seccompFor(profile: DockerSeccompProfile, t: SeccompTarget): Seccomp {
  const out: Seccomp = { defaultAction: profile.defaultAction };
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet;
  if (profile.architectures !== undefined && profile.architectures.length > 0) {
    if (profile.archMap !== undefined && profile.archMap.length > 0) {
      throw new InvalidArgumentError(
        "Decoding seccomp profile failed: 'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'",
      );
    }
    out.architectures = [...profile.architectures];
  } else {
    const native = SECCOMP_ARCH_OF_GO[t.goArch];
    const entry = profile.archMap?.find((a) => a.architecture === native);
    if (entry !== undefined) out.architectures = [entry.architecture, ...entry.subArchitectures];
  }
  if (profile.flags !== undefined && profile.flags.length > 0) out.flags = [...profile.flags];
  if (profile.listenerPath !== undefined && profile.listenerPath !== "") out.listenerPath = profile.listenerPath;
  if (profile.listenerMetadata !== undefined && profile.listenerMetadata !== "") {
    out.listenerMetadata = profile.listenerMetadata;
  }
  const syscalls: SeccompSyscall[] = [];
  (profile.syscalls ?? []).forEach((rule, i) => {
    const field = `syscalls[${i}]`;
    if (rule.name !== undefined && rule.name !== "" && rule.names !== undefined && rule.names.length > 0) {
      throw new InvalidArgumentError(
        "Decoding seccomp profile failed: 'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'",
      );
    }
    if (!applies(rule, t, field)) return;
    const names = rule.names !== undefined && rule.names.length > 0 ? [...rule.names] : rule.name ? [rule.name] : [];
    const sc: SeccompSyscall = { names, action: rule.action };
    if (rule.errnoRet !== undefined) sc.errnoRet = rule.errnoRet;
    // A valueTwo of 0 is left out, as dockerd's Go encoder leaves a zero out (omitempty).
    if (rule.args !== undefined && rule.args.length > 0) {
      sc.args = rule.args.map(({ valueTwo, ...a }) =>
        valueTwo === undefined || valueTwo === 0 ? a : { ...a, valueTwo },
      );
    }
    syscalls.push(sc);
  });
  out.syscalls = syscalls;
  // The runtime's own decoder has the last word on actions, operators, arches and flags.
  try {
    return decodeSeccomp(JSON.parse(JSON.stringify(out)), "seccomp");
  } catch (err) {
    throw new InvalidArgumentError(
      `Decoding seccomp profile failed: ${errorMessage(err).replace(/^config\.json: /, "")}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding a profile sent by a client (SecurityOpt "seccomp=<json>").

type Json = Record<string, unknown>;

function bad(field: string, problem: string): never {
  throw new InvalidArgumentError(`Decoding seccomp profile failed: ${field}: ${problem}`);
}

function obj(v: unknown, field: string): Json {
  if (typeof v !== "object" || v === null || Array.isArray(v)) bad(field, "must be an object");
  return v as Json;
}

function strList(v: unknown, field: string, max: number): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > max) bad(field, `must be a list of at most ${max} strings`);
  return v.map((s, i) => {
    if (typeof s !== "string" || s.length > 256) bad(`${field}[${i}]`, "must be a string of at most 256 bytes");
    return s;
  });
}

function optStr(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v.length > 4096) bad(field, "must be a string of at most 4096 bytes");
  return v;
}

function optInt(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) bad(field, "must be a uint32");
  return v;
}

function filter(v: unknown, field: string): ProfileFilter | undefined {
  if (v === undefined || v === null) return undefined;
  const o = obj(v, field);
  const f: ProfileFilter = {};
  const caps = strList(o.caps, `${field}.caps`, 64);
  if (caps !== undefined) f.caps = caps;
  const arches = strList(o.arches, `${field}.arches`, 64);
  if (arches !== undefined) f.arches = arches;
  const minKernel = optStr(o.minKernel, `${field}.minKernel`);
  if (minKernel !== undefined && minKernel !== "") f.minKernel = minKernel;
  return f;
}

/** Most rules and names one profile may hold (docker's default has ~30 rules and ~400 names). */
const MAX_RULES = 4_096;
const MAX_NAMES = 4_096;

/** A docker-format profile from the JSON text of SecurityOpt "seccomp=...". */
export function parseDockerProfile(text: string): DockerSeccompProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`Decoding seccomp profile failed: ${errorMessage(err)}`);
  }
  const o = obj(raw, "profile");
  const p: DockerSeccompProfile = { defaultAction: (optStr(o.defaultAction, "defaultAction") ?? "") as SeccompAction };
  const errnoRet = optInt(o.defaultErrnoRet, "defaultErrnoRet");
  if (errnoRet !== undefined) p.defaultErrnoRet = errnoRet;
  const arches = strList(o.architectures, "architectures", 64);
  if (arches !== undefined) p.architectures = arches;
  if (o.archMap !== undefined && o.archMap !== null) {
    if (!Array.isArray(o.archMap) || o.archMap.length > 64) bad("archMap", "must be a list of at most 64 entries");
    p.archMap = o.archMap.map((e, i) => {
      const a = obj(e, `archMap[${i}]`);
      return {
        architecture: optStr(a.architecture, `archMap[${i}].architecture`) ?? "",
        subArchitectures: strList(a.subArchitectures, `archMap[${i}].subArchitectures`, 64) ?? [],
      };
    });
  }
  const flags = strList(o.flags, "flags", 16);
  if (flags !== undefined) p.flags = flags;
  const listenerPath = optStr(o.listenerPath, "listenerPath");
  if (listenerPath !== undefined) p.listenerPath = listenerPath;
  const listenerMetadata = optStr(o.listenerMetadata, "listenerMetadata");
  if (listenerMetadata !== undefined) p.listenerMetadata = listenerMetadata;
  if (o.syscalls !== undefined && o.syscalls !== null) {
    if (!Array.isArray(o.syscalls) || o.syscalls.length > MAX_RULES)
      bad("syscalls", `must be a list of at most ${MAX_RULES} rules`);
    p.syscalls = o.syscalls.map((e, i) => {
      const f = `syscalls[${i}]`;
      const r = obj(e, f);
      const rule: DockerSyscallRule = { action: (optStr(r.action, `${f}.action`) ?? "") as SeccompAction };
      const name = optStr(r.name, `${f}.name`);
      if (name !== undefined) rule.name = name;
      const names = strList(r.names, `${f}.names`, MAX_NAMES);
      if (names !== undefined) rule.names = names;
      const ret = optInt(r.errnoRet, `${f}.errnoRet`);
      if (ret !== undefined) rule.errnoRet = ret;
      if (r.args !== undefined && r.args !== null) {
        if (!Array.isArray(r.args) || r.args.length > 6) bad(`${f}.args`, "must be a list of at most 6 arguments");
        rule.args = r.args.map((a) => obj(a, `${f}.args`) as unknown as SeccompArg);
      }
      const includes = filter(r.includes, `${f}.includes`);
      if (includes !== undefined) rule.includes = includes;
      const excludes = filter(r.excludes, `${f}.excludes`);
      if (excludes !== undefined) rule.excludes = excludes;
      return rule;
    });
  }
  return p;
}
