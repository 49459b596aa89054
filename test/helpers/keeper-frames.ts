// Raw frames of berth-keeper's protocol (native/berth-keeper/README.md): a 4-byte big-endian length,
// then NUL-separated fields. For tests that talk to a keeper byte by byte, hostile bytes included.

/** One frame of `fields` (strings or raw bytes), NUL-separated, behind its length. */
export function encodeFrame(fields: (string | Uint8Array)[]): Buffer {
  const parts: Buffer[] = [];
  fields.forEach((f, i) => {
    if (i > 0) parts.push(Buffer.from([0]));
    parts.push(Buffer.from(f));
  });
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames (each a list of fields) as the bytes arrive. */
export class FrameReader {
  #buf = Buffer.alloc(0);

  /** Adds bytes; returns the frames they complete. */
  push(data: Buffer): string[][] {
    this.#buf = Buffer.concat([this.#buf, data]);
    const frames: string[][] = [];
    while (this.#buf.length >= 4) {
      const len = this.#buf.readUInt32BE(0);
      if (this.#buf.length < 4 + len) break;
      frames.push(
        this.#buf
          .subarray(4, 4 + len)
          .toString()
          .split("\0"),
      );
      this.#buf = this.#buf.subarray(4 + len);
    }
    return frames;
  }
}
