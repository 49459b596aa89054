// --mount (type=bind|volume|tmpfs,source=...,target=...,readonly,...) and -v (host:container[:opts])
// read as the docker CLI reads them, into the Engine API's HostConfig.Mounts entries, Binds and
// anonymous Volumes.
import { isAbsolute, resolve } from "node:path";
import { parseGoBool } from "../flags/parse.ts";
import { parseBytes } from "./units.ts";

export interface MountSpec {
  Type: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean };
  VolumeOptions?: {
    NoCopy?: boolean;
    Labels?: Record<string, string>;
    DriverConfig?: { Name?: string; Options?: Record<string, string> };
  };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** A bool field: bare means true. */
function boolOf(key: string, v: string | undefined): boolean | { problem: string } {
  if (v === undefined) return true;
  return parseGoBool(v) ?? { problem: `invalid value for ${key}: ${v}` };
}

/** One --mount value (comma-separated fields; a field quoted with "..." may hold commas). */
export function parseMount(raw: string): { value: MountSpec } | { problem: string } {
  const fields = splitCsv(raw);
  if (fields === undefined)
    return { problem: `parse error on line 1, column ${raw.length + 1}: extraneous or missing " in quoted-field` };
  const m: MountSpec = { Type: "volume" };
  let volumeOnly = false;
  let bindOnly = false;
  let tmpfsOnly = false;
  for (const field of fields) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    const val = eq < 0 ? undefined : field.slice(eq + 1);
    if (val === undefined && !["readonly", "ro", "volume-nocopy", "bind-nonrecursive"].includes(key)) {
      return { problem: `invalid field '${field}' must be a key=value pair` };
    }
    switch (key) {
      case "type":
        m.Type = val!.toLowerCase();
        break;
      case "source":
      case "src":
        m.Source = val!;
        break;
      case "target":
      case "dst":
      case "destination":
        m.Target = val!;
        break;
      case "readonly":
      case "ro": {
        const b = boolOf(key, val);
        if (typeof b !== "boolean") return b;
        m.ReadOnly = b;
        break;
      }
      case "consistency":
        m.Consistency = val!;
        break;
      case "bind-propagation":
        bindOnly = true;
        m.BindOptions = { ...m.BindOptions, Propagation: val!.toLowerCase() };
        break;
      case "bind-nonrecursive": {
        bindOnly = true;
        const b = boolOf(key, val);
        if (typeof b !== "boolean") return b;
        m.BindOptions = { ...m.BindOptions, NonRecursive: b };
        break;
      }
      case "volume-nocopy": {
        volumeOnly = true;
        const b = boolOf(key, val);
        if (typeof b !== "boolean") return b;
        m.VolumeOptions = { ...m.VolumeOptions, NoCopy: b };
        break;
      }
      case "volume-label": {
        volumeOnly = true;
        const [k = "", v = ""] = splitOnce(val!);
        m.VolumeOptions = { ...m.VolumeOptions, Labels: { ...m.VolumeOptions?.Labels, [k]: v } };
        break;
      }
      case "volume-driver":
        volumeOnly = true;
        m.VolumeOptions = { ...m.VolumeOptions, DriverConfig: { ...m.VolumeOptions?.DriverConfig, Name: val! } };
        break;
      case "tmpfs-size": {
        tmpfsOnly = true;
        const size = parseBytes(val!);
        if ("problem" in size) return { problem: `invalid value for ${key}: ${val}` };
        m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: size.value };
        break;
      }
      case "tmpfs-mode": {
        tmpfsOnly = true;
        if (!/^[0-7]+$/.test(val!)) return { problem: `invalid value for ${key}: ${val}` };
        m.TmpfsOptions = { ...m.TmpfsOptions, Mode: Number.parseInt(val!, 8) };
        break;
      }
      default:
        return { problem: `unexpected key '${key}' in '${field}'` };
    }
  }
  if (m.Type === "") return { problem: "type is required" };
  if (m.Target === undefined || m.Target === "") return { problem: "target is required" };
  // Any volume option gives the volume an (empty) driver config, as docker sends it.
  if (volumeOnly) m.VolumeOptions = { ...m.VolumeOptions, DriverConfig: m.VolumeOptions?.DriverConfig ?? {} };
  if (volumeOnly && m.Type !== "volume")
    return { problem: `cannot mix 'volume-*' options with mount type '${m.Type}'` };
  if (bindOnly && m.Type !== "bind") return { problem: `cannot mix 'bind-*' options with mount type '${m.Type}'` };
  if (tmpfsOnly && m.Type !== "tmpfs") return { problem: `cannot mix 'tmpfs-*' options with mount type '${m.Type}'` };
  return { value: m };
}

export const checkMount = (v: string): string | undefined => {
  const r = parseMount(v);
  return "problem" in r ? r.problem : undefined;
};

function splitOnce(s: string): [string, string] {
  const eq = s.indexOf("=");
  return eq < 0 ? [s, ""] : [s.slice(0, eq), s.slice(eq + 1)];
}

/** Go's encoding/csv for one line: fields split on ',', "..." quoting with "" for a quote. */
function splitCsv(s: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  while (i <= s.length) {
    if (s[i] === '"') {
      let field = "";
      i++;
      for (;;) {
        if (i >= s.length) return undefined;
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ",") return undefined;
      out.push(field);
      i++;
    } else {
      const comma = s.indexOf(",", i);
      const end = comma < 0 ? s.length : comma;
      out.push(s.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

export interface VolumeSplit {
  binds: string[];
  /** Container paths of anonymous volumes (-v /data). */
  anonymous: string[];
}

/**
 * -v values: those with a source become Binds (a host path starting with '.' made absolute
 * against cwd, as docker 28 does), the rest anonymous volumes. Errors are the compose loader's words.
 */
export function splitVolumes(values: readonly string[], cwd: string): VolumeSplit | { problem: string } {
  const binds: string[] = [];
  const anonymous: string[] = [];
  for (const spec of values) {
    if (spec === "") return { problem: "invalid empty volume spec" };
    const parts = spec.split(":");
    if (parts.length > 3) return { problem: `invalid spec: ${spec}: too many colons` };
    if (parts.some((p) => p === "")) return { problem: `invalid spec: ${spec}: empty section between colons` };
    if (parts.length === 1) {
      anonymous.push(spec);
      continue;
    }
    let host = parts[0]!;
    if (!isAbsolute(host) && host.startsWith(".")) host = resolve(cwd, host);
    binds.push([host, ...parts.slice(1)].join(":"));
  }
  return { binds, anonymous };
}
