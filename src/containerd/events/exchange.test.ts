import assert from "node:assert/strict";
import { test } from "node:test";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { BerthError, InvalidArgumentError } from "../../common/errors.ts";
import { ImageCreateSchema } from "../../proto/gen/containerd/events/image_pb.js";
import {
  ContainerCreate_RuntimeSchema,
  ContainerCreateSchema,
  ContainerUpdateSchema,
} from "../../proto/gen/containerd/events/store_pb.js";
import { TaskCreateSchema, TaskExitSchema, TaskOOMSchema } from "../../proto/gen/containerd/events/task_pb.js";
import { type Envelope, type EventAny, Exchange, validateTopic } from "./exchange.ts";

function ev<D extends DescMessage>(schema: D, init: MessageInitShape<D>): EventAny {
  return { typeUrl: schema.typeName, value: toBinary(schema, create(schema, init)) };
}

/** Reads what a subscription has queued so far (without waiting for more). */
async function drain(it: AsyncIterable<Envelope>, n: number): Promise<Envelope[]> {
  const out: Envelope[] = [];
  const iter = it[Symbol.asyncIterator]();
  for (let i = 0; i < n; i++) {
    const r = await iter.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

test("topics are validated as containerd does", () => {
  for (const ok of ["/tasks/exit", "/a", "/images/create", "/tasks/exec-added", "/x.y/z_1"]) {
    assert.equal(validateTopic(ok), ok);
  }
  for (const bad of [
    "",
    "tasks/exit",
    "/",
    "/tasks/",
    "//x",
    "/tasks//exit",
    "/a b",
    "/-x",
    "/x..y",
    "/a/b?",
    `/${"a".repeat(77)}`,
  ]) {
    assert.throws(() => validateTopic(bad), InvalidArgumentError, bad);
  }
  const x = new Exchange();
  assert.throws(() => x.publish("default", "no-slash", ev(TaskOOMSchema, {})), /must start with '\/'/);
});

test("subscribers get matching envelopes in order, stamped at publish", async () => {
  const x = new Exchange();
  const ac = new AbortController();
  const all = x.subscribe([], ac.signal);
  const tasks = x.subscribe(['topic~="^/tasks/"'], ac.signal);
  const before = Date.now();
  x.publish("default", "/images/create", ev(ImageCreateSchema, { name: "busybox" }));
  x.publish("default", "/tasks/oom", ev(TaskOOMSchema, { containerId: "c1" }));
  x.publish("other", "/tasks/exit", ev(TaskExitSchema, { containerId: "c2", exitStatus: 3 }));
  const got = await drain(all, 3);
  assert.deepEqual(
    got.map((e) => [e.namespace, e.topic, e.event.typeUrl]),
    [
      ["default", "/images/create", "containerd.services.images.v1.ImageCreate"],
      ["default", "/tasks/oom", "containerd.events.TaskOOM"],
      ["other", "/tasks/exit", "containerd.events.TaskExit"],
    ],
  );
  assert.ok(got[0]!.timestamp.getTime() >= before && got[0]!.timestamp.getTime() <= Date.now());
  assert.deepEqual(
    (await drain(tasks, 2)).map((e) => e.topic),
    ["/tasks/oom", "/tasks/exit"],
  );
  ac.abort();
});

test("filters: topic, namespace, event fields (strings, nested, labels, Any), OR of strings", async () => {
  const x = new Exchange();
  const ac = new AbortController();
  const sub = (...f: string[]) => x.subscribe(f, ac.signal);
  const s = {
    ns: sub("namespace==other"),
    cid: sub("event.container_id==c2"),
    nested: sub("event.io.terminal==true"),
    labels: sub('event.labels."app.tier"==web'),
    runtime: sub("event.runtime.name~=runc"),
    or: sub('topic=="/tasks/oom"', 'topic=="/containers/update"'),
    and: sub("namespace==default,event.container_id"),
  };
  x.publish("default", "/tasks/oom", ev(TaskOOMSchema, { containerId: "c1" }));
  x.publish("other", "/tasks/exit", ev(TaskExitSchema, { containerId: "c2" }));
  x.publish("default", "/tasks/create", ev(TaskCreateSchema, { containerId: "c3", io: { terminal: true } }));
  x.publish("default", "/containers/update", ev(ContainerUpdateSchema, { id: "c4", labels: { "app.tier": "web" } }));
  x.publish(
    "default",
    "/containers/create",
    ev(ContainerCreateSchema, { id: "c5", runtime: { name: "io.containerd.runc.v2" } }),
  );
  // A payload of a type nobody registered: only topic and namespace can match it.
  x.publish("default", "/custom/thing", { typeUrl: "example.Unknown", value: new Uint8Array([1, 2, 3]) });
  const end = x.publish("default", "/end", ev(TaskOOMSchema, {}));
  const topics = async (it: AsyncIterable<Envelope>) => {
    const out: string[] = [];
    for await (const e of it) {
      if (e === end) break;
      out.push(e.topic);
    }
    return out;
  };
  // Each subscription also gets the "/end" marker only if it matches; close ends the rest.
  x.close();
  assert.deepEqual(await topics(s.ns), ["/tasks/exit"]);
  assert.deepEqual(await topics(s.cid), ["/tasks/exit"]);
  assert.deepEqual(await topics(s.nested), ["/tasks/create"]);
  assert.deepEqual(await topics(s.labels), ["/containers/update"]);
  assert.deepEqual(await topics(s.runtime), ["/containers/create"]);
  assert.deepEqual(await topics(s.or), ["/tasks/oom", "/containers/update"]);
  assert.deepEqual(await topics(s.and), ["/tasks/oom", "/tasks/create"]);
});

test("event.* looks into an Any field when the registry knows its type", async () => {
  const x = new Exchange();
  const inner = create(TaskOOMSchema, { containerId: "inside" });
  const sub = x.subscribe(["event.runtime.options.container_id==inside"]);
  x.publish(
    "default",
    "/containers/create",
    ev(ContainerCreateSchema, {
      id: "c",
      runtime: create(ContainerCreate_RuntimeSchema, { name: "r", options: anyPack(TaskOOMSchema, inner) }),
    }),
  );
  x.publish("default", "/containers/create", ev(ContainerCreateSchema, { id: "d", runtime: { name: "r" } }));
  x.close();
  const got = await drain(sub, 5);
  assert.equal(got.length, 1);
});

test("bad filters are rejected when subscribing", () => {
  const x = new Exchange();
  assert.throws(() => x.subscribe(["topic=="]), InvalidArgumentError);
  assert.throws(() => x.subscribe(["topic==/tasks/exit"]), /invalid quote encountered/);
  assert.equal(x.subscribers, 0);
});

test("forward keeps the envelope's timestamp and checks namespace, topic and timestamp", async () => {
  const x = new Exchange();
  const sub = x.subscribe([]);
  const ts = new Date("2024-01-02T03:04:05Z");
  const event = ev(TaskOOMSchema, { containerId: "c" });
  x.forward({ timestamp: ts, namespace: "k8s.io", topic: "/tasks/oom", event });
  assert.throws(() => x.forward({ timestamp: ts, namespace: "", topic: "/tasks/oom", event }), /namespace/);
  assert.throws(() => x.forward({ timestamp: ts, namespace: "bad ns", topic: "/tasks/oom", event }), /namespace/);
  assert.throws(() => x.forward({ timestamp: ts, namespace: "ns", topic: "tasks", event }), /topic/);
  assert.throws(() => x.forward({ timestamp: new Date(0), namespace: "ns", topic: "/t", event }), /timestamp/);
  assert.throws(() => x.forward({ timestamp: new Date(Number.NaN), namespace: "ns", topic: "/t", event }), /timestamp/);
  x.close();
  const got = await drain(sub, 5);
  assert.equal(got.length, 1);
  assert.equal(got[0]!.timestamp, ts);
  assert.equal(got[0]!.namespace, "k8s.io");
});

test("a slow subscriber is dropped with an error; publishers and other subscribers carry on", async () => {
  const x = new Exchange({ maxBacklog: 10 });
  const ac = new AbortController();
  const slow = x.subscribe([], ac.signal);
  const fast = x.subscribe([], ac.signal);
  const fastSeen: number[] = [];
  const fastDone = (async () => {
    for await (const e of fast) {
      fastSeen.push(e.event.value[0]!);
      if (fastSeen.length === 50) return;
    }
  })();
  for (let i = 0; i < 50; i++) {
    x.publish("default", "/n", { typeUrl: "x", value: new Uint8Array([i]) });
    // Let the fast reader keep up.
    await new Promise((r) => setImmediate(r));
  }
  await fastDone;
  assert.equal(fastSeen.length, 50);
  assert.equal(x.subscribers, 0, "slow was dropped, fast returned");
  // The slow one still gets what was queued before the drop, then the error.
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of slow) got.push(e.event.value[0]!);
    })(),
    (err: unknown) =>
      err instanceof BerthError && err.kind === "unavailable" && /fell more than 10 events behind/.test(err.message),
  );
  assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  ac.abort();
});

test("aborting the signal ends a waiting subscription and unregisters it", async () => {
  const x = new Exchange();
  const ac = new AbortController();
  const sub = x.subscribe([], ac.signal);
  assert.equal(x.subscribers, 1);
  const done = (async () => {
    const got: string[] = [];
    for await (const e of sub) got.push(e.topic);
    return got;
  })();
  x.publish("ns", "/one", { typeUrl: "x", value: new Uint8Array() });
  await new Promise((r) => setImmediate(r));
  ac.abort();
  assert.deepEqual(await done, ["/one"]);
  assert.equal(x.subscribers, 0);

  // Aborted before iterating: unregistered at once; an already-aborted signal yields nothing.
  const ac2 = new AbortController();
  x.subscribe([], ac2.signal);
  assert.equal(x.subscribers, 1);
  ac2.abort();
  assert.equal(x.subscribers, 0);
  assert.deepEqual(await drain(x.subscribe([], ac2.signal), 1), []);
  assert.equal(x.subscribers, 0);
});

test("leaving the loop early unregisters the subscriber", async () => {
  const x = new Exchange();
  const sub = x.subscribe([]);
  x.publish("ns", "/a", { typeUrl: "x", value: new Uint8Array() });
  for await (const _ of sub) break;
  assert.equal(x.subscribers, 0);
});
