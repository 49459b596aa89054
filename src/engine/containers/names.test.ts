import assert from "node:assert/strict";
import { test } from "node:test";
import { AlreadyExistsError, InvalidArgumentError } from "../../common/errors.ts";
import { NAME_ADJECTIVES, NAME_NOUNS } from "./name-words.ts";
import { MAX_NAME_LENGTH, NameIndex, normalizeName } from "./names.ts";

test("names: dockerd's pattern, stored with a leading slash", () => {
  assert.equal(normalizeName("web"), "/web");
  assert.equal(normalizeName("/web"), "/web");
  assert.equal(normalizeName("a.b_c-9"), "/a.b_c-9");
  for (const bad of [
    "",
    "/",
    "a",
    "-x",
    ".x",
    "_x",
    "a/b",
    "../etc",
    "a b",
    "a\u0000b",
    "wéb",
    "a:b",
    "//a",
    "x".repeat(MAX_NAME_LENGTH + 1),
  ]) {
    assert.throws(
      () => normalizeName(bad),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        /^Invalid container name \(.*\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed$/s.test(e.message),
      JSON.stringify(bad),
    );
  }
  // A long bad name is shown cut, not whole.
  assert.throws(
    () => normalizeName(`-${"y".repeat(10_000)}`),
    (e: Error) => e.message.length < 200,
  );
});

test("name index: reserve, conflict in dockerd's words, release only by the holder", () => {
  const n = new NameIndex();
  n.reserve("/web", "a".repeat(64));
  n.reserve("/web", "a".repeat(64)); // the holder again: fine
  assert.throws(
    () => n.reserve("/web", "b".repeat(64)),
    (e: unknown) =>
      e instanceof AlreadyExistsError &&
      e.message ===
        `Conflict. The container name "/web" is already in use by container "${"a".repeat(64)}". You have to remove (or rename) that container to be able to reuse that name.`,
  );
  n.release("/web", "b".repeat(64));
  assert.equal(n.holder("/web"), "a".repeat(64), "another container cannot free it");
  n.release("/web", "a".repeat(64));
  assert.equal(n.holder("/web"), undefined);
  n.reserve("/web", "b".repeat(64));
});

test("random names: valid, free, and numbered after collisions", () => {
  for (const w of [...NAME_ADJECTIVES, ...NAME_NOUNS]) assert.match(w, /^[a-z]+$/);
  const n = new NameIndex();
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const name = n.randomName();
    assert.equal(normalizeName(name), name);
    assert.ok(!seen.has(name));
    seen.add(name);
    n.reserve(name, String(i).padStart(64, "0"));
  }
  // A picker that always collides: a number is appended until the name is free.
  const stuck = new NameIndex();
  const zero = () => 0;
  const first = stuck.randomName(zero);
  stuck.reserve(first, "1".repeat(64));
  const second = stuck.randomName(zero);
  assert.notEqual(second, first);
  assert.equal(second, `${first}0`);
});
