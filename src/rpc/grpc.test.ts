import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import * as http2 from "node:http2";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import {
  AlreadyExistsError,
  BerthError,
  type ErrorKind,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  NotImplementedError,
  UnavailableError,
} from "../common/errors.ts";
import { Echo } from "../proto/gen/berth/testing/v1/echo_pb.js";
import { Content } from "../proto/gen/containerd/services/content/v1/content_pb.js";
import { Events } from "../proto/gen/containerd/services/events/v1/events_pb.js";
import { Tasks } from "../proto/gen/containerd/services/tasks/v1/tasks_pb.js";
import { Task } from "../proto/gen/containerd/task/v2/shim_pb.js";
import type { RequestContext } from "./context.ts";
import {
  addService,
  bindUnix,
  type Client,
  createClient,
  createServer,
  fromStatus,
  grpcCode,
  openChannel,
  STREAM_RESET_LIMIT,
  serviceDefinition,
  shutdownServer,
  toStatus,
} from "./grpc.ts";
import type { Impl } from "./service.ts";
import { statusOfCall } from "./status.ts";

const errorsByKind: Record<string, () => Error> = {
  "invalid-argument": () => new InvalidArgumentError("bad arg"),
  "not-found": () => new NotFoundError("no such thing"),
  "already-exists": () => new AlreadyExistsError("thing exists"),
  "failed-precondition": () => new FailedPreconditionError("not now"),
  unavailable: () => new UnavailableError("busy"),
  "permission-denied": () => new BerthError("permission-denied", "nope"),
  "not-implemented": () => new NotImplementedError("later"),
  internal: () => new Error("boom"),
};
const codes: Record<ErrorKind, number> = {
  "invalid-argument": 3,
  "not-found": 5,
  "already-exists": 6,
  "failed-precondition": 9,
  unavailable: 14,
  "permission-denied": 7,
  "not-implemented": 12,
  internal: 2,
};

// What the handlers saw, for assertions on the server side.
const seen: { ctx?: RequestContext; aborted: Promise<void>; markAborted: () => void } = {
  aborted: Promise.resolve(),
  markAborted: () => {},
};
function expectAbort(): Promise<void> {
  seen.aborted = new Promise((r) => {
    seen.markAborted = r;
  });
  return seen.aborted;
}
function waitAbort(ctx: RequestContext): Promise<void> {
  return new Promise((r) =>
    ctx.signal.aborted ? r() : ctx.signal.addEventListener("abort", () => r(), { once: true }),
  );
}

const impl: Impl<typeof Echo> = {
  async unary(req, ctx) {
    seen.ctx = ctx;
    if (req.text.startsWith("fail:")) throw errorsByKind[req.text.slice(5)]!();
    if (req.text === "hang") {
      await waitAbort(ctx);
      seen.markAborted();
      throw new Error("aborted");
    }
    return { text: `${ctx.namespace}|${ctx.lease}|${ctx.metadata.get("x-extra")?.[0] ?? ""}|${req.text}` };
  },
  async *serverStream(req, ctx) {
    try {
      for (let i = 0; i < req.count; i++) {
        yield { text: `${req.text}${i}`, count: i, data: new Uint8Array(req.data.length ? 64 * 1024 : 0) };
      }
      if (req.text === "fail") throw new NotFoundError("ran out");
      if (req.text === "forever") await waitAbort(ctx);
    } finally {
      if (ctx.signal.aborted) seen.markAborted();
    }
  },
  async clientStream(reqs) {
    const parts: string[] = [];
    for await (const r of reqs) {
      if (r.text === "fail") throw new InvalidArgumentError(`rejected after ${parts.length}`);
      parts.push(r.text);
    }
    return { text: parts.join(","), count: parts.length };
  },
  async *bidi(reqs, ctx) {
    try {
      for await (const r of reqs) {
        if (r.text === "fail") throw new FailedPreconditionError("bidi says no");
        yield { text: r.text.toUpperCase(), count: r.count + 1 };
      }
    } finally {
      if (ctx.signal.aborted) seen.markAborted();
    }
  },
};

let dir: string;
let server: grpc.Server;
let address: string;
let echo: Client<typeof Echo>;
const failures: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "berth-grpc-"));
  address = `unix://${join(dir, "s.sock")}`;
  server = new grpc.Server();
  addService(server, Echo, impl, (method) => failures.push(method));
  // A second service with no handlers at all: every call is UNIMPLEMENTED.
  addService(server, Events, {} as Impl<typeof Events>);
  await bindUnix(server, address);
  echo = createClient(Echo, address, { namespace: "ns1" });
});

after(() => {
  echo.close();
  server.forceShutdown();
  rmSync(dir, { recursive: true, force: true });
});

test("service definitions carry containerd's paths and stream kinds", () => {
  const content = serviceDefinition(Content);
  assert.equal(content.read!.path, "/containerd.services.content.v1.Content/Read");
  assert.deepEqual([content.read!.requestStream, content.read!.responseStream], [false, true]);
  assert.deepEqual([content.write!.requestStream, content.write!.responseStream], [true, true]);
  assert.deepEqual([content.info!.requestStream, content.info!.responseStream], [false, false]);
  assert.equal(serviceDefinition(Tasks).closeIO!.path, "/containerd.services.tasks.v1.Tasks/CloseIO");
  assert.equal(serviceDefinition(Task).connect!.path, "/containerd.task.v2.Task/Connect");
  assert.equal(serviceDefinition(Events).subscribe!.path, "/containerd.services.events.v1.Events/Subscribe");
});

test("unary: request, response and metadata (namespace, lease, extra keys)", async () => {
  assert.equal((await echo.unary({ text: "hi" })).text, "ns1|||hi");
  const res = await echo.unary({ text: "x" }, { namespace: "ns2", lease: "l1", metadata: { "x-extra": "e" } });
  assert.equal(res.text, "ns2|l1|e|x");
  assert.equal(res.$typeName, "berth.testing.v1.EchoMessage");
  assert.equal(seen.ctx?.method, "berth.testing.v1.Echo.Unary");
  // An explicit "" sends no namespace at all.
  assert.equal((await echo.unary({ text: "y" }, { namespace: "" })).text, "|||y");
});

test("trace context: the client's traceparent (per client or per call) is the handler's trace; else a new one", async () => {
  const trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const header = `00-${trace}-00f067aa0ba902b7-01`;
  const traced = createClient(Echo, address, { trace: header });
  try {
    await traced.unary({ text: "t" });
    assert.equal(seen.ctx?.trace.traceId, trace);
    assert.equal(seen.ctx?.trace.parentId, "00f067aa0ba902b7");
    assert.notEqual(seen.ctx?.trace.spanId, "00f067aa0ba902b7");
    // Forwarding a handler's context: the next hop is its child.
    const hop = seen.ctx?.trace;
    await echo.unary({ text: "t" }, { trace: hop });
    assert.equal(seen.ctx?.trace.traceId, trace);
    assert.equal(seen.ctx?.trace.parentId, hop?.spanId);
  } finally {
    traced.close();
  }
  await echo.unary({ text: "t" });
  assert.match(seen.ctx?.trace.traceId ?? "", /^[0-9a-f]{32}$/);
  assert.notEqual(seen.ctx?.trace.traceId, trace);
  // An invalid header is ignored, never an error.
  await echo.unary({ text: "t" }, { trace: `00-${trace.toUpperCase()}-00f067aa0ba902b7-01` });
  assert.notEqual(seen.ctx?.trace.traceId, trace);
});

test("server streaming: every response in order, then the end", async () => {
  const got: string[] = [];
  for await (const m of echo.serverStream({ text: "m", count: 5 })) got.push(m.text);
  assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4"]);
});

test("server streaming: back-pressure does not lose or reorder messages", async () => {
  let n = 0;
  for await (const m of echo.serverStream({ text: "", count: 300, data: new Uint8Array(1) })) {
    assert.equal(m.count, n++);
    assert.equal(m.data.length, 64 * 1024);
    if (n % 50 === 0) await sleep(5);
  }
  assert.equal(n, 300);
});

test("client streaming: sends, end, one response", async () => {
  const call = echo.clientStream();
  for (const t of ["a", "b", "c"]) await call.send({ text: t });
  call.end();
  assert.deepEqual([(await call.response).text, (await call.response).count], ["a,b,c", 3]);
});

test("bidi streaming: interleaved sends and responses", async () => {
  const call = echo.bidi();
  const it = call.responses[Symbol.asyncIterator]();
  for (const t of ["x", "y"]) {
    await call.send({ text: t, count: 1 });
    const r = await it.next();
    assert.equal(r.value.text, t.toUpperCase());
    assert.equal(r.value.count, 2);
  }
  call.end();
  assert.equal((await it.next()).done, true);
});

test("server errors reach the client as the same kinds, with the server's message", async () => {
  for (const [kind, make] of Object.entries(errorsByKind)) {
    await assert.rejects(echo.unary({ text: `fail:${kind}` }), (err: unknown) => {
      assert.ok(err instanceof BerthError, kind);
      assert.equal(err.kind, kind);
      assert.equal(err.message, make().message);
      assert.equal(grpcCode(err), codes[kind as ErrorKind]);
      return true;
    });
  }
  assert.ok(failures.includes("berth.testing.v1.Echo.Unary"));
});

test("a raw grpc-js client sees containerd's status codes", async () => {
  const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(Echo), "Echo");
  const raw = new Ctor(address, grpc.credentials.createInsecure()) as unknown as {
    unary(req: unknown, cb: (err: grpc.ServiceError | null) => void): void;
    close(): void;
  };
  try {
    for (const [kind, make] of Object.entries(errorsByKind)) {
      const err = await new Promise<grpc.ServiceError | null>((r) =>
        raw.unary(
          { $typeName: "berth.testing.v1.EchoMessage", text: `fail:${kind}`, count: 0, data: new Uint8Array() },
          r,
        ),
      );
      assert.equal(err?.code, codes[kind as ErrorKind], kind);
      assert.equal(err?.details, make().message);
    }
  } finally {
    raw.close();
  }
});

test("status codes from any server map back to kinds (reverse mapping)", async () => {
  const other = new grpc.Server();
  const statusByText: Record<string, number> = { a: 5, b: 6, c: 3, d: 9, e: 14, f: 12, g: 7, h: 13, i: 4 };
  other.addService(serviceDefinition(Echo), {
    unary: (call: grpc.ServerUnaryCall<{ text: string }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
      cb({ code: statusByText[call.request.text]!, details: `status for ${call.request.text}` }),
  });
  const addr = `unix://${join(dir, "other.sock")}`;
  await bindUnix(other, addr);
  const c = createClient(Echo, addr);
  try {
    const want: Record<string, string> = {
      a: "not-found",
      b: "already-exists",
      c: "invalid-argument",
      d: "failed-precondition",
      e: "unavailable",
      f: "not-implemented",
      g: "permission-denied",
      h: "internal",
      i: "internal",
    };
    for (const [text, kind] of Object.entries(want)) {
      await assert.rejects(c.unary({ text }), { name: "BerthError", kind, message: `status for ${text}` });
    }
  } finally {
    c.close();
    other.forceShutdown();
  }
});

test("errors in streaming calls: after some responses, and mid client stream", async () => {
  const got: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const m of echo.serverStream({ text: "fail", count: 2 })) got.push(m.text);
    })(),
    { kind: "not-found", message: "ran out" },
  );
  assert.deepEqual(got, ["fail0", "fail1"]);

  const cs = echo.clientStream();
  await cs.send({ text: "ok" });
  await cs.send({ text: "fail" });
  await assert.rejects(cs.response, { kind: "invalid-argument", message: "rejected after 1" });

  const bidi = echo.bidi();
  await bidi.send({ text: "fail" });
  await assert.rejects(
    (async () => {
      for await (const _ of bidi.responses);
    })(),
    { kind: "failed-precondition", message: "bidi says no" },
  );
  // Sending on a failed call rejects instead of hanging.
  await assert.rejects(bidi.send({ text: "more" }));
});

test("a handler the implementation lacks answers UNIMPLEMENTED", async () => {
  const events = createClient(Events, address);
  try {
    await assert.rejects(events.publish({ topic: "/x" }), {
      kind: "not-implemented",
      message: "containerd.services.events.v1.Events.Publish is not implemented",
    });
    await assert.rejects(
      (async () => {
        for await (const _ of events.subscribe({}));
      })(),
      { kind: "not-implemented" },
    );
  } finally {
    events.close();
  }
});

test("cancellation: the client's signal rejects the call and aborts the handler's signal", async () => {
  let aborted = expectAbort();
  seen.ctx = undefined;
  const ac = new AbortController();
  const p = echo.unary({ text: "hang" }, { signal: ac.signal });
  // Cancel once the handler runs: a cancel before it would never reach it.
  while (seen.ctx === undefined) await sleep(10);
  ac.abort();
  await assert.rejects(p, { name: "AbortError" });
  await aborted;

  aborted = expectAbort();
  const ac2 = new AbortController();
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const m of echo.serverStream({ text: "forever", count: 2 }, { signal: ac2.signal })) {
        got.push(m.count);
        if (got.length === 2) ac2.abort();
      }
    })(),
    { name: "AbortError" },
  );
  assert.deepEqual(got, [0, 1]);
  await aborted;

  const ac3 = new AbortController();
  ac3.abort();
  await assert.rejects(echo.unary({ text: "x" }, { signal: ac3.signal }), { name: "AbortError" });
});

test("cancellation: leaving a response loop early, or cancel(), cancels the call on the server", async () => {
  let aborted = expectAbort();
  for await (const m of echo.serverStream({ text: "forever", count: 3 })) {
    if (m.count === 1) break;
  }
  await aborted;

  aborted = expectAbort();
  const call = echo.bidi();
  await call.send({ text: "a" });
  const it = call.responses[Symbol.asyncIterator]();
  assert.equal((await it.next()).value.text, "A");
  call.cancel();
  await aborted;
  await assert.rejects(it.next(), (err: unknown) => grpcCode(err) === grpc.status.CANCELLED);
});

test("deadlines: a call past its deadline fails and the handler is aborted", async () => {
  // On a loaded machine a short deadline can pass before grpc-js hands the call to the handler
  // (it then never runs); the deadline grows until the handler has run and been aborted.
  for (const ms of [100, 1000, 5000]) {
    seen.ctx = undefined;
    const aborted = expectAbort();
    await assert.rejects(echo.unary({ text: "hang" }, { deadline: Date.now() + ms }), (err: unknown) => {
      return grpcCode(err) === grpc.status.DEADLINE_EXCEEDED;
    });
    if (seen.ctx === undefined) continue;
    await aborted;
    return;
  }
  assert.fail("the handler never ran within a 5 s deadline");
});

test("an unreachable daemon is 'unavailable'; a shared channel closes with its last client", async () => {
  const c = createClient(Echo, join(dir, "nobody.sock"));
  await assert.rejects(c.unary({}), { kind: "unavailable" });
  c.close();

  const channel = openChannel(address);
  const a = createClient(Echo, address, { channel, namespace: "a" });
  const b = createClient(Echo, address, { channel, namespace: "b" });
  assert.equal((await a.unary({ text: "1" })).text, "a|||1");
  a.close();
  a.close();
  assert.equal((await b.unary({ text: "2" })).text, "b|||2");
  b.close();
  assert.equal(channel.getConnectivityState(false), grpc.connectivityState.SHUTDOWN);
});

test("toStatus / fromStatus", () => {
  assert.deepEqual(
    { ...toStatus(new NotFoundError("gone")), metadata: undefined },
    { code: 5, details: "gone", metadata: undefined },
  );
  assert.equal(toStatus(new Error("x")).code, grpc.status.UNKNOWN);
  assert.equal(toStatus(Object.assign(new Error("stop"), { name: "AbortError" })).code, grpc.status.CANCELLED);
  const e = fromStatus(Object.assign(new Error("5 NOT_FOUND: gone"), { code: 5, details: "gone" }));
  assert.ok(e instanceof BerthError);
  assert.equal(e.kind, "not-found");
  assert.equal(e.message, "gone");
  const plain = new Error("plain");
  assert.equal(fromStatus(plain), plain);
});

test("statusOfCall: a handler that fails once its deadline passed answers DEADLINE_EXCEEDED, not its own error", () => {
  const live = new AbortController();
  assert.equal(statusOfCall(new Error("aborted"), live.signal).code, grpc.status.UNKNOWN);
  const late = new AbortController();
  late.abort(new DOMException("Echo/Unary: the call's deadline passed", "TimeoutError"));
  assert.deepEqual(statusOfCall(new Error("aborted"), late.signal), {
    code: grpc.status.DEADLINE_EXCEEDED,
    details: "Echo/Unary: the call's deadline passed",
  });
  const left = new AbortController();
  left.abort(Object.assign(new Error("call cancelled"), { name: "AbortError" }));
  assert.equal(statusOfCall(new NotFoundError("gone"), left.signal).code, grpc.status.CANCELLED);
});

// ctr's ReaderAt: one streaming call per chunk, cancelled (RST_STREAM) once the chunk is in.
async function readerAtPattern(client: Client<typeof Echo>, calls: number): Promise<number> {
  for (let i = 0; i < calls; i++) {
    try {
      for await (const _ of client.serverStream({ text: "forever", count: 1 })) break;
    } catch {
      return i;
    }
  }
  return calls;
}

test("stream resets: a client cancelling every call after its answer keeps its connection", async (t) => {
  // Node's default HTTP/2 session (nghttp2: 1000 resets, then 33 a second) drops such a client.
  const calls = 2500;
  const plain = new grpc.Server();
  addService(plain, Echo, impl);
  const plainAddress = `unix://${join(dir, "plain.sock")}`;
  await bindUnix(plain, plainAddress);
  const c1 = createClient(Echo, plainAddress);
  const before = await readerAtPattern(c1, calls);
  c1.close();
  plain.forceShutdown();
  assert.ok(before < calls, "a default grpc-js server kept the connection");
  t.diagnostic(`default server: connection lost after ${before} cancelled calls`);

  const ours = createServer();
  addService(ours, Echo, impl);
  const oursAddress = `unix://${join(dir, "ours.sock")}`;
  await bindUnix(ours, oursAddress);
  const c2 = createClient(Echo, oursAddress);
  const started = Date.now();
  assert.equal(await readerAtPattern(c2, calls), calls);
  t.diagnostic(`createServer: ${calls} cancelled calls in ${Date.now() - started} ms`);
  c2.close();
  ours.forceShutdown();
});

/** Opens streams on one raw HTTP/2 connection and resets each at once, until the server ends it. */
async function resetFlood(socketPath: string, streams: number): Promise<{ sent: number; goaway: boolean }> {
  const session = http2.connect("http://localhost", { createConnection: () => net.connect(socketPath) });
  session.on("error", () => {});
  let goaway = false;
  session.on("goaway", () => {
    goaway = true;
  });
  await once(session, "connect");
  let sent = 0;
  for (; sent < streams && !goaway && !session.closed && !session.destroyed; sent++) {
    const s = session.request({
      ":method": "POST",
      ":path": "/berth.testing.v1.Echo/Unary",
      "content-type": "application/grpc",
      te: "trailers",
    });
    s.on("error", () => {});
    s.close(http2.constants.NGHTTP2_CANCEL);
    // Let the frames go out (and a GOAWAY come in) every so often.
    if (sent % 100 === 99) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 200));
  session.destroy();
  return { sent, goaway };
}

test("stream resets: a flood of streams opened only to be reset is still cut off", async (t) => {
  // The bound is nghttp2's token bucket with createServer's numbers; a small bucket shows it is set.
  const server = createServer({}, { burst: 200, perSecond: 1 });
  addService(server, Echo, impl);
  const path = join(dir, "flood.sock");
  await bindUnix(server, path);
  const r = await resetFlood(path, 5000);
  server.forceShutdown();
  assert.ok(r.goaway, `no GOAWAY after ${r.sent} resets`);
  assert.ok(r.sent < 5000, `the flood went on for ${r.sent} streams`);
  t.diagnostic(`burst 200: GOAWAY after ${r.sent} streams`);
  assert.ok(STREAM_RESET_LIMIT.burst > 1000 && STREAM_RESET_LIMIT.perSecond > 33);
});

test("shutdownServer: open streams are cancelled after the grace period", async (t) => {
  const server = createServer();
  addService(server, Echo, impl);
  const path = `unix://${join(dir, "stop.sock")}`;
  await bindUnix(server, path);
  const c = createClient(Echo, path);
  const aborted = expectAbort();
  const it = c.serverStream({ text: "forever", count: 1 })[Symbol.asyncIterator]();
  await it.next();
  const started = Date.now();
  const { forced } = await shutdownServer(server, 300);
  const ms = Date.now() - started;
  t.diagnostic(`stopped in ${ms} ms`);
  assert.ok(forced);
  assert.ok(ms >= 250 && ms < 5000, `stopped after ${ms} ms`);
  await aborted;
  await assert.rejects(it.next());
  c.close();

  // Nothing open: no wait at all.
  const idle = createServer();
  await bindUnix(idle, `unix://${join(dir, "idle.sock")}`);
  const t0 = Date.now();
  assert.deepEqual(await shutdownServer(idle, 5000), { forced: false });
  assert.ok(Date.now() - t0 < 1000);
});
