import assert from "node:assert/strict";
import { test } from "node:test";
import { ApiError } from "../api/api-errors.ts";
import { BUSYBOX_CONFIG, imageOf } from "./fixture.test-helper.ts";
import { isSingleReference, planRemove, removeAnswer } from "./remove.ts";
import { containerImageUsers } from "./users.ts";

const BB = "docker.io/library/busybox:latest";
const MINE = "docker.io/library/mine:1";
const C1 = "c".repeat(64);
const byName = (name: string, given = name) => ({ kind: "name" as const, name, given });
const ID = { kind: "id" as const };

function conflict(fn: () => unknown, message: string) {
  assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === 409 && e.message === message);
}

test("by name: one of several tags is untagged, the image stays", () => {
  const image = imageOf([BB, MINE]);
  const plan = planRemove(image, byName(MINE, "mine:1"), [], false);
  assert.deepEqual(plan, { untag: [MINE], delete: false, keepDangling: false });
  assert.deepEqual(removeAnswer(image, plan), [{ Untagged: "mine:1" }]);
});

test("by name: the last tag goes with the image", () => {
  const image = imageOf([BB]);
  const plan = planRemove(image, byName(BB, "busybox"), [], false);
  assert.deepEqual(removeAnswer(image, plan), [{ Untagged: "busybox:latest" }, { Deleted: image.id }]);
});

test("by name: the last tag of a repository takes that repository's digest names", () => {
  const d = `docker.io/library/busybox@sha256:${"d".repeat(64)}`;
  const image = imageOf([BB, d, MINE]);
  assert.deepEqual(planRemove(image, byName(BB), [], false).untag, [BB, d]);
});

test("by name, used by a container: refused without force; forced, the name goes and a running container's image stays dangling", () => {
  const image = imageOf([BB]);
  const users = [{ id: C1, running: false }];
  conflict(
    () => planRemove(image, byName(BB, "busybox"), users, false),
    `conflict: unable to remove repository reference "busybox" (must force) - container cccccccccccc is using its referenced image ${image.id.slice(7, 19)}`,
  );
  // Forced: a stopped container's image goes; a running one's stays, dangling.
  assert.deepEqual(planRemove(image, byName(BB), users, true), { untag: [BB], delete: true, keepDangling: false });
  assert.deepEqual(planRemove(image, byName(BB), [{ id: C1, running: true }], true), {
    untag: [BB],
    delete: false,
    keepDangling: true,
  });
  // With another tag left, untagging one is fine even while a container uses the image.
  assert.equal(planRemove(imageOf([BB, MINE]), byName(BB), users, false).delete, false);
});

test("by id: one tag → untag and delete; several repositories → 409 unless forced", () => {
  const one = imageOf([BB]);
  assert.deepEqual(removeAnswer(one, planRemove(one, ID, [], false)), [
    { Untagged: "busybox:latest" },
    { Deleted: one.id },
  ]);
  const two = imageOf([BB, MINE]);
  conflict(
    () => planRemove(two, ID, [], false),
    `conflict: unable to delete ${two.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
  );
  assert.deepEqual(removeAnswer(two, planRemove(two, ID, [], true)), [
    { Untagged: "busybox:latest" },
    { Untagged: "mine:1" },
    { Deleted: two.id },
  ]);
  const dangling = imageOf([`moby-dangling@sha256:${"e".repeat(64)}`]);
  assert.deepEqual(removeAnswer(dangling, planRemove(dangling, ID, [], false)), [{ Deleted: dangling.id }]);
});

test("by id, in use: a running container's image is never deleted, a stopped one's only forced", () => {
  const image = imageOf([BB], { ...BUSYBOX_CONFIG, author: "x" });
  const short = image.id.slice(7, 19);
  conflict(
    () => planRemove(image, ID, [{ id: C1, running: true }], true),
    `conflict: unable to delete ${short} (cannot be forced) - image is being used by running container cccccccccccc`,
  );
  conflict(
    () => planRemove(image, ID, [{ id: C1, running: false }], false),
    `conflict: unable to delete ${short} (must be forced) - image is being used by stopped container cccccccccccc`,
  );
  assert.equal(planRemove(image, ID, [{ id: C1, running: false }], true).delete, true);
});

test("isSingleReference as dockerd's: one tag plus digests of its repository", () => {
  const d = (repo: string) => `${repo}@sha256:${"f".repeat(64)}`;
  assert.equal(isSingleReference([]), false);
  assert.equal(isSingleReference([BB]), true);
  assert.equal(isSingleReference([BB, d("docker.io/library/busybox")]), true);
  assert.equal(isSingleReference([BB, d("docker.io/library/other")]), false);
  assert.equal(isSingleReference([BB, MINE]), false);
  assert.equal(isSingleReference([d("docker.io/library/busybox"), d("docker.io/library/busybox")]), true);
});

test("container records answer who uses an image: by manifest or config digest, with running state", () => {
  const image = imageOf([BB]);
  const users = containerImageUsers(
    () => [
      { ID: "a", Image: image.manifestDigest },
      { ID: "b", Image: image.id },
      { ID: "c", Image: `sha256:${"0".repeat(64)}` },
    ],
    (id) => id === "b",
  );
  assert.deepEqual(users.usersOf({ id: image.id, targets: [image.manifestDigest], names: image.names }), [
    { id: "a", running: false },
    { id: "b", running: true },
  ]);
});
