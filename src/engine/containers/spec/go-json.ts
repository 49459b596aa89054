// Reading a parsed JSON value the way dockerd's Go decoder (encoding/json) reads it into its
// structs, so a wrongly typed field is refused with the words dockerd uses:
//   json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64
// As in Go: object keys match field names case-insensitively (the last one wins), null leaves the
// zero value, unknown keys are ignored. Unlike Go, every string and every list is bounded.
import { InvalidArgumentError } from "../../../common/errors.ts";

export type JsonObject = Record<string, unknown>;

/** Go's name for the JSON kind of a value, as its decoder prints it. */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "object") return "object";
  return typeof value; // string, number
}

export function typeError(value: unknown, field: string, goType: string): never {
  // A number that does not fit an integer type is quoted; one of the wrong kind is not.
  const what = typeof value === "number" && /^u?int/.test(goType) ? `number ${String(value)}` : jsonKind(value);
  throw new InvalidArgumentError(`json: cannot unmarshal ${what} into Go struct field ${field} of type ${goType}`);
}

function tooLong(field: string, max: number): never {
  throw new InvalidArgumentError(`${field}: longer than ${max} bytes`);
}

function tooMany(field: string, max: number): never {
  throw new InvalidArgumentError(`${field}: more than ${max} entries`);
}

/** A JSON object's fields by lower-cased name (Go matches names case-insensitively; the last wins). */
export function fields(value: unknown, field: string, goType: string): Map<string, unknown> {
  if (value === null || value === undefined) return new Map();
  if (typeof value !== "object" || Array.isArray(value)) typeError(value, field, goType);
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(value as JsonObject)) out.set(k.toLowerCase(), v);
  return out;
}

export interface Bounds {
  /** Longest string, in UTF-8 bytes. */
  maxBytes: number;
}

export function str(value: unknown, field: string, b: Bounds): string {
  if (value === null || value === undefined) return "";
  if (typeof value !== "string") typeError(value, field, "string");
  if (value.length > b.maxBytes || Buffer.byteLength(value) > b.maxBytes) tooLong(field, b.maxBytes);
  // No kernel interface takes a NUL inside a string (argv, env, paths, sysctls): the runtime would
  // refuse the container at create; berthd refuses the request instead.
  if (value.includes("\0")) throw new InvalidArgumentError(`${field}: must not contain a NUL byte`);
  return value;
}

export function bool(value: unknown, field: string): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value !== "boolean") typeError(value, field, "bool");
  return value;
}

export function optionalBool(value: unknown, field: string): boolean | undefined {
  return value === null || value === undefined ? undefined : bool(value, field);
}

/** An integer of a Go type (int64, int, uint16 ...) within `range`; JS numbers are exact to 2^53. */
export function int(value: unknown, field: string, goType: string, range: readonly [number, number]): number {
  if (value === null || value === undefined) return 0;
  if (typeof value !== "number") typeError(value, field, goType);
  if (!Number.isSafeInteger(value) || value < range[0] || value > range[1]) typeError(value, field, goType);
  return value;
}

export function optionalInt(
  value: unknown,
  field: string,
  goType: string,
  range: readonly [number, number],
): number | undefined {
  return value === null || value === undefined ? undefined : int(value, field, goType, range);
}

export const INT64: readonly [number, number] = [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];

export function list<T>(
  value: unknown,
  field: string,
  goType: string,
  maxItems: number,
  item: (v: unknown, field: string) => T,
): T[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) typeError(value, field, goType);
  if (value.length > maxItems) tooMany(field, maxItems);
  return value.map((v) => item(v, field));
}

/** A list that stays undefined when absent (Cmd and Entrypoint: absent differs from empty). */
export function optionalList<T>(
  value: unknown,
  field: string,
  goType: string,
  maxItems: number,
  item: (v: unknown, field: string) => T,
): T[] | undefined {
  return value === null || value === undefined ? undefined : list(value, field, goType, maxItems, item);
}

/** Docker's StrSlice (Cmd, Entrypoint): a list of strings, or one string taken as a list of one. */
export function strSlice(value: unknown, field: string, maxItems: number, b: Bounds): string[] | undefined {
  if (typeof value === "string") return [str(value, field, b)];
  return optionalList(value, field, "string", maxItems, (v, f) => str(v, f, b));
}

export function stringMap(value: unknown, field: string, maxItems: number, b: Bounds): Record<string, string> {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) typeError(value, field, "map[string]string");
  const entries = Object.entries(value as JsonObject);
  if (entries.length > maxItems) tooMany(field, maxItems);
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of entries) {
    str(k, field, b);
    out[k] = str(v, field, b);
  }
  return out;
}

/** A set as docker sends it ({"80/tcp": {}}): only the keys matter. */
export function keySet(
  value: unknown,
  field: string,
  maxItems: number,
  b: Bounds,
): Record<string, Record<string, never>> {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) typeError(value, field, "map[string]struct {}");
  const keys = Object.keys(value as JsonObject);
  if (keys.length > maxItems) tooMany(field, maxItems);
  const out: Record<string, Record<string, never>> = Object.create(null);
  for (const k of keys) {
    str(k, field, b);
    out[k] = {};
  }
  return out;
}
