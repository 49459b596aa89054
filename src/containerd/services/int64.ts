// int64 fields of client requests (sizes, offsets, totals) as the numbers the daemon stores. A
// JavaScript number holds every integer up to 2^53-1 exactly and rounds beyond it: 2^63-1 became
// 2^63, which is no int64, so whatever stored it could no longer be sent back ("Error serializing
// response" on every later `ctr content active`). Such values are refused at the edge instead.
import { InvalidArgumentError } from "../../common/errors.ts";

/** The largest size, offset or total accepted: 2^53-1 bytes (8 PiB), exact as a number. */
export const MAX_INT64_FIELD = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A non-negative int64 field as an exact number; `field` names it in the InvalidArgument error
 * ("total", "target.size").
 */
export function sizeField(field: string, value: bigint): number {
  if (value < 0n || value > MAX_INT64_FIELD) {
    throw new InvalidArgumentError(`${field} ${value} out of range [0, ${MAX_INT64_FIELD}]: invalid argument`);
  }
  return Number(value);
}

/**
 * A size or total the daemon stored, as an int64 to send. One an older daemon rounded (a total or
 * an image target's size of 2^63-1 stored as 2^63) would make every list of its namespace
 * unsendable: it reads as 0 (for a total: unknown, as a writer that gave none).
 */
export function storedSize(n: number): bigint {
  return Number.isSafeInteger(n) && n >= 0 ? BigInt(n) : 0n;
}
