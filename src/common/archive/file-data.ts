// A regular file's data as a tar member carries it, read from an fd the caller opened and checked:
// exactly `size` bytes (the size its header states, zeros past an early end, nothing past it, so
// a file growing or shrinking while it is read cannot break the stream), then the padding to the
// next 512-byte block. berthd's docker cp/export writer and the CLI's cp upload both use it.
import { readSync } from "node:fs";
import { paddingFor } from "./tar-format.ts";

/** File data is read this much at a time. */
const READ_CHUNK = 1 << 20;

export function* fileData(fd: number, size: number): Generator<Buffer> {
  let left = size;
  while (left > 0) {
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, left));
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    if (got < buf.length) buf.fill(0, got);
    left -= buf.length;
    yield buf;
  }
  const pad = paddingFor(size);
  if (pad > 0) yield Buffer.alloc(pad);
}
