import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BerthError } from "../common/errors.ts";
import {
  encodeFrame,
  FrameReader,
  KeeperProtocolError,
  keeperName,
  MAX_FRAME,
  parseHello,
  parseListCount,
  parseMessage,
} from "./keeper-wire.ts";

const frame = (body: Buffer | string) => {
  const b = Buffer.from(body);
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length, 0);
  return Buffer.concat([h, b]);
};

describe("keeper frames", () => {
  test("a request is a big-endian length and NUL-separated fields", () => {
    assert.deepEqual(encodeFrame(["HOLD", "init"]), Buffer.from("\0\0\0\x09HOLD\0init", "latin1"));
    assert.throws(() => encodeFrame(["SPAWN", "a\0b"]), /NUL/);
    assert.throws(() => encodeFrame(["X", "y".repeat(MAX_FRAME)]), /fit in a frame/);
    assert.equal(encodeFrame(["y".repeat(MAX_FRAME)]).length, MAX_FRAME + 4);
  });

  test("frames are cut from a stream however it is split", () => {
    const stream = Buffer.concat([
      frame("OK\x001\x0042"),
      frame("EXIT\0init\x00123\x00137\x001700000000\x00500000000"),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new FrameReader();
      const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      assert.deepEqual(got, [
        ["OK", "1", "42"],
        ["EXIT", "init", "123", "137", "1700000000", "500000000"],
      ]);
      assert.equal(r.pending, 0);
    }
  });

  test("a length of 0 or over 64 KiB ends the stream, before its body is read", () => {
    assert.throws(() => new FrameReader().push(frame("")), KeeperProtocolError);
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(MAX_FRAME + 1, 0);
    assert.throws(() => new FrameReader().push(huge), KeeperProtocolError);
    huge.writeUInt32BE(0xffffffff, 0);
    assert.throws(() => new FrameReader().push(huge), /4294967295 bytes/);
  });

  test("what the keeper sends is decoded and checked", () => {
    assert.deepEqual(parseMessage(["RAN", "exec-e1", "10", "0", "11"]), {
      kind: "ran",
      event: { name: "exec-e1", spawnedPid: 10, status: 0, mainPid: 11 },
    });
    const exit = parseMessage(["EXIT", "init", "11", "137", "1700000000", "999999999"]);
    assert.equal(exit.kind, "exit");
    assert.equal(exit.kind === "exit" && exit.event.exitedAt.getTime(), 1700000000999);
    assert.deepEqual(parseMessage(["PROC", "init", "0", "spawning", "0", "0", "0"]), {
      kind: "proc",
      record: { name: "init", pid: 0, state: "spawning", status: 0, exitedAt: undefined },
    });
    assert.deepEqual(parseMessage(["ERR", "no such name"]), { kind: "err", message: "no such name" });
    assert.equal(parseHello(["1", "77"]), 77);
    assert.equal(parseListCount(["1024"]), 1024);
  });

  test("hostile messages are protocol errors", () => {
    const bad: string[][] = [
      [""],
      ["HELLO"],
      ["ok"],
      ["RAN", "init", "1", "0"],
      ["RAN", "../x", "1", "0", "2"],
      ["RAN", ".x", "1", "0", "2"],
      ["RAN", "a/b", "1", "0", "2"],
      ["RAN", "init", "0", "0", "2"],
      ["RAN", "init", "1", "256", "2"],
      ["RAN", "init", "-1", "0", "2"],
      ["RAN", "init", "1", "0", "99999999999999999"],
      ["EXIT", "init", "1", "0", "1", "1000000000"],
      ["EXIT", "init", "1", "0", "1e3", "0"],
      ["EXIT", "init", "1", "0", "1", "0", "extra"],
      ["PROC", "init", "1", "zombie", "0", "0", "0"],
      ["PROC", "x".repeat(129), "1", "running", "0", "0", "0"],
    ];
    for (const m of bad) assert.throws(() => parseMessage(m), KeeperProtocolError, JSON.stringify(m));
    assert.throws(() => parseHello(["2", "77"]), KeeperProtocolError);
    assert.throws(() => parseHello(["1", "0"]), KeeperProtocolError);
    assert.throws(() => parseListCount(["1025"]), KeeperProtocolError);
    assert.throws(() => parseListCount([]), KeeperProtocolError);
  });

  test("names are the contract's: 1–128 of [A-Za-z0-9_.-], not starting with a dot", () => {
    for (const ok of ["init", "exec-e1", "init.pid", "a", "x".repeat(128), "_x", "-x"])
      assert.equal(keeperName(ok), ok);
    for (const bad of ["", ".x", "..", "a/b", "x".repeat(129), "a b", "é"]) {
      assert.throws(
        () => keeperName(bad),
        (e: unknown) => e instanceof BerthError && e.kind === "invalid-argument",
        bad,
      );
    }
  });
});
