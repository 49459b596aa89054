// --cidfile as docker's create and run keep it: the file is made before anything is created (one
// that exists already is refused: another container may own it), the new container's id is written
// into it, and a file left empty by a failed create is removed again.
import { closeSync, openSync, unlinkSync, writeSync } from "node:fs";
import { CliError } from "../errors.ts";

/** The text Go's os package gives for the errnos a create can meet here. */
const GO_ERRNO: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
};

function goError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && GO_ERRNO[code]) ?? (e instanceof Error ? e.message : String(e));
}

/** A --cidfile failure: exit 1 from create; run reports it as it reports a failed create. */
export class CidFileError extends CliError {}

export interface CidFile {
  /** Writes the id (once the container exists). */
  write(id: string): void;
  /** Closes the file; removes it when nothing was written. */
  close(): void;
}

/**
 * Opens `path` for the id, exclusively (O_EXCL: an existing file or symlink is refused in one
 * step, where docker stats then creates). Errors are docker's words, exit 1; run reports them
 * through runFailure.
 */
export function openCidFile(path: string): CidFile {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o666);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new CidFileError(`container ID file found, make sure the other container isn't running or delete ${path}`);
    }
    throw new CidFileError(`failed to create the container ID file: open ${path}: ${goError(e)}`);
  }
  let written = false;
  let open = true;
  return {
    write(id) {
      try {
        writeSync(fd, id);
      } catch (e) {
        throw new CidFileError(`failed to write the container ID to the file: write ${path}: ${goError(e)}`);
      }
      written = true;
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
      if (!written) {
        try {
          unlinkSync(path);
        } catch {}
      }
    },
  };
}
