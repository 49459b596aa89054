// Typed errors of the cgroup managers. Each names the file or controller involved so a user can
// tell a bad value (kernel said EINVAL/ERANGE) from a host that lacks a controller.

import type { ErrorKind } from "../../common/errors.ts";
import { BerthError, errnoCode, FailedPreconditionError } from "../../common/errors.ts";

/** Writing a cgroup file failed: the kernel rejected the value, or the file is missing. */
export class CgroupWriteError extends BerthError {
  readonly file: string;
  readonly value: string;
  readonly code: string | undefined;
  constructor(file: string, value: string, cause: unknown) {
    const code = errnoCode(cause);
    super(kindFor(code), `failed to write ${JSON.stringify(value)} to ${file}: ${describe(code, cause)}`, { cause });
    this.file = file;
    this.value = value;
    this.code = code;
  }
}

/** Reading or parsing a cgroup file failed. */
export class CgroupReadError extends BerthError {
  readonly file: string;
  constructor(file: string, problem: string, cause?: unknown) {
    super("internal", `failed to read ${file}: ${problem}`, cause === undefined ? undefined : { cause });
    this.file = file;
  }
}

/** A resource was requested for a controller this host does not mount. */
export class CgroupControllerMissingError extends FailedPreconditionError {
  readonly controller: string;
  constructor(controller: string, detail?: string) {
    super(
      detail ?? `cannot set ${controller} limit: the ${controller} cgroup controller is not available on this host`,
    );
    this.controller = controller;
  }
}

/** A cgroup directory could not be removed (usually: processes are still inside). */
export class CgroupBusyError extends BerthError {
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super("failed-precondition", `failed to remove cgroup ${path}: ${describe(errnoCode(cause), cause)}`, { cause });
    this.path = path;
  }
}

const READABLE: Record<string, string> = {
  EINVAL: "invalid argument",
  ERANGE: "numerical result out of range",
  EBUSY: "device or resource busy",
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on device",
  EOPNOTSUPP: "operation not supported",
  ENOTSUP: "operation not supported",
};

function describe(code: string | undefined, cause: unknown): string {
  if (code !== undefined) return `${READABLE[code] ?? "error"} (${code})`;
  return cause instanceof Error ? cause.message : String(cause);
}

function kindFor(code: string | undefined): ErrorKind {
  switch (code) {
    case "EINVAL":
    case "ERANGE":
    case "EBUSY":
    case "ENOSPC":
      return "invalid-argument";
    case "ENOENT":
      return "failed-precondition";
    case "EACCES":
    case "EPERM":
      return "permission-denied";
    default:
      return "internal";
  }
}
