import assert from "node:assert/strict";
import { test } from "node:test";
import { EventBus } from "./bus.ts";
import { busEvents } from "./emit.ts";
import { type EngineEvent, eventJson, execAction, healthAction } from "./event.ts";

const container: EngineEvent = {
  Type: "container",
  Action: "die",
  Actor: { ID: "abc", Attributes: { name: "web", image: "busybox", exitCode: "0" } },
  scope: "local",
  timeNano: 1796483851164038068n,
};

test("a container event as dockerd writes it: old fields until 1.52, time exact, attributes sorted", () => {
  const text = eventJson(container, "1.50");
  assert.equal(
    text,
    '{"status":"die","id":"abc","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"0","image":"busybox","name":"web"}},"scope":"local","time":1796483851,"timeNano":1796483851164038068}',
  );
  const doc = JSON.parse(text, (_k, v, ctx?: { source?: string }) =>
    typeof v === "number" && ctx?.source ? ctx.source : v,
  );
  assert.equal(doc.timeNano, "1796483851164038068");
});

test("from API 1.52 the old fields are gone; an image event never has from", () => {
  assert.equal(JSON.parse(eventJson(container, "1.52")).status, undefined);
  const image = JSON.parse(
    eventJson(
      { ...container, Type: "image", Action: "tag", Actor: { ID: "sha256:1", Attributes: { name: "a:1" } } },
      "1.41",
    ),
  );
  assert.equal(image.status, "tag");
  assert.equal(image.id, "sha256:1");
  assert.equal("from" in image, false);
  const network = JSON.parse(eventJson({ ...container, Type: "network" }, "1.41"));
  assert.equal("status" in network, false);
});

test("exec and health actions are worded as dockerd's", () => {
  assert.equal(execAction("exec_create", "true", []), "exec_create: true ");
  assert.equal(execAction("exec_start", "sh", ["-c", "exit 3"]), "exec_start: sh -c exit 3");
  assert.equal(healthAction("healthy"), "health_status: healthy");
});

test("container attributes: labels, then image and name (no slash), then the action's own", () => {
  const bus = new EventBus(4);
  const seen: EngineEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  busEvents(bus).container(
    { ID: "abc", Name: "/web", Config: { Image: "busybox", Labels: { name: "label-loses", foo: "bar" } } },
    "rename",
    { oldName: "/old" },
  );
  assert.deepEqual(seen[0]!.Actor.Attributes, { foo: "bar", name: "web", image: "busybox", oldName: "/old" });
});

test("the ring keeps the newest events only; times increase strictly; since/until bound them", () => {
  const bus = new EventBus(3);
  const events = busEvents(bus);
  for (let i = 0; i < 5; i++) events.image(`sha256:${i}`, "tag", { name: `t:${i}` });
  const kept = bus.recent(undefined, undefined);
  assert.deepEqual(
    kept.map((e) => e.Actor.ID),
    ["sha256:2", "sha256:3", "sha256:4"],
  );
  assert.ok(kept[0]!.timeNano < kept[1]!.timeNano && kept[1]!.timeNano < kept[2]!.timeNano);
  assert.deepEqual(
    bus.recent(kept[1]!.timeNano, kept[1]!.timeNano).map((e) => e.Actor.ID),
    ["sha256:3"],
  );
  const wall = BigInt(Date.now()) * 1_000_000n;
  assert.ok(kept[2]!.timeNano <= wall + 1_000_000_000n && kept[2]!.timeNano > wall - 60_000_000_000n);
});

test("a subscriber that throws is dropped, the publisher goes on", () => {
  const bus = new EventBus(2);
  bus.subscribe(() => {
    throw new Error("client gone");
  });
  assert.equal(bus.listeners, 1);
  busEvents(bus).pruned("container", 0);
  assert.equal(bus.listeners, 0);
  assert.deepEqual(bus.recent(undefined, undefined)[0]!.Actor, { ID: "", Attributes: { reclaimed: "0" } });
  const unsubscribe = bus.subscribe(() => {});
  assert.equal(bus.listeners, 1);
  unsubscribe();
  assert.equal(bus.listeners, 0);
});
