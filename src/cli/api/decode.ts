// The daemon's JSON answers checked once at the edge, as Go's encoding/json checks them against the
// docker CLI's types: a value of the wrong JSON type (Names a string, Ports a number, Created 1.5 or
// past int64) fails the command with encoding/json's words ("json: cannot unmarshal string into Go
// struct field Summary.Names of type []string", exit 1), the first in document order, as docker's
// does; null is a field's zero value (a missing or null string field becomes ""); unknown fields
// are ignored. What passes has the types the
// rows assume, so a hostile daemon cannot make them throw a TypeError or RangeError.
import { CliError } from "../errors.ts";

/** A Go type as the decoder checks it. */
export type GoType =
  | { kind: "string" }
  | { kind: "bool" }
  | { kind: "int"; name: string; min: number; max: number }
  | { kind: "slice"; of: GoType }
  | { kind: "map"; of: GoType }
  | { kind: "struct"; name: string; fields: Record<string, GoType> }
  | { kind: "any" };

export const STRING: GoType = { kind: "string" };
export const BOOL: GoType = { kind: "bool" };
// Beyond 2^53 JSON.parse has already rounded; the bound is what a JS number holds exactly.
export const INT64: GoType = { kind: "int", name: "int64", min: -(2 ** 63), max: 2 ** 63 - 1 };
/**
 * A time in Unix seconds (int64 for Go): bounded to the ±8.64e12 s a JS Date holds, so a daemon's
 * year 300000 is refused in the same words instead of a RangeError from the date formatting.
 */
export const UNIX_SECONDS: GoType = { kind: "int", name: "int64", min: -8.64e12, max: 8.64e12 };
export const UINT16: GoType = { kind: "int", name: "uint16", min: 0, max: 65535 };
export const ANY: GoType = { kind: "any" };
export const sliceOf = (of: GoType): GoType => ({ kind: "slice", of });
export const mapOf = (of: GoType): GoType => ({ kind: "map", of });
export const struct = (name: string, fields: Record<string, GoType>): GoType => ({ kind: "struct", name, fields });

/** Go's spelling of a type in its messages: []string, map[string]string, int64, container.Summary. */
function goName(t: GoType): string {
  switch (t.kind) {
    case "string":
    case "bool":
      return t.kind;
    case "int":
      return t.name;
    case "slice":
      return `[]${goName(t.of)}`;
    case "map":
      return `map[string]${goName(t.of)}`;
    case "struct":
      return t.name;
    case "any":
      return "interface {}";
  }
}

/** What encoding/json calls a JSON value in its messages. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v === "object" ? "object" : typeof v;
}

/** Where a value sits: the innermost struct's short name and the field path from the top. */
interface Place {
  struct?: string;
  path: string[];
}

class Mismatch extends Error {}

function fail(what: string, t: GoType, at: Place): never {
  const into =
    at.struct !== undefined && at.path.length > 0 ? `Go struct field ${at.struct}.${at.path.join(".")}` : "Go value";
  throw new Mismatch(`json: cannot unmarshal ${what} into ${into} of type ${goName(t)}`);
}

function check(v: unknown, t: GoType, at: Place): void {
  if (v === null || t.kind === "any") return;
  switch (t.kind) {
    case "string":
    case "bool":
      if (typeof v !== (t.kind === "bool" ? "boolean" : "string")) fail(jsonKind(v), t, at);
      return;
    case "int":
      if (typeof v !== "number") fail(jsonKind(v), t, at);
      if (!Number.isInteger(v) || v < t.min || v > t.max) fail(`number ${v}`, t, at);
      return;
    case "slice":
      if (!Array.isArray(v)) fail(jsonKind(v), t, at);
      for (const e of v) check(e, t.of, at);
      return;
    case "map":
      if (typeof v !== "object" || Array.isArray(v)) fail(jsonKind(v), t, at);
      for (const e of Object.values(v as object)) check(e, t.of, at);
      return;
    case "struct": {
      if (typeof v !== "object" || Array.isArray(v)) fail(jsonKind(v), t, at);
      const short = t.name.slice(t.name.lastIndexOf(".") + 1);
      // The object's own order is the document's: the first bad field there is the one reported.
      for (const [k, e] of Object.entries(v as object)) {
        const f = Object.hasOwn(t.fields, k) ? t.fields[k] : undefined;
        if (f !== undefined) check(e, f, { struct: short, path: [...at.path, k] });
      }
      // A string field that is missing or null is Go's zero value, "" (the rows read Id as a string).
      const fields = v as Record<string, unknown>;
      for (const [k, f] of Object.entries(t.fields)) if (f.kind === "string" && fields[k] == null) fields[k] = "";
      return;
    }
  }
}

/** `value` checked against `type` (see the header); a mismatch is a CliError in Go's words, exit 1. */
export function decodeAs<T>(value: unknown, type: GoType): T {
  try {
    check(value, type, { path: [] });
  } catch (e) {
    if (e instanceof Mismatch) throw new CliError(e.message);
    throw e;
  }
  return value as T;
}

// The list answers ps and images read, as docker 28's types declare the fields they use.

const PORT = struct("container.Port", { IP: STRING, PrivatePort: UINT16, PublicPort: UINT16, Type: STRING });
const MOUNT = struct("container.MountPoint", { Name: STRING, Source: STRING, Driver: STRING });

/** GET /containers/json: []container.Summary. */
export const CONTAINER_LIST = sliceOf(
  struct("container.Summary", {
    Id: STRING,
    Names: sliceOf(STRING),
    Image: STRING,
    ImageID: STRING,
    Command: STRING,
    Created: UNIX_SECONDS,
    Ports: sliceOf(PORT),
    SizeRw: INT64,
    SizeRootFs: INT64,
    Labels: mapOf(STRING),
    State: STRING,
    Status: STRING,
    NetworkSettings: struct("container.NetworkSettingsSummary", { Networks: mapOf(ANY) }),
    Mounts: sliceOf(MOUNT),
  }),
);

/** GET /images/json: []image.Summary. */
export const IMAGE_LIST = sliceOf(
  struct("image.Summary", {
    Id: STRING,
    ParentId: STRING,
    RepoTags: sliceOf(STRING),
    RepoDigests: sliceOf(STRING),
    Created: UNIX_SECONDS,
    Size: INT64,
    SharedSize: INT64,
    VirtualSize: INT64,
    Labels: mapOf(STRING),
    Containers: INT64,
  }),
);
