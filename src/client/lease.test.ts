import assert from "node:assert/strict";
import { test } from "node:test";
import type { LeasePort } from "../oci/transfer/ports.ts";
import { withTemporaryLease } from "./lease.ts";

function fakeLeases() {
  const log: string[] = [];
  const port: LeasePort = {
    create: async (labels) => {
      log.push(`create ${labels?.["containerd.io/gc.expire"] ?? "(no expiry)"}`);
      return "l1";
    },
    release: async (id) => {
      log.push(`release ${id}`);
    },
  };
  return { port, log };
}

test("the work runs under a lease that expires should the client die, released after", async () => {
  const { port, log } = fakeLeases();
  const before = Date.now();
  assert.equal(await withTemporaryLease(port, async (lease) => `made under ${lease}`, 60_000), "made under l1");
  assert.equal(log.length, 2);
  const expiry = Date.parse(log[0]!.slice("create ".length));
  assert.ok(expiry >= before + 60_000 && expiry <= Date.now() + 60_000, log[0]);
  assert.equal(log[1], "release l1");
});

test("a failed work still releases its lease and keeps its error", async () => {
  const { port, log } = fakeLeases();
  await assert.rejects(
    withTemporaryLease(port, async () => {
      throw new Error("prepare failed");
    }),
    /prepare failed/,
  );
  assert.equal(log.at(-1), "release l1");
});
