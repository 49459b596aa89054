import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BerthError } from "../../common/errors.ts";
import { grpcCode } from "../grpc.ts";
import {
  decodeHeader,
  encodeFrame,
  encodeHeader,
  FrameReader,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MESSAGE_REQUEST,
  MESSAGE_RESPONSE,
} from "./frame.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("ttrpc frame header", () => {
  it("lays out length, stream id, type and flags big-endian in 10 bytes", () => {
    const h = encodeHeader({ length: 0x01020304, streamId: 0x0a0b0c0d, type: 2, flags: 5 });
    assert.deepEqual([...h], [1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 2, 5]);
    assert.deepEqual(decodeHeader(h), { length: 0x01020304, streamId: 0x0a0b0c0d, type: 2, flags: 5 });
  });

  it("round-trips the largest stream id", () => {
    const h = { length: 0, streamId: 0xffffffff, type: 1, flags: 0 };
    assert.deepEqual(decodeHeader(encodeHeader(h)), h);
  });

  it("refuses a short header", () => {
    assert.throws(() => decodeHeader(new Uint8Array(9)), /10 bytes/);
  });
});

describe("ttrpc frame reader", () => {
  it("decodes several frames from one chunk", () => {
    const r = new FrameReader();
    const data = Buffer.concat([
      encodeFrame(1, MESSAGE_REQUEST, 0, bytes("one")),
      encodeFrame(3, MESSAGE_REQUEST, 0, new Uint8Array(0)),
      encodeFrame(5, MESSAGE_RESPONSE, 0, bytes("three")),
    ]);
    const frames = r.push(data);
    assert.deepEqual(
      frames.map((f) => [f.streamId, f.type, Buffer.from(f.payload).toString()]),
      [
        [1, MESSAGE_REQUEST, "one"],
        [3, MESSAGE_REQUEST, ""],
        [5, MESSAGE_RESPONSE, "three"],
      ],
    );
    assert.equal(r.pending, 0);
  });

  it("reassembles frames split at every byte boundary", () => {
    const data = Buffer.concat([encodeFrame(1, 1, 0, bytes("hello")), encodeFrame(3, 1, 0, bytes("world!"))]);
    for (let cut = 0; cut <= data.length; cut++) {
      const r = new FrameReader();
      const frames = [...r.push(data.subarray(0, cut)), ...r.push(data.subarray(cut))];
      assert.deepEqual(
        frames.map((f) => Buffer.from(f.payload).toString()),
        ["hello", "world!"],
        `cut at ${cut}`,
      );
    }
  });

  it("reassembles a frame fed one byte at a time", () => {
    const data = encodeFrame(7, 2, 0, bytes("byte by byte"));
    const r = new FrameReader();
    const frames = [];
    for (const b of data) frames.push(...r.push(Uint8Array.of(b)));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]?.streamId, 7);
    assert.equal(Buffer.from(frames[0]?.payload ?? []).toString(), "byte by byte");
  });

  it("holds back a partial frame", () => {
    const r = new FrameReader();
    const data = encodeFrame(1, 1, 0, bytes("partial"));
    assert.deepEqual(r.push(data.subarray(0, HEADER_LENGTH + 3)), []);
    assert.equal(r.pending, HEADER_LENGTH + 3);
  });

  it("reports an oversized frame from its header and skips its payload across chunks", () => {
    const r = new FrameReader();
    const len = MAX_MESSAGE_LENGTH + 1;
    const header = encodeHeader({ length: len, streamId: 9, type: 1, flags: 0 });
    const first = r.push(Buffer.concat([header, Buffer.alloc(1000)]));
    assert.equal(first.length, 1);
    assert.equal(first[0]?.oversized, len);
    assert.equal(first[0]?.streamId, 9);
    assert.equal(first[0]?.payload.length, 0);
    // The rest of the oversized payload, then a normal frame in the same chunk.
    const rest = Buffer.concat([Buffer.alloc(len - 1000), encodeFrame(11, 1, 0, bytes("next"))]);
    const after = r.push(rest);
    assert.equal(after.length, 1);
    assert.equal(after[0]?.streamId, 11);
    assert.equal(Buffer.from(after[0]?.payload ?? []).toString(), "next");
  });

  it("accepts exactly 4 MiB and refuses to encode one byte more", () => {
    const max = new Uint8Array(MAX_MESSAGE_LENGTH);
    const frame = encodeFrame(1, 1, 0, max);
    assert.equal(frame.length, HEADER_LENGTH + MAX_MESSAGE_LENGTH);
    const [f] = new FrameReader().push(frame);
    assert.equal(f?.payload.length, MAX_MESSAGE_LENGTH);
    assert.equal(f?.oversized, undefined);
    assert.throws(
      () => encodeFrame(1, 1, 0, new Uint8Array(MAX_MESSAGE_LENGTH + 1)),
      (err) => err instanceof BerthError && err.kind === "invalid-argument" && grpcCode(err) === 8,
    );
  });
});
