import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError, NotFoundError } from "../../common/errors.ts";
import { BUSYBOX_CONFIG, imageOf } from "./fixture.test-helper.ts";
import { findIn } from "./service.ts";

const bb = imageOf(["docker.io/library/busybox:latest", "docker.io/library/mine:1"]);
const other = imageOf(["localhost:5000/a/b:2"], { ...BUSYBOX_CONFIG, author: "other" });
const images = [bb, other];

test("an image is found as dockerd's GetImage finds it: full id, name, digest reference, id prefix", () => {
  assert.deepEqual(findIn(images, bb.id).ref, { kind: "id" });
  assert.equal(findIn(images, bb.id.slice(7)).image, bb);
  assert.deepEqual(findIn(images, "busybox").ref, {
    kind: "name",
    name: "docker.io/library/busybox:latest",
    given: "busybox",
  });
  assert.equal(findIn(images, "mine:1").image, bb);
  assert.equal(findIn(images, "localhost:5000/a/b:2").image, other);
  // repo@digest of the manifest a name points at.
  const byDigest = findIn(images, `busybox@${bb.manifestDigest}`);
  assert.equal(byDigest.image, bb);
  assert.deepEqual(byDigest.ref, { kind: "id" });
  assert.throws(() => findIn(images, `localhost:5000/a/b@${bb.manifestDigest}`), NotFoundError);
  // A unique prefix of the id.
  let n = 1;
  while (other.id.slice(7, 7 + n) === bb.id.slice(7, 7 + n)) n++;
  assert.equal(findIn(images, bb.id.slice(7, 7 + n)).image, bb);
  assert.equal(findIn(images, `sha256:${other.id.slice(7, 7 + n + 2)}`).image, other);
});

test("unknown, ambiguous and invalid references", () => {
  assert.throws(
    () => findIn(images, "nothere"),
    (e: unknown) => e instanceof NotFoundError && e.message === "No such image: nothere:latest",
  );
  assert.throws(() => findIn(images, `sha256:${"0".repeat(64)}`), NotFoundError);
  assert.throws(() => findIn(images, "Upper"), InvalidArgumentError);
  // Two images whose ids share a first hex digit (found by varying the author): that digit is ambiguous.
  const first = imageOf(["docker.io/library/a:1"]);
  let twin = first;
  for (let i = 0; twin.id.slice(7, 8) !== first.id.slice(7, 8) || twin === first; i++)
    twin = imageOf(["docker.io/library/b:1"], { ...BUSYBOX_CONFIG, author: `twin ${i}` });
  assert.throws(() => findIn([first, twin], first.id.slice(7, 8)), /short image id "." is ambiguous/);
});
