import assert from "node:assert/strict";
import { test } from "node:test";
import { ImageUsers } from "./image-users.ts";
import type { GroupEntry, PasswdEntry, UserDb } from "./spec/user.ts";

const root: PasswdEntry = { name: "root", uid: 0, gid: 0, home: "/root" };
const wheel: GroupEntry = { name: "wheel", gid: 10, members: ["root"] };

/** A database that counts its reads, as rootfsUserDb reads a mounted snapshot. */
function counting(passwd: () => PasswdEntry[], groups: () => GroupEntry[]) {
  const reads = { passwd: 0, groups: 0 };
  const db: UserDb = {
    passwd: () => {
      reads.passwd++;
      return passwd();
    },
    groups: () => {
      reads.groups++;
      return groups();
    },
  };
  return { db, reads };
}

test("an image's users are read once, while its snapshot is mounted, and kept by chain ID", () => {
  const users = new ImageUsers();
  assert.equal(users.get("sha256:a"), undefined);
  const { db, reads } = counting(
    () => [root],
    () => [wheel],
  );
  const fixed = users.remember("sha256:a", db);
  assert.deepEqual(reads, { passwd: 1, groups: 1 }, "both files read now, not after the unmount");
  assert.deepEqual(fixed.passwd(), [root]);
  assert.deepEqual(users.get("sha256:a")?.groups(), [wheel]);
  assert.deepEqual(reads, { passwd: 1, groups: 1 }, "kept answers, no more reads");
  assert.equal(users.get("sha256:b"), undefined, "another chain has its own");
});

test("a read that failed fails again when asked, and is not kept", () => {
  const users = new ImageUsers();
  const { db } = counting(
    () => {
      throw new Error("EIO");
    },
    () => [wheel],
  );
  const fixed = users.remember("sha256:a", db);
  assert.deepEqual(fixed.groups(), [wheel], "the other file answers");
  assert.throws(() => fixed.passwd(), /EIO/, "as the lazy database would have thrown");
  assert.equal(users.get("sha256:a"), undefined);
});

test("bounded: 32 images, the least recently used goes; a database over 1024 entries is not kept", () => {
  const users = new ImageUsers();
  const small = () =>
    counting(
      () => [root],
      () => [],
    ).db;
  for (let i = 0; i < 32; i++) users.remember(`sha256:${i}`, small());
  assert.ok(users.get("sha256:0"), "used: now the most recent");
  users.remember("sha256:32", small());
  assert.ok(users.get("sha256:0"));
  assert.equal(users.get("sha256:1"), undefined, "the least recently used went");
  const huge = counting(
    () => Array.from({ length: 1000 }, (_, i) => ({ ...root, name: `u${i}`, uid: i })),
    () => Array.from({ length: 25 }, (_, i) => ({ ...wheel, gid: i })),
  ).db;
  assert.equal(users.remember("sha256:huge", huge).passwd().length, 1000, "answered all the same");
  assert.equal(users.get("sha256:huge"), undefined);
  // An image without layers has no chain ID: nothing to key by.
  users.remember("", small());
  assert.equal(users.get(""), undefined);
});
