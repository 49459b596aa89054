import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { parseOutput } from "../../shim/stdio.ts";
import { jsonFileLogUri } from "./log-uri.ts";

const LOGGER = "/opt/berth/dist/berth-logger";

/** The arguments a shim passes, as pairs: containerd's order is a Go map's, so compare as a map. */
function argsOf(uri: string): Map<string, string> {
  const t = parseOutput(uri);
  assert.equal(t.kind, "binary");
  if (t.kind !== "binary") throw new Error("unreachable");
  assert.equal(t.path, LOGGER);
  assert.equal(t.args.length % 2, 0);
  const m = new Map<string, string>();
  for (let i = 0; i < t.args.length; i += 2) m.set(t.args[i]!, t.args[i + 1]!);
  return m;
}

test("the logger's binary:// URI carries dir, name and the rotation as its query", () => {
  const uri = jsonFileLogUri(
    { dir: "/var/lib/berth/containers/abc", name: "abc-json.log", maxSize: 10 << 20, maxFile: 3 },
    LOGGER,
  );
  assert.match(uri, /^binary:\/\/\/opt\/berth\/dist\/berth-logger\?/);
  // Query values are escaped and come back whole (a slash, a space, a plus).
  assert.deepEqual(
    argsOf(uri),
    new Map([
      ["dir", "/var/lib/berth/containers/abc"],
      ["name", "abc-json.log"],
      ["max-size", String(10 << 20)],
      ["max-file", "3"],
    ]),
  );
  assert.deepEqual(
    argsOf(jsonFileLogUri({ dir: "/data/a b+c", name: "x&y=z.log" }, LOGGER)),
    new Map([
      ["dir", "/data/a b+c"],
      ["name", "x&y=z.log"],
    ]),
  );
});

test("what berth-logger would refuse is refused here first", () => {
  const ok = { dir: "/d", name: "c.log" };
  for (const bad of [
    { ...ok, dir: "relative" },
    { ...ok, dir: "/a/../b" },
    { ...ok, dir: "/a\0b" },
    { ...ok, name: "" },
    { ...ok, name: "a/b" },
    { ...ok, name: ".." },
    { ...ok, name: "n".repeat(251) },
    { ...ok, maxSize: -1 },
    { ...ok, maxSize: 1.5 },
    { ...ok, maxSize: 2 ** 60 },
    { ...ok, maxFile: 0 },
    { ...ok, maxFile: 1001 },
  ]) {
    assert.throws(() => jsonFileLogUri(bad, LOGGER), InvalidArgumentError, JSON.stringify(bad).slice(0, 60));
  }
});
