// ttrpc framing: every message on the connection is a 10-byte header (payload length u32 BE,
// stream id u32 BE, message type u8, flags u8) followed by the payload. Unary calls only need the
// request and response types; data frames are recognised so a streaming peer gets a clear answer.
import { BerthError } from "../../common/errors.ts";
import { Code, StatusError } from "../status.ts";

export const HEADER_LENGTH = 10;
/** The largest payload ttrpc accepts (4 MiB); a bigger one is refused, not read into memory. */
export const MAX_MESSAGE_LENGTH = 4 << 20;

export const MESSAGE_REQUEST = 0x1;
export const MESSAGE_RESPONSE = 0x2;
export const MESSAGE_DATA = 0x3;

export interface FrameHeader {
  length: number;
  streamId: number;
  type: number;
  flags: number;
}

export interface Frame {
  streamId: number;
  type: number;
  flags: number;
  payload: Uint8Array;
  /** The declared length was over MAX_MESSAGE_LENGTH: the payload was skipped and is empty. */
  oversized?: number;
}

/** The error for a message over the 4 MiB limit (the caller's fault, hence invalid-argument). */
export function oversizedError(length: number): BerthError {
  const msg = `ttrpc: message of ${length} bytes is over the ${MAX_MESSAGE_LENGTH}-byte limit`;
  return new BerthError("invalid-argument", msg, { cause: new StatusError(Code.RESOURCE_EXHAUSTED, msg) });
}

export function encodeHeader(h: FrameHeader): Buffer {
  const b = Buffer.allocUnsafe(HEADER_LENGTH);
  b.writeUInt32BE(h.length, 0);
  b.writeUInt32BE(h.streamId, 4);
  b.writeUInt8(h.type, 8);
  b.writeUInt8(h.flags, 9);
  return b;
}

export function decodeHeader(b: Uint8Array): FrameHeader {
  if (b.length < HEADER_LENGTH) throw new Error(`ttrpc: header needs ${HEADER_LENGTH} bytes, got ${b.length}`);
  const v = new DataView(b.buffer, b.byteOffset, HEADER_LENGTH);
  return { length: v.getUint32(0), streamId: v.getUint32(4), type: v.getUint8(8), flags: v.getUint8(9) };
}

/** Header plus payload as one buffer (one write per frame keeps frames whole on the socket). */
export function encodeFrame(streamId: number, type: number, flags: number, payload: Uint8Array): Buffer {
  if (payload.length > MAX_MESSAGE_LENGTH) throw oversizedError(payload.length);
  const header = encodeHeader({ length: payload.length, streamId, type, flags });
  return Buffer.concat([header, payload]);
}

/**
 * Reassembles frames from a byte stream that arrives in arbitrary chunks. An oversized frame is
 * reported (with `oversized` set) as soon as its header is read, and its payload is discarded as
 * it arrives, so a hostile length cannot make us buffer it.
 */
export class FrameReader {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #header: FrameHeader | undefined;
  #skip = 0;

  /** Feeds bytes; returns the frames they complete, in order. */
  push(chunk: Uint8Array): Frame[] {
    const out: Frame[] = [];
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, data.length);
      this.#skip -= n;
      data = data.subarray(n);
    }
    if (data.length > 0) {
      this.#chunks.push(data);
      this.#buffered += data.length;
    }
    for (;;) {
      if (!this.#header) {
        if (this.#buffered < HEADER_LENGTH) break;
        const h = decodeHeader(this.#take(HEADER_LENGTH));
        if (h.length > MAX_MESSAGE_LENGTH) {
          out.push({
            streamId: h.streamId,
            type: h.type,
            flags: h.flags,
            payload: new Uint8Array(0),
            oversized: h.length,
          });
          const n = Math.min(h.length, this.#buffered);
          this.#take(n);
          this.#skip = h.length - n;
          if (this.#skip > 0) break;
          continue;
        }
        this.#header = h;
      }
      const h = this.#header;
      if (this.#buffered < h.length) break;
      out.push({ streamId: h.streamId, type: h.type, flags: h.flags, payload: this.#take(h.length) });
      this.#header = undefined;
    }
    return out;
  }

  /** Bytes received but not yet part of a complete frame (a peer that closes mid-frame left some). */
  get pending(): number {
    return this.#buffered + (this.#header ? HEADER_LENGTH : 0);
  }

  #take(n: number): Buffer {
    const [first] = this.#chunks;
    // Joining only when a frame spans chunks keeps the common case (whole frames) copy-free.
    const all = this.#chunks.length === 1 && first ? first : Buffer.concat(this.#chunks, this.#buffered);
    const head = Buffer.from(all.subarray(0, n)); // a copy: the rest may be reused or released
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return head;
  }
}
