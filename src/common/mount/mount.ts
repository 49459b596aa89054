// A mount as containerd passes it between services: what a snapshotter returns and what the diff
// service and the runtime consume. `options` are mount(8) options (e.g. "lowerdir=...", "ro").
import { InvalidArgumentError } from "../errors.ts";

export interface Mount {
  type: string;
  source: string;
  target?: string;
  options: string[];
}

// Bounds on mounts a client hands in (Diff.Apply, Diff.Diff, Tasks.Create's rootfs). A snapshot
// gives one mount; a source names a path (or a word such as "overlay"); a type picks a kernel
// filesystem or a mount(8) helper (/sbin/mount.<type>), so it is a plain name.
/** Mounts in one list. */
export const MAX_MOUNTS = 32;
/** Linux PATH_MAX: a source of this many bytes (with its NUL) cannot reach mount(2). */
export const MAX_MOUNT_SOURCE = 4096;
/** A filesystem type name ("overlay", "fuse.sshfs"). */
export const MAX_MOUNT_TYPE = 64;
/** All options of one mount together: a deep overlay's absolute lowerdir list (500 layers). */
export const MAX_MOUNT_OPTIONS = 256 * 1024;
const MOUNT_TYPE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function refuse(field: string, problem: string): never {
  throw new InvalidArgumentError(`${field}: ${problem}`);
}

/** Refuses a string mount(8) could read as an option, or libc as a shorter string. */
function checkString(field: string, value: string, max: number): void {
  if (value.includes("\0")) refuse(field, `holds a NUL byte: ${JSON.stringify(value.slice(0, 80))}`);
  if (value.startsWith("-")) refuse(field, `must not start with '-': ${JSON.stringify(value.slice(0, 80))}`);
  const bytes = Buffer.byteLength(value);
  if (bytes > max) refuse(field, `is ${bytes} bytes, more than ${max}`);
}

/** Whether `m` is a bind mount (its source is a directory used as is). */
export function isBind(m: Mount): boolean {
  return m.type === "bind" || m.options.includes("bind") || m.options.includes("rbind");
}

/**
 * Refuses (InvalidArgumentError naming the field, e.g. "mounts[0].source") a client's mount list
 * that could reach mount(8) as options, be cut at a NUL, exceed the bounds above, or bind a
 * relative path (resolved against the daemon's working directory). Pure.
 */
export function validateMounts(mounts: readonly Mount[], field: string): void {
  if (mounts.length > MAX_MOUNTS) refuse(field, `${mounts.length} mounts, more than ${MAX_MOUNTS}`);
  for (const [i, m] of mounts.entries()) {
    const f = `${field}[${i}]`;
    checkString(`${f}.type`, m.type, MAX_MOUNT_TYPE);
    if (!MOUNT_TYPE.test(m.type)) refuse(`${f}.type`, `${JSON.stringify(m.type)} is not a filesystem type name`);
    checkString(`${f}.source`, m.source, MAX_MOUNT_SOURCE - 1);
    if (isBind(m) && !m.source.startsWith("/"))
      refuse(`${f}.source`, `a bind source must be absolute: ${JSON.stringify(m.source.slice(0, 80))}`);
    let total = 0;
    for (const [j, o] of m.options.entries()) {
      checkString(`${f}.options[${j}]`, o, MAX_MOUNT_OPTIONS);
      total += Buffer.byteLength(o) + 1;
    }
    if (total > MAX_MOUNT_OPTIONS) refuse(`${f}.options`, `take ${total} bytes, more than ${MAX_MOUNT_OPTIONS}`);
  }
}
