// Reading <bundle>/config.json.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BerthError, InvalidArgumentError, NotFoundError } from "../../common/errors.ts";
import { parseJsonExact } from "./json.ts";
import type { Spec } from "./types.ts";
import { type ParseSpecOptions, parseSpec } from "./validate.ts";

function errnoCode(err: unknown): string | undefined {
  if (typeof err === "object" && err !== null && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}

export function readBundleConfig(bundleDir: string): string {
  const file = join(bundleDir, "config.json");
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    const code = errnoCode(err);
    // Same words as runc, which callers and users already recognise.
    if (code === "ENOENT") throw new NotFoundError(`JSON specification file ${file} not found`);
    if (code === "EACCES" || code === "EPERM") {
      throw new BerthError("permission-denied", `cannot read ${file}: permission denied`, { cause: err });
    }
    if (code === "EISDIR") throw new InvalidArgumentError(`${file} is a directory, not a JSON specification file`);
    throw err;
  }
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

/** Reads, decodes and validates `<bundleDir>/config.json`. */
export function loadBundleSpec(bundleDir: string, opts: ParseSpecOptions = {}): Spec {
  return parseSpecJson(readBundleConfig(bundleDir), opts);
}
