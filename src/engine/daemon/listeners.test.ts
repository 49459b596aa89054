import assert from "node:assert/strict";
import { test } from "node:test";
import { gidOf, socketGid } from "./listeners.ts";

const groups = "root:x:0:\ndocker:x:106:alice\nberth:x:998:\nbroken:x:notanumber:\n";

test("the socket's group: configured, else berth when it exists, else root", () => {
  assert.equal(gidOf(groups, "docker"), 106);
  assert.equal(gidOf(groups, "1234"), 1234);
  assert.equal(gidOf(groups, "broken"), undefined);
  assert.equal(gidOf(groups, "nobody-here"), undefined);
  assert.equal(socketGid(undefined, groups), 998);
  assert.equal(socketGid(undefined, "root:x:0:\n"), 0);
  assert.equal(socketGid("docker", groups), 106);
  assert.throws(() => socketGid("missing", groups), { kind: "invalid-argument", message: 'group "missing" not found' });
});
