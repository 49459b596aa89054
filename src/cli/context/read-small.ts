// A small file the user's config directory holds (config.json, a context's meta.json), read as
// docker opens it (symlinks followed) but once: the checks (a regular file, within the bound) and
// the read are on the one descriptor, so nothing swapped in between (a FIFO, a device, a bigger
// file) is read. O_NONBLOCK: opening a FIFO does not wait for a writer.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** The file's text; refused when it is not a regular file or holds more than `max` bytes. */
export function readSmall(path: string, max: number): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    const tooLarge = () => new Error(`${path} is larger than ${max} bytes`);
    if (st.size > max) throw tooLarge();
    // The size is a hint (a file may grow, /proc's say 0): read until the end, one byte past the bound at most.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(st.size + 1, 16 * 1024), max + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > max) throw tooLarge();
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
