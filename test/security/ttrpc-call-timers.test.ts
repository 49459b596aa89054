// Hole: every ttrpc request that carried a timeout left a timer (and two AbortSignals) behind in
// the server until that timeout passed, however quickly the call was answered and even after the
// connection closed: the call's signal was AbortSignal.timeout(timeout_nano), which is never
// cleared. A client sending timeout_nano = 2^63-1 (taken as Node's longest timer, 24.8 days) kept
// about 600 bytes in the shim per call for 24.8 days, so a stream of cheap calls grew the shim
// without bound. Found by the ttrpc-grpc fuzz target: 200,000 inputs left 36,000 Timeouts and
// AbortSignals on the heap.
// Now each call owns its deadline timer and clears it when the call ends (answered, failed or
// aborted by the connection's end).
// Attacker: raw request frames on the shim's socket, each with the largest timeout. Host-side
// checks: once every call is answered and the connection closed, no timer the server started is
// still pending, and the heap retained after a full collection did not grow with the calls.
import assert from "node:assert/strict";
import { createHook } from "node:async_hooks";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { create, toBinary } from "@bufbuild/protobuf";
import { StateRequestSchema, Task } from "../../src/proto/gen/containerd/task/v2/shim_pb.js";
import { RequestSchema } from "../../src/proto/gen/ttrpc/ttrpc_pb.js";
import { encodeFrame, FrameReader, MESSAGE_REQUEST } from "../../src/rpc/ttrpc/frame.ts";
import { addTtrpcService, createTtrpcServer } from "../../src/rpc/ttrpc/server.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const CALLS = 10_000;
const LONGEST = 2n ** 63n - 1n;

/** Sends `calls` State requests with timeout `timeoutNano` on one connection; waits for every answer, then closes. */
async function burst(path: string, calls: number, timeoutNano: bigint): Promise<void> {
  const sock = net.createConnection(path);
  await once(sock, "connect");
  const reader = new FrameReader();
  let answered = 0;
  const done = new Promise<void>((resolve, reject) => {
    sock.on("data", (c: Buffer) => {
      answered += reader.push(c).length;
      if (answered >= calls) resolve();
    });
    sock.on("close", () => reject(new Error(`connection closed after ${answered} answers`)));
  });
  const payload = toBinary(StateRequestSchema, create(StateRequestSchema, { id: "c" }));
  const frames: Buffer[] = [];
  for (let i = 0; i < calls; i++) {
    const req = create(RequestSchema, { service: Task.typeName, method: "State", payload, timeoutNano });
    frames.push(encodeFrame(2 * i + 1, MESSAGE_REQUEST, 0, toBinary(RequestSchema, req)));
  }
  sock.write(Buffer.concat(frames));
  await done;
  sock.destroy();
  await once(sock, "close");
}

test("ttrpc calls with long timeouts leave no timer and no memory behind once answered", async () => {
  const dir = await mkdtemp(join(tmpdir(), "berth-ttrpc-timers-"));
  const server = createTtrpcServer();
  addTtrpcService(server, Task, { state: async (req) => ({ id: req.id }) });
  // Timers started from here on and not yet fired or cleared.
  const pending = new Set<number>();
  const hook = createHook({
    init: (id, type) => {
      if (type === "Timeout") pending.add(id);
    },
    destroy: (id) => pending.delete(id),
  });
  try {
    await server.listen(join(dir, "s.sock"));
    await burst(join(dir, "s.sock"), 200, LONGEST); // warm-up: code, caches
    await new Promise((r) => setImmediate(r));
    gc();
    const before = process.memoryUsage().heapUsed;
    hook.enable();
    await burst(join(dir, "s.sock"), CALLS, LONGEST);
    await new Promise((r) => setImmediate(r));
    hook.disable();
    gc();
    const perCall = (process.memoryUsage().heapUsed - before) / CALLS;
    assert.equal(pending.size, 0, `${pending.size} timers of ${CALLS} answered calls are still pending`);
    assert.ok(perCall < 100, `the heap kept ${perCall.toFixed(0)} bytes per answered call`);
  } finally {
    hook.disable();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
