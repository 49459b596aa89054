// `docker import --change` / `docker commit --change`: Dockerfile instructions applied to an image
// config (dockerd takes CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,
// WORKDIR). Each change is bounded; one dockerd would refuse is a 400 in its words.
import { InvalidArgumentError } from "../../common/errors.ts";

/** Far above what a command line carries. */
export const MAX_CHANGES = 64;
export const MAX_CHANGE_CHARS = 4096;

/** A JSON array of strings (the exec form), or undefined. */
function jsonStrings(rest: string): string[] | undefined {
  if (!rest.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(rest);
    if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
  } catch {}
  return undefined;
}

/** The exec form, or the shell form (run by /bin/sh -c). */
const command = (rest: string) => jsonStrings(rest) ?? ["/bin/sh", "-c", rest];

/** key=value pairs (several on one line), or the legacy `KEY value` form. */
function pairs(instruction: string, rest: string): [string, string][] {
  if (!rest.includes("=")) {
    const sp = rest.search(/\s/);
    if (sp < 0) throw new InvalidArgumentError(`${instruction} requires two arguments`);
    return [[rest.slice(0, sp), rest.slice(sp).trim()]];
  }
  const out: [string, string][] = [];
  for (const m of rest.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = m[2]!;
    out.push([m[1]!, raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw]);
  }
  if (out.length === 0) throw new InvalidArgumentError(`${instruction}: expected key=value`);
  return out;
}

/**
 * The instructions of some `changes` values: dockerd parses them joined by newlines as a
 * Dockerfile, so one value may hold several, a line each (testcontainers' commit sends them so);
 * empty lines and # comments are skipped.
 */
function instructions(changes: readonly string[]): string[] {
  if (changes.length > MAX_CHANGES) throw new InvalidArgumentError(`more than ${MAX_CHANGES} changes`);
  for (const change of changes) {
    if (change.length > MAX_CHANGE_CHARS)
      throw new InvalidArgumentError(`a change longer than ${MAX_CHANGE_CHARS} characters`);
  }
  const lines = changes.flatMap((c) => c.split("\n")).filter((l) => l.trim() !== "" && !l.trim().startsWith("#"));
  if (lines.length > MAX_CHANGES) throw new InvalidArgumentError(`more than ${MAX_CHANGES} changes`);
  // Changes given, none an instruction: dockerd's parser refuses the empty Dockerfile.
  if (changes.length > 0 && lines.length === 0) throw new InvalidArgumentError("file with no instructions");
  return lines;
}

/** The image config's `config` with `changes` applied, in order (the input is not modified). */
export function applyChanges(config: Record<string, unknown>, changes: readonly string[]): Record<string, unknown> {
  const c: Record<string, unknown> = { ...config };
  for (const change of instructions(changes)) {
    if (change.length > MAX_CHANGE_CHARS)
      throw new InvalidArgumentError(`a change longer than ${MAX_CHANGE_CHARS} characters`);
    const text = change.trim();
    const sp = text.search(/\s/);
    const word = (sp < 0 ? text : text.slice(0, sp)).toUpperCase();
    const rest = sp < 0 ? "" : text.slice(sp).trim();
    switch (word) {
      case "CMD":
        c.Cmd = command(rest);
        break;
      case "ENTRYPOINT":
        c.Entrypoint = command(rest);
        break;
      case "ENV": {
        const env = (Array.isArray(c.Env) ? (c.Env as string[]) : []).slice();
        for (const [k, v] of pairs(word, rest)) {
          const i = env.findIndex((e) => e.startsWith(`${k}=`));
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
        break;
      }
      case "LABEL":
        c.Labels = { ...(c.Labels as Record<string, string> | undefined), ...Object.fromEntries(pairs(word, rest)) };
        break;
      case "EXPOSE": {
        const ports = { ...(c.ExposedPorts as Record<string, object> | undefined) };
        for (const p of rest.split(/\s+/).filter(Boolean)) {
          if (!/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/i.test(p))
            throw new InvalidArgumentError(`invalid containerPort: ${p.slice(0, 64)}`);
          ports[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        c.ExposedPorts = ports;
        break;
      }
      case "VOLUME": {
        const list = jsonStrings(rest) ?? rest.split(/\s+/).filter(Boolean);
        c.Volumes = {
          ...(c.Volumes as Record<string, object> | undefined),
          ...Object.fromEntries(list.map((v) => [v, {}])),
        };
        break;
      }
      case "USER":
        c.User = rest;
        break;
      case "WORKDIR":
        c.WorkingDir = rest;
        break;
      case "STOPSIGNAL":
        c.StopSignal = rest;
        break;
      case "ONBUILD":
        c.OnBuild = [...((c.OnBuild as string[] | undefined) ?? []), rest];
        break;
      default:
        throw new InvalidArgumentError(`${word.slice(0, 32) || '""'} is not a valid change command`);
    }
  }
  return c;
}
