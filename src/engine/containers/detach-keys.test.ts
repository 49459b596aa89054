import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from "./detach-keys.ts";

// The notation and the scanner are common/detach-keys.ts' (tested there); this is dockerd's refusal.
test("detach keys: docker's notation, refused in dockerd's words", () => {
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
