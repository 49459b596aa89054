// Our ttrpc client against our ttrpc server over a unix socket in a temp dir, plus raw frames
// for what our client never sends (oversized and even-numbered requests).
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BerthError, type ErrorKind } from "../../common/errors.ts";
import { StateRequestSchema, Task } from "../../proto/gen/containerd/task/v2/shim_pb.js";
import { RequestSchema, ResponseSchema } from "../../proto/gen/ttrpc/ttrpc_pb.js";
import type { RequestContext } from "../context.ts";
import { grpcCode } from "../grpc.ts";
import { createTtrpcClient, TtrpcConnection } from "./client.ts";
import * as frame from "./frame.ts";
import { addTtrpcService, createTtrpcServer, type TtrpcServer } from "./server.ts";

const kinds: ErrorKind[] = [
  "invalid-argument",
  "not-found",
  "already-exists",
  "failed-precondition",
  "unavailable",
  "permission-denied",
  "not-implemented",
];

const isKind = (kind: ErrorKind, msg?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof BerthError, `not a BerthError: ${String(err)}`);
  assert.equal(err.kind, kind, err.message);
  if (msg) assert.match(err.message, msg);
  return true;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends raw frames on a fresh connection and collects the first `n` frames the server answers. */
async function rawExchange(path: string, data: Uint8Array[], n: number): Promise<frame.Frame[]> {
  const sock = net.createConnection(path);
  try {
    await once(sock, "connect");
    const reader = new frame.FrameReader();
    const got: frame.Frame[] = [];
    const done = new Promise<void>((resolve, reject) => {
      sock.on("data", (c: Buffer) => {
        got.push(...reader.push(c));
        if (got.length >= n) resolve();
      });
      sock.on("close", () => reject(new Error(`connection closed after ${got.length} frames`)));
    });
    for (const d of data) sock.write(d);
    await done;
    return got;
  } finally {
    sock.destroy();
  }
}

function requestFrame(streamId: number, service: string, method: string, payload: Uint8Array): Buffer {
  const body = toBinary(RequestSchema, create(RequestSchema, { service, method, payload }));
  return frame.encodeFrame(streamId, frame.MESSAGE_REQUEST, 0, body);
}

describe("ttrpc client and server over a unix socket", () => {
  let dir: string;
  let path: string;
  let server: TtrpcServer;
  const seen: RequestContext[] = [];
  const failures: string[] = [];
  let release: (() => void) | undefined;
  let aborted: unknown;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-ttrpc-"));
    path = join(dir, "s.sock");
    server = createTtrpcServer();
    addTtrpcService(
      server,
      Task,
      {
        async state(req, ctx) {
          seen.push(ctx);
          if (req.id.startsWith("delay-")) await sleep(Number(req.id.slice(6)));
          if (req.id === "big") return { id: req.id, bundle: "x".repeat(frame.MAX_MESSAGE_LENGTH + 1) };
          // Under the limit itself, over it once wrapped in the Response envelope.
          if (req.id === "edge") return { id: req.id, bundle: "x".repeat(frame.MAX_MESSAGE_LENGTH - 16) };
          return { id: req.id, execId: req.execId, pid: req.id.length, bundle: ctx.namespace };
        },
        async kill(req) {
          const kind = kinds[req.signal];
          if (kind) throw new BerthError(kind, `kill ${req.id}: ${kind}`);
          throw new Error(`kill ${req.id}: plain error`);
        },
        async wait(_req, ctx) {
          // Waits for the test or for the call's end (timeout, disconnect), recording why.
          await new Promise<void>((resolve) => {
            release = resolve;
            ctx.signal.addEventListener("abort", () => {
              aborted = ctx.signal.reason;
              resolve();
            });
          });
          return { exitStatus: 7 };
        },
      },
      (method) => failures.push(method),
    );
    await server.listen(path);
  });

  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("makes a unary call, sending the namespace and metadata", async () => {
    const task = createTtrpcClient(Task, path, { namespace: "berth" });
    try {
      const res = await task.state({ id: "c1", execId: "e1" }, { metadata: { "x-a": ["1", "2"], "x-b": "3" } });
      assert.equal(res.id, "c1");
      assert.equal(res.execId, "e1");
      assert.equal(res.pid, 2);
      assert.equal(res.bundle, "berth");
      const ctx = seen.at(-1);
      assert.equal(ctx?.namespace, "berth");
      assert.equal(ctx?.method, "containerd.task.v2.Task.State");
      assert.deepEqual(ctx?.metadata.get("x-a"), ["1", "2"]);
      assert.deepEqual(ctx?.metadata.get("x-b"), ["3"]);
      // A per-call namespace overrides the client's; "" sends none.
      assert.equal((await task.state({ id: "c2" }, { namespace: "other" })).bundle, "other");
      assert.equal((await task.state({ id: "c3" }, { namespace: "" })).bundle, "");
      assert.equal(seen.at(-1)?.metadata.has("containerd-namespace"), false);
    } finally {
      task.close();
    }
  });

  it("sends the trace as traceparent metadata; the handler continues it (or starts its own)", async () => {
    const trace = "0af7651916cd43dd8448eb211c80319c";
    const task = createTtrpcClient(Task, path, { trace: `00-${trace}-b7ad6b7169203331-01` });
    try {
      await task.state({ id: "t1" });
      assert.equal(seen.at(-1)?.trace.traceId, trace);
      assert.equal(seen.at(-1)?.trace.parentId, "b7ad6b7169203331");
      await task.state({ id: "t2" }, { trace: "00-0000" });
      assert.notEqual(seen.at(-1)?.trace.traceId, trace);
      assert.match(seen.at(-1)?.trace.traceId ?? "", /^[0-9a-f]{32}$/);
    } finally {
      task.close();
    }
  });

  it("maps every error kind to a status and back", async () => {
    const task = createTtrpcClient(Task, path);
    try {
      for (const [i, kind] of kinds.entries()) {
        await assert.rejects(task.kill({ id: "k", signal: i }), isKind(kind, new RegExp(`kill k: ${kind}`)));
      }
      // An error of no known kind travels as UNKNOWN (2) and comes back as internal.
      await assert.rejects(task.kill({ id: "k", signal: 99 }), (err) => {
        isKind("internal", /plain error/)(err);
        assert.equal(grpcCode(err), 2);
        return true;
      });
      assert.ok(failures.includes("containerd.task.v2.Task.Kill"));
    } finally {
      task.close();
    }
  });

  it("answers UNIMPLEMENTED for a missing method or service", async () => {
    const task = createTtrpcClient(Task, path);
    const conn = TtrpcConnection.connect(path);
    try {
      await assert.rejects(task.pids({ id: "x" }), isKind("not-implemented", /Pids/));
      await assert.rejects(conn.call("no.such.Service", "X", new Uint8Array(0)), isKind("not-implemented", /service/));
      await assert.rejects(conn.call("containerd.task.v2.Task", "Nope", new Uint8Array(0)), isKind("not-implemented"));
    } finally {
      task.close();
      conn.close();
    }
  });

  it("runs concurrent calls on one connection and matches each answer to its call", async () => {
    const task = createTtrpcClient(Task, path);
    try {
      // Later calls finish first, so answers arrive out of order.
      const ids = Array.from({ length: 40 }, (_, i) => `delay-${(40 - i) * 2}`);
      const started = Date.now();
      const res = await Promise.all(ids.map((id, i) => task.state({ id, execId: String(i) })));
      assert.deepEqual(
        res.map((r) => [r.id, r.execId]),
        ids.map((id, i) => [id, String(i)]),
      );
      // Sequential calls would take 1640 ms; concurrent ones about the longest delay.
      assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    } finally {
      task.close();
    }
  });

  it("times out a call, and tells the server so its handler is aborted", async () => {
    const task = createTtrpcClient(Task, path);
    aborted = undefined;
    try {
      await assert.rejects(task.wait({ id: "w" }, { timeoutMs: 100 }), (err) => {
        isKind("internal", /no answer within 100 ms/)(err);
        assert.equal(grpcCode(err), 4);
        return true;
      });
      await sleep(50);
      assert.ok(aborted instanceof Error && aborted.name === "TimeoutError", `aborted by ${String(aborted)}`);
      // The connection still serves calls.
      assert.equal((await task.state({ id: "after" })).id, "after");
    } finally {
      task.close();
    }
  });

  it("cancels a call by signal", async () => {
    const task = createTtrpcClient(Task, path);
    try {
      const ac = new AbortController();
      const p = task.wait({ id: "w" }, { signal: ac.signal });
      await sleep(20);
      ac.abort(new Error("gave up"));
      await assert.rejects(p, /gave up/);
      release?.();
      await assert.rejects(task.state({ id: "x" }, { signal: AbortSignal.abort(new Error("already")) }), /already/);
    } finally {
      task.close();
    }
  });

  it("refuses an oversized request without sending it, and keeps the connection", async () => {
    const task = createTtrpcClient(Task, path);
    try {
      await assert.rejects(
        task.create({ id: "c", stdin: "x".repeat(frame.MAX_MESSAGE_LENGTH) }),
        isKind("invalid-argument", /message of \d+ bytes is over the 4194304-byte limit/),
      );
      assert.equal((await task.state({ id: "ok" })).id, "ok");
    } finally {
      task.close();
    }
  });

  it("answers RESOURCE_EXHAUSTED for an oversized response, and keeps the connection", async () => {
    const task = createTtrpcClient(Task, path);
    try {
      await assert.rejects(task.state({ id: "big" }), (err) => {
        isKind("invalid-argument", /response of \d+ bytes is over the 4194304-byte limit/)(err);
        assert.equal(grpcCode(err), 8);
        return true;
      });
      await assert.rejects(task.state({ id: "edge" }), isKind("invalid-argument", /response of \d+ bytes is over/));
      assert.equal((await task.state({ id: "ok" })).id, "ok");
    } finally {
      task.close();
    }
  });

  it("answers an oversized frame sent raw with RESOURCE_EXHAUSTED and reads on", async () => {
    const len = frame.MAX_MESSAGE_LENGTH + 10;
    const payload = toBinary(StateRequestSchema, create(StateRequestSchema, { id: "raw" }));
    const frames = await rawExchange(
      path,
      [
        frame.encodeHeader({ length: len, streamId: 1, type: frame.MESSAGE_REQUEST, flags: 0 }),
        Buffer.alloc(len),
        requestFrame(3, "containerd.task.v2.Task", "State", payload),
      ],
      2,
    );
    const [first, second] = frames.map((f) => {
      assert.equal(f.type, frame.MESSAGE_RESPONSE);
      return { id: f.streamId, res: fromBinary(ResponseSchema, f.payload) };
    });
    assert.equal(first?.id, 1);
    assert.equal(first?.res.status?.code, 8);
    assert.match(first?.res.status?.message ?? "", /over the 4194304-byte limit/);
    assert.equal(second?.id, 3);
    assert.equal(second?.res.status?.code, 0);
  });

  it("refuses even and reused stream ids", async () => {
    const payload = toBinary(StateRequestSchema, create(StateRequestSchema, { id: "raw" }));
    const frames = await rawExchange(
      path,
      [
        requestFrame(2, "containerd.task.v2.Task", "State", payload),
        requestFrame(5, "containerd.task.v2.Task", "State", payload),
        requestFrame(5, "containerd.task.v2.Task", "State", payload),
      ],
      3,
    );
    const codes = new Map(frames.map((f) => [`${f.streamId}`, fromBinary(ResponseSchema, f.payload).status?.code]));
    assert.equal(codes.get("2"), 3);
    // Stream 5 answers twice: once OK, once refused; the map keeps whichever came last.
    assert.equal(frames.filter((f) => f.streamId === 5).length, 2);
    const statuses = frames.filter((f) => f.streamId === 5).map((f) => fromBinary(ResponseSchema, f.payload).status);
    assert.deepEqual(statuses.map((s) => s?.code ?? 0).sort(), [0, 3]);
  });

  it("fails calls with unavailable when the client closes its connection", async () => {
    const task = createTtrpcClient(Task, path);
    const p = task.wait({ id: "w" });
    await sleep(20);
    task.close();
    await assert.rejects(p, isKind("unavailable", /closed by the client/));
    await assert.rejects(task.state({ id: "x" }), isKind("unavailable"));
    release?.();
  });

  it("fails with unavailable when nothing listens at the path", async () => {
    const task = createTtrpcClient(Task, join(dir, "none.sock"));
    try {
      await assert.rejects(task.state({ id: "x" }), isKind("unavailable", /ENOENT/));
    } finally {
      task.close();
    }
  });
});

describe("ttrpc server shutdown", () => {
  it("fails calls in flight with unavailable and aborts their handlers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-ttrpc-"));
    const path = join(dir, "s.sock");
    const server = createTtrpcServer();
    let reason: unknown;
    addTtrpcService(server, Task, {
      wait: (_req, ctx) =>
        new Promise((resolve) =>
          ctx.signal.addEventListener("abort", () => {
            reason = ctx.signal.reason;
            resolve({});
          }),
        ),
    });
    await server.listen(path);
    const task = createTtrpcClient(Task, path);
    try {
      const p = task.wait({ id: "w" });
      await sleep(30);
      await server.close();
      await assert.rejects(p, isKind("unavailable", /connection closed/));
      await assert.rejects(task.state({ id: "x" }), isKind("unavailable"));
      await sleep(10);
      assert.ok(reason instanceof BerthError && reason.kind === "unavailable");
    } finally {
      task.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
