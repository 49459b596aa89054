// Small synchronous helpers for cgroupfs files. berth-runc is a short-lived CLI, so sync I/O keeps
// ordering obvious (many cgroup writes must happen in a precise sequence).

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errnoCode } from "../../common/errors.ts";
import { CgroupReadError, CgroupWriteError } from "./errors.ts";

export function writeCgroupFile(dir: string, file: string, value: string): void {
  const path = join(dir, file);
  try {
    // cgroupfs expects the whole value in a single write(2); writeFileSync does one for short strings.
    writeFileSync(path, value, { flag: "w" });
  } catch (err) {
    throw new CgroupWriteError(path, value, err);
  }
}

export function readCgroupFile(dir: string, file: string): string {
  const path = join(dir, file);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new CgroupReadError(path, errnoCode(err) ?? String(err), err);
  }
}

/** The file's content, or undefined when it does not exist (optional kernel features). */
export function readOptional(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw new CgroupReadError(join(dir, file), errnoCode(err) ?? String(err), err);
  }
}

export function fileExists(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/** Parses an unsigned counter; "max" maps to `max` (2^64, which prints as 18446744073709551615). */
export function parseUint(text: string, file: string): number {
  const t = text.trim();
  if (t === "max") return UINT64_MAX;
  if (!/^\d+$/.test(t)) {
    // Some counters go slightly negative in races; the kernel prints them signed. Clamp like runc.
    if (/^-\d+$/.test(t)) return 0;
    throw new CgroupReadError(file, `not an unsigned integer: ${JSON.stringify(t)}`);
  }
  return Number(t);
}

/** 2^64 as a double; the JSON formatter prints it as Go's math.MaxUint64. */
export const UINT64_MAX = 2 ** 64;

export function readUint(dir: string, file: string): number {
  return parseUint(readCgroupFile(dir, file), join(dir, file));
}

export function readUintOptional(dir: string, file: string): number | undefined {
  const text = readOptional(dir, file);
  return text === undefined ? undefined : parseUint(text, join(dir, file));
}

/** Parses "key value" lines (memory.stat, cpu.stat, memory.events ...). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2 || parts[0] === "" || parts[1] === undefined) continue;
    const v = parts[1] === "max" ? UINT64_MAX : Number(parts[1]);
    if (Number.isFinite(v)) out.set(parts[0]!, v);
  }
  return out;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread: used for short kernel-settling waits (freezer, rmdir retries). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}
