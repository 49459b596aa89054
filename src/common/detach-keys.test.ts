import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_DETACH_KEYS, DetachScanner, detachKeyCodes, UnknownDetachKey } from "./detach-keys.ts";

test("detachKeyCodes: term.ToBytes' notation; the part that fails is named", () => {
  assert.deepEqual(detachKeyCodes(DEFAULT_DETACH_KEYS), [16, 17]);
  assert.deepEqual(detachKeyCodes("ctrl-a,x,ctrl-@,ctrl-[,ctrl-\\,ctrl-_,CTRL-Z"), [1, 120, 0, 27, 28, 31, 26]);
  // One character is itself, case kept (docker's "A" is 65, not 97).
  assert.deepEqual(detachKeyCodes("A,~"), [65, 126]);
  for (const [bad, key] of [
    ["", ""],
    ["ctrl-", "ctrl-"],
    ["ctrl-pp", "ctrl-pp"],
    ["ctrl-1", "ctrl-1"],
    ["xy", "xy"],
    ["a,,b", ""],
    ["é", "é"],
    [" a", " a"],
    ["ctrl-p, ctrl-q", " ctrl-q"],
    ["DEL", "DEL"],
  ]) {
    assert.throws(
      () => detachKeyCodes(bad as string),
      (e: unknown) => e instanceof UnknownDetachKey && e.key === key && e.message === `Unknown character: '${key}'`,
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
