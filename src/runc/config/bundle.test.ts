import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { InvalidArgumentError, InvalidSpecError, NotFoundError } from "../../common/errors.ts";
import { defaultSpec, defaultSpecJson } from "./default.ts";
import { parseJsonExact } from "./json.ts";
import { loadBundleSpec } from "./validate.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-spec-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function bundle(name: string, config?: string): string {
  const b = join(dir, name);
  mkdirSync(b);
  if (config !== undefined) writeFileSync(join(b, "config.json"), config);
  return b;
}

test("loads a valid bundle", () => {
  assert.deepEqual(loadBundleSpec(bundle("ok", defaultSpecJson())), defaultSpec());
});

test("missing config.json: runc's wording", () => {
  const b = bundle("missing");
  assert.throws(
    () => loadBundleSpec(b),
    (e: unknown) => e instanceof NotFoundError && e.message === `JSON specification file ${b}/config.json not found`,
  );
});

test("config.json must be a regular file of at most 16 MiB, read without blocking", () => {
  const big = bundle("big");
  // Sparse: the size is what counts, nothing is read.
  writeFileSync(join(big, "config.json"), "");
  truncateSync(join(big, "config.json"), 16 * 1024 * 1024 + 1);
  assert.throws(
    () => loadBundleSpec(big),
    (e: unknown) => e instanceof InvalidArgumentError && /is 16777217 bytes, more than the 16 MiB/.test(e.message),
  );
  const fifo = bundle("fifo");
  execFileSync("mkfifo", [join(fifo, "config.json")]);
  assert.throws(
    () => loadBundleSpec(fifo),
    (e: unknown) => e instanceof InvalidArgumentError && /config\.json is not a regular file/.test(e.message),
  );
  const asDir = bundle("dir");
  mkdirSync(join(asDir, "config.json"));
  assert.throws(() => loadBundleSpec(asDir), /is a directory, not a JSON specification file/);
});

test("invalid JSON", () => {
  assert.throws(
    () => loadBundleSpec(bundle("bad", '{"ociVersion": "1.0.2",')),
    (e: unknown) => e instanceof InvalidArgumentError && /^config\.json: invalid JSON: /.test(e.message),
  );
});

test("invalid spec names the field", () => {
  assert.throws(
    () => loadBundleSpec(bundle("badfield", JSON.stringify({ ociVersion: "1.0.2", root: { path: 1 } }))),
    (e: unknown) => e instanceof InvalidSpecError && e.field === "root.path",
  );
});

test("long integers stay exact; short ones stay numbers", () => {
  const v = parseJsonExact('{"a": 18446744073709551615, "b": 9007199254740993, "c": 42, "d": 1e300}');
  assert.deepEqual(v, { a: 18446744073709551615n, b: 9007199254740993n, c: 42, d: 1e300 });
  assert.deepEqual(parseJsonExact('{"c": 42}'), { c: 42 });
});
