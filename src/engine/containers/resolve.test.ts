import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { NoSuchContainerError, resolveContainer } from "./resolve.ts";

const a = { ID: `abc1${"0".repeat(60)}`, Name: "/web" };
const b = { ID: `abc2${"0".repeat(60)}`, Name: "/db" };
// A name that looks like the other's id prefix: the name wins, as in dockerd.
const c = { ID: `ff${"1".repeat(62)}`, Name: "/abc1" };
const all = [a, b, c];

test("a reference is the full id, else a name, else a unique id prefix", () => {
  assert.equal(resolveContainer(all, a.ID), a);
  assert.equal(resolveContainer(all, "web"), a);
  assert.equal(resolveContainer(all, "/web"), a);
  assert.equal(resolveContainer(all, "abc1"), c, "a name before a prefix");
  assert.equal(resolveContainer(all, "abc2"), b);
  assert.equal(resolveContainer(all, "ff"), c);
  assert.throws(
    () => resolveContainer(all, "abc"),
    (e: unknown) => e instanceof InvalidArgumentError && e.message === "multiple IDs found with provided prefix: abc",
  );
});

test("anything else is no container: paths, other cases, empty", () => {
  for (const ref of ["nope", "ABC2", "../web", "web/..", "/../web", "%2e%2e", `${a.ID}0`, "web\u0000", "*"]) {
    assert.throws(
      () => resolveContainer(all, ref),
      (e: unknown) => e instanceof NoSuchContainerError && e.message === `No such container: ${ref}`,
      ref,
    );
  }
  assert.throws(() => resolveContainer(all, ""), InvalidArgumentError);
});
