import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { parseFilters } from "../api/query.ts";
import { testRecord } from "./record.testing.ts";
import { type ContainerRecord, createdState, exited, started } from "./record.ts";
import {
  checkListFilters,
  familiarImage,
  humanDuration,
  inspectBody,
  LIST_FILTERS,
  listEntry,
  matchesFilters,
  statusText,
} from "./views.ts";

const record = (name: string, labels: Record<string, string>, state = createdState()): ContainerRecord =>
  testRecord({ id: `${name.length}${"a".repeat(63)}`, name, labels, state });

test("docker's human durations and the Status column", () => {
  assert.equal(humanDuration(500), "Less than a second");
  assert.equal(humanDuration(1000), "1 second");
  assert.equal(humanDuration(45_000), "45 seconds");
  assert.equal(humanDuration(90_000), "About a minute");
  assert.equal(humanDuration(10 * 60_000), "10 minutes");
  assert.equal(humanDuration(3_600_000), "About an hour");
  assert.equal(humanDuration(5 * 3_600_000), "5 hours");
  assert.equal(humanDuration(3 * 86_400_000), "3 days");
  const t0 = Date.parse("2026-12-05T12:00:00.000Z");
  const run = started(createdState(), 5, new Date(t0));
  assert.equal(statusText(record("a", {}, run), t0 + 5_000), "Up 5 seconds");
  assert.equal(statusText(record("a", {}, exited(run, 3, new Date(t0))), t0 + 120_000), "Exited (3) 2 minutes ago");
  assert.equal(statusText(record("a", {}), t0), "Created");
  assert.equal(familiarImage("docker.io/library/busybox:latest"), "busybox:latest");
  assert.equal(familiarImage("docker.io/me/x:1"), "me/x:1");
  assert.equal(familiarImage("example.com/x:1"), "example.com/x:1");
});

test("list and inspect shapes", () => {
  const r = record("web", { a: "b" });
  const e = listEntry(r, Date.parse(r.Created));
  assert.deepEqual(
    [e.Id, e.Names, e.Image, e.Command, e.Created, e.State],
    [r.ID, ["/web"], "busybox", "sh -c 'exit 3'", Date.parse(r.Created) / 1000, "created"],
  );
  const i = inspectBody(r);
  assert.equal(i.Name, "/web");
  assert.deepEqual(i.Args, ["-c", "exit 3"]);
  assert.equal((i.State as { StartedAt: string }).StartedAt, "0001-01-01T00:00:00Z");
  assert.equal((i.HostConfig as { Runtime: string }).Runtime, "berth-runc");
  assert.equal((i.Config as { Image: string }).Image, "busybox");
});

test("filters: values of a key are alternatives, labels must all hold, bad values refused", () => {
  const run = started(createdState(), 5, new Date());
  const web = record("web", { tier: "front", team: "x" }, run);
  const db = record("db", { tier: "back" }, exited(run, 3, new Date()));
  const f = (json: unknown) => parseFilters(JSON.stringify(json), LIST_FILTERS);
  const names = (filters: ReturnType<typeof f>) =>
    [web, db].filter((r) => matchesFilters(r, filters, (p, n) => n.includes(p))).map((r) => r.Name);
  assert.deepEqual(names(f({ status: { running: true, exited: true } })), ["/web", "/db"]);
  assert.deepEqual(names(f({ status: ["exited"] })), ["/db"]);
  assert.deepEqual(names(f({ label: ["tier"] })), ["/web", "/db"]);
  assert.deepEqual(names(f({ label: ["tier=front", "team=x"] })), ["/web"]);
  assert.deepEqual(names(f({ label: ["tier=front", "team=y"] })), []);
  assert.deepEqual(names(f({ name: ["d"] })), ["/db"]);
  assert.deepEqual(names(f({ id: [web.ID.slice(0, 3)] })), ["/web"]);
  assert.deepEqual(names(f({ exited: ["3"] })), ["/db"]);
  assert.deepEqual(names(f({ ancestor: ["busybox"] })), ["/web", "/db"]);
  web.State.Health = { Status: "healthy", FailingStreak: 0, Log: [] };
  assert.deepEqual(names(f({ health: ["healthy"] })), ["/web"]);
  assert.deepEqual(names(f({ health: ["none"] })), ["/db"]);
  assert.deepEqual(names(f({ health: ["starting", "unhealthy"] })), []);
  assert.throws(
    () => checkListFilters(f({ health: ["fine"] })),
    (e: Error) => e.message === "Unrecognised filter value for health: fine",
  );
  assert.throws(
    () => checkListFilters(f({ status: ["sleepy"] })),
    (e: Error) => e.message === "invalid filter 'status=sleepy'",
  );
  assert.throws(() => checkListFilters(f({ exited: ["x"] })), InvalidArgumentError);
  assert.throws(
    () => f({ volume: ["x"] }),
    (e: Error) => e.message === "invalid filter 'volume'",
  );
});
