import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeFrames, encodeFrame, FrameDecoder, HEADER_SIZE, STDERR, STDOUT, SYSTEMERR } from "./stdcopy.ts";

test("a frame is the stream byte, three zero bytes, the big-endian length, then the payload", () => {
  assert.deepEqual([...encodeFrame(STDOUT, "hi\n")], [1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]);
  const big = encodeFrame(STDERR, Buffer.alloc(0x01_02_03));
  assert.deepEqual([...big.subarray(0, HEADER_SIZE)], [2, 0, 0, 0, 0, 1, 2, 3]);
  assert.deepEqual([...encodeFrame(STDOUT, "")], [1, 0, 0, 0, 0, 0, 0, 0]);
});

test("frames round-trip, whatever the chunking", () => {
  const frames = [encodeFrame(STDOUT, "out 1\n"), encodeFrame(STDERR, "err\n"), encodeFrame(STDOUT, "")];
  frames.push(encodeFrame(SYSTEMERR, "boom"));
  const stream = Buffer.concat(frames);
  const expected = [
    { stream: 1, payload: Buffer.from("out 1\n") },
    { stream: 2, payload: Buffer.from("err\n") },
    { stream: 1, payload: Buffer.alloc(0) },
    { stream: 3, payload: Buffer.from("boom") },
  ];
  assert.deepEqual(decodeFrames(stream), expected);
  for (const size of [1, 2, 3, 7, 8, 9, 13]) {
    const d = new FrameDecoder();
    const got = [];
    for (let i = 0; i < stream.length; i += size) got.push(...d.push(stream.subarray(i, i + size)));
    assert.deepEqual(got, expected, `chunks of ${size}`);
    assert.equal(d.buffered, 0);
  }
});

test("a large frame in small chunks is assembled once and comes out whole", () => {
  const payload = Buffer.alloc(512 << 10, 7);
  const stream = encodeFrame(STDOUT, payload);
  const d = new FrameDecoder();
  const got = [];
  for (let i = 0; i < stream.length; i += 1000) got.push(...d.push(stream.subarray(i, i + 1000)));
  assert.equal(got.length, 1);
  assert.ok(got[0]!.payload.equals(payload));
});

test("hostile streams are refused: bad stream byte, padding, over-long frame, cut stream", () => {
  assert.throws(() => new FrameDecoder().push(Buffer.from([4, 0, 0, 0, 0, 0, 0, 0])), /unknown stream 4/);
  assert.throws(() => new FrameDecoder().push(Buffer.from([1, 0, 1, 0, 0, 0, 0, 0])), /padding/);
  // A header that claims 4 GiB is refused at once, before anything is buffered for it.
  assert.throws(() => new FrameDecoder().push(Buffer.from([1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff])), /above the limit/);
  assert.throws(
    () => new FrameDecoder(16).push(encodeFrame(STDOUT, "x".repeat(17))),
    /17 bytes is above the limit of 16/,
  );
  assert.throws(() => decodeFrames(encodeFrame(STDOUT, "abc").subarray(0, 10)), /ends inside a frame/);
  assert.throws(() => decodeFrames(Buffer.from([1, 0, 0])), /ends inside a frame \(3 bytes left\)/);
});
