import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { test } from "node:test";
import { writer } from "./archive-routes.ts";

/** A response whose socket never drains (a client that stopped reading). */
function stalledResponse() {
  const res = new EventEmitter() as EventEmitter & { destroyed: boolean; write(c: Buffer): boolean; destroy(): void };
  res.destroyed = false;
  res.write = () => false;
  res.destroy = () => {
    res.destroyed = true;
    res.emit("close");
  };
  return res;
}

test("a tar stream's client that stops reading is cut off after the stall bound, not waited for", async () => {
  const res = stalledResponse();
  const write = writer(res as unknown as ServerResponse, 50);
  const started = Date.now();
  await assert.rejects(write(Buffer.alloc(1)), /went away/);
  assert.ok(res.destroyed);
  assert.ok(Date.now() - started < 2_000);
});

test("a client that drains gets the next chunk", async () => {
  const res = stalledResponse();
  const write = writer(res as unknown as ServerResponse, 5_000);
  const pending = write(Buffer.alloc(1));
  res.emit("drain");
  await pending;
  assert.equal(res.destroyed, false);
});
