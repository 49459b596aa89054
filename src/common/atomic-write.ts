// Files replaced whole: a reader (a restarted daemon, another runtime command, a crash's
// aftermath) sees the old content or the new, never a part. The new content goes to a temp file
// in the same directory (a rename is atomic only within one filesystem), is flushed, and is
// renamed over the old; the directory is flushed too, or the new name may not survive a power
// loss. A full disk is answered naming the file (storage-errors.ts).
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { storageError } from "./storage-errors.ts";

export interface AtomicWriteOptions {
  /** The file's mode, exactly (the umask takes nothing away). */
  mode: number;
  /**
   * Flush the file and its directory (default). Without it the write is still atomic against a
   * crash of this process, not against a power loss.
   */
  durable?: boolean;
}

/** Replaces `path` with `data` atomically; see the top of this file. */
export function writeFileAtomic(path: string, data: string | Uint8Array, o: AtomicWriteOptions): void {
  const durable = o.durable ?? true;
  // Named after the file and this process: writers in other processes never share a temp file,
  // and one this process left (it died, the pid came back) is replaced, never appended to.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    rmSync(tmp, { force: true });
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, o.mode);
    try {
      fchmodSync(fd, o.mode);
      const buf = typeof data === "string" ? Buffer.from(data) : data;
      for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    // The old file stays whole; the half-written temp file goes.
    rmSync(tmp, { force: true });
    throw storageError(err, tmp);
  }
  if (durable) syncDirSync(dirname(path));
}

/**
 * Moves the file `from` (written by the caller, same filesystem) to `to` so that, once this
 * resolves, its bytes and its new name survive a power loss: flush, rename, flush the directory.
 * Asynchronous, for files too large to flush on the caller's thread (the content store's blobs).
 */
export async function renameDurably(from: string, to: string): Promise<void> {
  await flush(from).catch((err: unknown) => {
    throw storageError(err, from, "fsync");
  });
  await rename(from, to).catch((err: unknown) => {
    throw storageError(err, to, "rename");
  });
  await flush(dirname(to));
}

async function flush(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function syncDirSync(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
