// docker's multiplexed stream (stdcopy): without a TTY, attach, logs and exec send stdout and
// stderr on one connection as frames of an 8-byte header — the stream (0 stdin, 1 stdout,
// 2 stderr, 3 a system error), three zero bytes, the payload's length as a big-endian uint32 —
// followed by the payload. The decoder reads frames from a peer (tests, and berth's CLI later)
// and refuses anything else: a bad stream byte, non-zero padding, a frame above its limit.
import { InvalidArgumentError } from "../../common/errors.ts";

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** dockerd's "systemerr": an error message ending the stream (logs of a broken driver). */
export const SYSTEMERR = 3;
export type StreamType = typeof STDIN | typeof STDOUT | typeof STDERR | typeof SYSTEMERR;

export const HEADER_SIZE = 8;
/** The largest payload one header can describe. */
export const MAX_PAYLOAD = 0xffff_ffff;

export interface Frame {
  stream: StreamType;
  payload: Buffer;
}

/** One frame: header and payload in one buffer (one write, so frames never interleave). */
export function encodeFrame(stream: StreamType, payload: Buffer | string): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  if (data.length > MAX_PAYLOAD) throw new InvalidArgumentError(`stdcopy frame of ${data.length} bytes: too large`);
  const out = Buffer.allocUnsafe(HEADER_SIZE + data.length);
  out[0] = stream;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  out.writeUInt32BE(data.length, 4);
  data.copy(out, HEADER_SIZE);
  return out;
}

/**
 * Reads frames from chunks as they come. `maxPayload` bounds what one frame may make it hold
 * (1 MiB by default; dockerd's writers send at most 32 KiB a frame).
 */
export class FrameDecoder {
  readonly maxPayload: number;
  #pending: Buffer[] = [];
  #size = 0;

  constructor(maxPayload = 1 << 20) {
    this.maxPayload = maxPayload;
  }

  /** The frames `chunk` completes, in order; a malformed header throws (the stream is broken). */
  push(chunk: Buffer): Frame[] {
    this.#pending.push(chunk);
    this.#size += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.#size < HEADER_SIZE) break;
      // Only the header is copied out until the whole frame is here: a large frame arriving in
      // small chunks is joined once, not once a chunk.
      const header = this.#peek(HEADER_SIZE);
      const stream = header[0]!;
      if (stream > SYSTEMERR) throw new InvalidArgumentError(`stdcopy: unknown stream ${stream}`);
      if (header[1] !== 0 || header[2] !== 0 || header[3] !== 0) {
        throw new InvalidArgumentError("stdcopy: header padding is not zero");
      }
      const length = header.readUInt32BE(4);
      if (length > this.maxPayload) {
        throw new InvalidArgumentError(`stdcopy: frame of ${length} bytes is above the limit of ${this.maxPayload}`);
      }
      if (this.#size < HEADER_SIZE + length) break;
      const buf = this.#peek(this.#size);
      frames.push({
        stream: stream as StreamType,
        payload: Buffer.from(buf.subarray(HEADER_SIZE, HEADER_SIZE + length)),
      });
      const rest = buf.subarray(HEADER_SIZE + length);
      this.#pending = rest.length > 0 ? [rest] : [];
      this.#size = rest.length;
    }
    return frames;
  }

  /** Bytes of a frame begun and not finished (non-zero at the end of a stream: it was cut). */
  get buffered(): number {
    return this.#size;
  }

  /** The first `n` buffered bytes as one buffer (the pending chunks joined when they must be). */
  #peek(n: number): Buffer {
    const first = this.#pending[0]!;
    if (first.length >= n) return first;
    this.#pending = [Buffer.concat(this.#pending, this.#size)];
    return this.#pending[0]!;
  }
}

/** Every frame of a complete stream; a stream that ends inside a frame throws. */
export function decodeFrames(data: Buffer, maxPayload?: number): Frame[] {
  const d = new FrameDecoder(maxPayload);
  const frames = d.push(data);
  if (d.buffered > 0) throw new InvalidArgumentError(`stdcopy: stream ends inside a frame (${d.buffered} bytes left)`);
  return frames;
}
