// Small typed decoders for config.json values. Each takes the raw value and the field path used
// in error messages; `null` counts as absent (as Go's encoding/json, which runc uses, treats it).
import { InvalidSpecError } from "../../common/errors.ts";

export type JsonObject = Record<string, unknown>;

export interface DecodeContext {
  warn(field: string, message: string): void;
}

export function fail(field: string, problem: string): never {
  throw new InvalidSpecError(field, problem);
}

export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "bigint") return "a number";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export function isAbsent(value: unknown): value is null | undefined {
  return value === undefined || value === null;
}

export function object(value: unknown, field: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(field, `must be an object, got ${describe(value)}`);
  }
  return value as JsonObject;
}

export function string(value: unknown, field: string): string {
  if (typeof value !== "string") fail(field, `must be a string, got ${describe(value)}`);
  return value;
}

export function optionalString(value: unknown, field: string): string | undefined {
  return isAbsent(value) ? undefined : string(value, field);
}

export function boolean(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") fail(field, `must be a boolean, got ${describe(value)}`);
  return value;
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
  return isAbsent(value) ? undefined : boolean(value, field);
}

export function array<T>(value: unknown, field: string, item: (v: unknown, field: string) => T): T[] {
  if (!Array.isArray(value)) fail(field, `must be an array, got ${describe(value)}`);
  const out: T[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) out[i] = item(value[i], `${field}[${i}]`);
  return out;
}

export function optionalArray<T>(
  value: unknown,
  field: string,
  item: (v: unknown, field: string) => T,
): T[] | undefined {
  return isAbsent(value) ? undefined : array(value, field, item);
}

export function stringArray(value: unknown, field: string): string[] {
  return array(value, field, string);
}

export function optionalStringArray(value: unknown, field: string): string[] | undefined {
  return isAbsent(value) ? undefined : stringArray(value, field);
}

/** The path of a map entry: `annotations["com.example.key"]`. */
export function keyField(field: string, key: string): string {
  return `${field}[${JSON.stringify(key)}]`;
}

export function record<T>(value: unknown, field: string, item: (v: unknown, field: string) => T): Record<string, T> {
  const obj = object(value, field);
  const out: Record<string, T> = {};
  for (const key of Object.keys(obj)) out[key] = item(obj[key], keyField(field, key));
  return out;
}

export function optionalStringMap(value: unknown, field: string): Record<string, string> | undefined {
  return isAbsent(value) ? undefined : record(value, field, string);
}

// Integer ranges of the Go types the runtime-spec declares.
export const INT32: readonly [bigint, bigint] = [-(2n ** 31n), 2n ** 31n - 1n];
export const UINT16: readonly [bigint, bigint] = [0n, 2n ** 16n - 1n];
export const UINT32: readonly [bigint, bigint] = [0n, 2n ** 32n - 1n];
export const INT64: readonly [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
export const UINT64: readonly [bigint, bigint] = [0n, 2n ** 64n - 1n];

/**
 * An integer within [min, max], returned exactly: a bigint when the JSON text held an integer too
 * large for a double (see bundle.ts), otherwise a number.
 */
export function exactInteger(value: unknown, field: string, range: readonly [bigint, bigint]): number | bigint {
  const big = bigInteger(value, field);
  if (big < range[0] || big > range[1]) fail(field, `${big} is out of range [${range[0]}, ${range[1]}]`);
  return typeof value === "bigint" && !Number.isSafeInteger(Number(value)) ? value : Number(big);
}

function bigInteger(value: unknown, field: string): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  fail(field, `must be an integer, got ${typeof value === "number" ? String(value) : describe(value)}`);
}

/**
 * The ids a process runs as or a file is owned by. runc's range: 4294967295 is (uid_t)-1, which
 * setresuid(2), setgroups(2) and chown(2) read as "leave unchanged" (a container meant to drop
 * root would keep it), and runc refuses the upper half too.
 */
export const ID_RANGE: readonly [bigint, bigint] = [0n, 2n ** 31n - 1n];

export function idRangeProblem(id: number | bigint): string | undefined {
  const n = BigInt(id);
  if (n >= ID_RANGE[0] && n <= ID_RANGE[1]) return undefined;
  return `uids and gids must be in range ${ID_RANGE[0]}-${ID_RANGE[1]}, got ${n}`;
}

/** A uid or gid within ID_RANGE, with runc's message. */
export function userOrGroupId(value: unknown, field: string): number {
  const n = bigInteger(value, field);
  const problem = idRangeProblem(n);
  if (problem !== undefined) fail(field, problem);
  return Number(n);
}

export function optionalUserOrGroupId(value: unknown, field: string): number | undefined {
  return isAbsent(value) ? undefined : userOrGroupId(value, field);
}

/** An integer within [min, max] as a number (values beyond 2^53 lose precision, as in JSON.parse). */
export function integer(value: unknown, field: string, range: readonly [bigint, bigint]): number {
  return Number(exactInteger(value, field, range));
}

export function optionalInteger(value: unknown, field: string, range: readonly [bigint, bigint]): number | undefined {
  return isAbsent(value) ? undefined : integer(value, field, range);
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  const s = string(value, field);
  if (!(allowed as readonly string[]).includes(s)) {
    fail(field, `unknown value ${JSON.stringify(s)} (expected one of ${allowed.join(", ")})`);
  }
  return s as T;
}

export function isAbsolutePath(p: string): boolean {
  return p.startsWith("/");
}

export function absolutePath(value: unknown, field: string): string {
  const s = string(value, field);
  if (!isAbsolutePath(s)) fail(field, `must be an absolute path, got ${JSON.stringify(s)}`);
  if (s.includes("\0")) fail(field, "must not contain a NUL byte");
  return s;
}

/** Sets `out[key]` only when the value is defined, so absent fields stay absent. */
export function put<T extends object, K extends keyof T>(out: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}
