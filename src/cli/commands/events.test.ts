// events --format json: the top-level timeNano printed as the daemon's digits, nothing else touched.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventJson } from "./events.ts";

test("eventJson: timeNano's exact digits, last; an attribute named timeNano stays a string", () => {
  // What docker CLI 28 printed for this event from berthd (a container labelled timeNano=7).
  const event = {
    status: "create",
    Type: "container",
    Action: "create",
    Actor: { ID: "bfb0", Attributes: { name: "tn", timeNano: "7", x: '"timeNano":"5"' } },
    scope: "local",
    time: 1796508146,
    timeNano: "1796508146070821301",
  };
  assert.equal(
    eventJson(event),
    '{"status":"create","Type":"container","Action":"create","Actor":{"ID":"bfb0","Attributes":{"name":"tn","timeNano":"7","x":"\\"timeNano\\":\\"5\\""}},"scope":"local","time":1796508146,"timeNano":1796508146070821301}',
  );
  assert.equal(eventJson({ time: 1 }), '{"time":1}');
  assert.equal(eventJson({ timeNano: 5 }), '{"timeNano":5}');
  // A daemon's non-digit string is printed as the string it is, never spliced in raw.
  assert.equal(eventJson({ timeNano: "1,2" }), '{"timeNano":"1,2"}');
});
