// Reading <bundle>/config.json and exec's process.json.
import { closeSync, constants, fstatSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { BerthError, errnoCode, InvalidArgumentError, NotFoundError } from "../../common/errors.ts";
import { parseJsonExact } from "./json.ts";
import type { Process, Spec } from "./types.ts";
import { type ParseSpecOptions, parseProcess, parseSpec } from "./validate.ts";

/**
 * A real config.json is a few KiB (a large seccomp profile, some 100 KiB); this bounds what a
 * hostile one makes the runtime (or the shim it runs in) read and decode. runc has no cap.
 */
export const MAX_SPEC_FILE_BYTES = 16 * 1024 * 1024;

/** The runtime spec's file name in a bundle (the runtime spec's own name for it). */
export const CONFIG_FILE = "config.json";

/**
 * The text of a JSON specification file: a regular file of at most MAX_SPEC_FILE_BYTES. It is
 * opened non-blocking, so a FIFO in its place is refused instead of hanging the runtime.
 */
export function readSpecFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (err) {
    const code = errnoCode(err);
    // Same words as runc, which callers and users already recognise.
    if (code === "ENOENT") throw new NotFoundError(`JSON specification file ${file} not found`);
    if (code === "EACCES" || code === "EPERM") {
      throw new BerthError("permission-denied", `cannot read ${file}: permission denied`, { cause: err });
    }
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InvalidArgumentError(`${file} is a directory, not a JSON specification file`);
    if (!st.isFile()) throw new InvalidArgumentError(`${file} is not a regular file`);
    if (st.size > MAX_SPEC_FILE_BYTES) {
      throw new InvalidArgumentError(
        `${file} is ${st.size} bytes, more than the 16 MiB a JSON specification file may have`,
      );
    }
    // What fstat promised plus one byte, to notice a file that grows while it is read.
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
    if (n > st.size) throw new InvalidArgumentError(`${file} changed while it was being read`);
    return buf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
}

export function readBundleConfig(bundleDir: string): string {
  return readSpecFile(join(bundleDir, CONFIG_FILE));
}

export function parseSpecJson(text: string, opts: ParseSpecOptions = {}): Spec {
  let raw: unknown;
  try {
    raw = parseJsonExact(text);
  } catch (err) {
    throw new InvalidArgumentError(`config.json: invalid JSON: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return parseSpec(raw, opts);
}

/**
 * Reads, decodes and validates exec's process.json. "-" is standard input: the caller's own
 * pipe, read to its end and then held to the same size limit.
 */
export function loadProcessFile(file: string): Process {
  const text = file === "-" ? readStdin() : readSpecFile(file);
  let raw: unknown;
  try {
    raw = parseJsonExact(text);
  } catch (err) {
    throw new InvalidArgumentError(`process.json: invalid JSON: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  return parseProcess(raw);
}

function readStdin(): string {
  const text = readFileSync(0);
  if (text.length > MAX_SPEC_FILE_BYTES) {
    throw new InvalidArgumentError(`standard input holds more than the 16 MiB a JSON specification file may have`);
  }
  return text.toString("utf8");
}

/** Reads, decodes and validates `<bundleDir>/config.json`. */
export function loadBundleSpec(bundleDir: string, opts: ParseSpecOptions = {}): Spec {
  return parseSpecJson(readBundleConfig(bundleDir), opts);
}
