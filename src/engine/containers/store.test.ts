import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { testRecord } from "./record.testing.ts";
import type { ContainerRecord } from "./record.ts";
import { ContainerStore, MAX_RECORD_BYTES, parseRecord } from "./store.ts";

const dirs: string[] = [];
/** The decoder's maps have no prototype: compared as JSON. */
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const record = (id: string): ContainerRecord =>
  testRecord({ id, cmd: ["echo", "hi"], labels: { a: "b" }, filesDir: "/x" });

test("records: saved 0600 one directory each, loaded back equal; hostile directories skipped", () => {
  const root = mkdtempSync(join(tmpdir(), "berth-store-"));
  dirs.push(root);
  const store = new ContainerStore(root);
  const id = "a".repeat(64);
  store.makeDir(id);
  store.save(record(id));
  assert.equal(statSync(join(root, "containers", id, "config.v2.json")).mode & 0o777, 0o600);
  // Hostile or broken neighbours: each skipped with its reason, none fatal.
  const bad = (n: string) => {
    const d = join(root, "containers", n.repeat(64));
    mkdirSync(d);
    return d;
  };
  writeFileSync(join(bad("b"), "config.v2.json"), "{not json");
  writeFileSync(join(bad("c"), "config.v2.json"), JSON.stringify({ ...record("d".repeat(64)) }));
  symlinkSync("/etc/passwd", join(bad("e"), "config.v2.json"));
  writeFileSync(join(bad("f"), "config.v2.json"), " ".repeat(MAX_RECORD_BYTES + 1));
  bad("1"); // no record at all
  mkdirSync(join(root, "containers", "not-an-id"));
  const skipped: string[] = [];
  const loaded = store.loadAll((sid) => skipped.push(sid));
  assert.deepEqual(plain(loaded), plain([record(id)]));
  assert.deepEqual(
    skipped.sort(),
    ["1", "b", "c", "e", "f"].map((c) => c.repeat(64)),
  );
  store.remove(id);
  assert.ok(!readdirSync(join(root, "containers")).includes(id));
  assert.throws(() => store.dir("../etc"), InvalidArgumentError);
  assert.throws(() => store.dir("A".repeat(64)), InvalidArgumentError);
});

test("a stored record is checked field by field", () => {
  const id = "a".repeat(64);
  const good = JSON.stringify(record(id));
  assert.deepEqual(plain(parseRecord(good, id)), plain(record(id)));
  const cases: [string, (r: Record<string, unknown>) => void][] = [
    ["a bad name", (r) => (r.Name = "/../x")],
    ["a wrong status", (r) => ((r.State as Record<string, unknown>).Status = "sleeping")],
    ["a pid that is no integer", (r) => ((r.State as Record<string, unknown>).Pid = "1")],
    ["args not strings", (r) => (r.Args = [1])],
    ["an ill-typed Config", (r) => ((r.Config as Record<string, unknown>).Env = 7)],
    ["no State", (r) => delete r.State],
    ["a LogPath not a string", (r) => (r.LogPath = null)],
  ];
  for (const [what, change] of cases) {
    const r = JSON.parse(good);
    change(r);
    assert.throws(() => parseRecord(JSON.stringify(r), id), what);
  }
  assert.throws(() => parseRecord("[]", id));
  assert.throws(() => parseRecord("null", id));
});
