import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { DEFAULT_DETACH_KEYS, DetachScanner, parseDetachKeys } from "./detach-keys.ts";

test("detach keys: docker's notation", () => {
  assert.deepEqual(parseDetachKeys(DEFAULT_DETACH_KEYS), [16, 17]);
  assert.deepEqual(parseDetachKeys("ctrl-a,x,ctrl-@,ctrl-[,ctrl-_,CTRL-Z"), [1, 120, 0, 27, 31, 26]);
  for (const bad of ["", "ctrl-", "ctrl-pp", "ctrl-1", "xy", "a,,b", "é", Array(17).fill("a").join(",")]) {
    assert.throws(
      () => parseDetachKeys(bad),
      (e: unknown) => e instanceof InvalidArgumentError && /^Invalid detach keys/.test(e.message),
      bad,
    );
  }
});

test("the scanner holds a beginning back, gives it on when the sequence breaks, detaches when it completes", () => {
  const s = new DetachScanner([16, 17]);
  assert.deepEqual(s.push(Buffer.from("ab")), { data: Buffer.from("ab"), detached: false });
  // ctrl-p at a chunk's end is held, then a plain byte releases it.
  assert.deepEqual(s.push(Buffer.from([0x61, 16])), { data: Buffer.from("a"), detached: false });
  assert.deepEqual(s.push(Buffer.from("b")), { data: Buffer.from([16, 0x62]), detached: false });
  // ctrl-p ctrl-p ctrl-q: the first is given on, the last two detach.
  assert.deepEqual(s.push(Buffer.from([16, 16, 17, 0x7a])), { data: Buffer.from([16]), detached: true });
  // Split across chunks.
  const t = new DetachScanner([16, 17]);
  assert.deepEqual(t.push(Buffer.from([0x78, 16])), { data: Buffer.from("x"), detached: false });
  assert.deepEqual(t.push(Buffer.from([17])), { data: Buffer.alloc(0), detached: true });
  // A one-key sequence.
  const one = new DetachScanner([3]);
  assert.deepEqual(one.push(Buffer.from([0x61, 3, 0x62])), { data: Buffer.from("a"), detached: true });
});
