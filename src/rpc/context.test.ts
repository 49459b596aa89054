import assert from "node:assert/strict";
import { test } from "node:test";
import { deadlineOf, openCall, outgoingMetadata } from "./context.ts";
import { continueTrace } from "./trace.ts";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const HEADER = `00-${TRACE}-00f067aa0ba902b7-01`;

test("openCall reads namespace, lease and the caller's trace from the metadata", () => {
  const md = new Map([
    ["containerd-namespace", ["ns1"]],
    ["containerd-lease", ["l1"]],
    ["traceparent", [HEADER]],
  ]);
  const { ctx, end } = openCall("a.B.C", md, { cancelled: new AbortController().signal });
  end();
  assert.equal(ctx.method, "a.B.C");
  assert.equal(ctx.namespace, "ns1");
  assert.equal(ctx.lease, "l1");
  assert.equal(ctx.deadline, undefined);
  assert.equal(ctx.trace.traceId, TRACE);
  assert.equal(ctx.trace.parentId, "00f067aa0ba902b7");
});

test("openCall starts a new trace when the header is absent, invalid or repeated", () => {
  const cancelled = new AbortController().signal;
  for (const values of [undefined, ["junk"], [HEADER, HEADER], [HEADER.toUpperCase()]]) {
    const md = new Map(values ? [["traceparent", values]] : []);
    const { ctx, end } = openCall("m", md, { cancelled });
    end();
    assert.notEqual(ctx.trace.traceId, TRACE);
    assert.match(ctx.trace.traceId, /^[0-9a-f]{32}$/);
    assert.equal(ctx.trace.parentId, undefined);
  }
});

test("openCall: the signal aborts with the transport's reason, or with a TimeoutError at the deadline", async () => {
  const conn = new AbortController();
  const a = openCall("m", new Map(), { cancelled: conn.signal, deadline: Date.now() + 60_000 });
  conn.abort(new Error("gone"));
  assert.equal((a.ctx.signal.reason as Error).message, "gone");
  a.end();

  const b = openCall("m", new Map(), { cancelled: new AbortController().signal, deadline: Date.now() + 20 });
  await new Promise((r) => b.ctx.signal.addEventListener("abort", r, { once: true }));
  assert.equal((b.ctx.signal.reason as Error).name, "TimeoutError");
  b.end();

  // end() stops the timer and lets go of the transport's signal: nothing aborts afterwards.
  const conn2 = new AbortController();
  const c = openCall("m", new Map(), { cancelled: conn2.signal, deadline: Date.now() + 20 });
  c.end();
  conn2.abort();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(c.ctx.signal.aborted, false);
  // A deadline of "none" (grpc-js says Infinity) sets no timer.
  assert.equal(openCall("m", new Map(), { cancelled: conn2.signal, deadline: Infinity }).ctx.deadline, undefined);
});

test("outgoingMetadata: extra pairs, then namespace, lease and traceparent (the call's over the client's)", () => {
  const caller = continueTrace(HEADER);
  const md = outgoingMetadata(
    { namespace: "client-ns", trace: "00-11111111111111111111111111111111-2222222222222222-01" },
    { metadata: { "x-a": ["1", "2"], traceparent: "overridden" }, lease: "l", trace: caller },
  );
  assert.deepEqual(md.get("x-a"), ["1", "2"]);
  assert.deepEqual(md.get("containerd-namespace"), ["client-ns"]);
  assert.deepEqual(md.get("containerd-lease"), ["l"]);
  // A forwarded context goes out as its child: same trace, this hop's span as the parent.
  assert.deepEqual(md.get("traceparent"), [`00-${TRACE}-${caller.spanId}-01`]);
  assert.equal(outgoingMetadata({ namespace: "x" }, { namespace: "" }).has("containerd-namespace"), false);
  assert.equal(outgoingMetadata({}).has("traceparent"), false);
  assert.deepEqual(outgoingMetadata({ trace: HEADER }).get("traceparent"), [HEADER]);
});

test("deadlineOf: the earlier of a deadline and a timeout (the call's, else the client's)", () => {
  const now = 1_000_000;
  assert.equal(deadlineOf({}, {}, now), undefined);
  assert.equal(deadlineOf({ timeoutMs: 500 }, {}, now), now + 500);
  assert.equal(deadlineOf({ timeoutMs: 500 }, { timeoutMs: 100 }, now), now + 100);
  assert.equal(deadlineOf({}, { deadline: new Date(now + 50) }, now), now + 50);
  assert.equal(deadlineOf({ timeoutMs: 30 }, { deadline: now + 50 }, now), now + 30);
});
