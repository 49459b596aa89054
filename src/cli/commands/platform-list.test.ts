// rmi --platform's values: pflag's CSV items, containerd's platform syntax and words (docker 28's
// own answers to the same values), the OCI platform JSON sent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError } from "../errors.ts";
import { csvItems, platformJson, platformsQuery } from "./platform-list.ts";

test("items: commas split, quotes group, empty is none", () => {
  assert.deepEqual(csvItems(""), []);
  assert.deepEqual(csvItems("linux/amd64,linux/arm64/v8"), ["linux/amd64", "linux/arm64/v8"]);
  assert.deepEqual(csvItems('"linux,x",y'), ["linux,x", "y"]);
  assert.deepEqual(csvItems("linux/amd64,"), ["linux/amd64", ""]);
});

test("platforms as docker sends them: lower-cased, not normalised, os.version kept", () => {
  assert.deepEqual(platformsQuery(["linux/amd64", "linux/arm64/v8,LINUX/AMD64"]), [
    '{"architecture":"amd64","os":"linux"}',
    '{"architecture":"arm64","os":"linux","variant":"v8"}',
    '{"architecture":"amd64","os":"linux"}',
  ]);
  assert.equal(platformJson("linux(10.0)/amd64"), '{"architecture":"amd64","os":"linux","os.version":"10.0"}');
  assert.equal(platformJson("windows", "amd64"), '{"architecture":"amd64","os":"windows"}');
});

test("hostile platforms: containerd's words, exit 1", () => {
  const refused = (spec: string, message: string) =>
    assert.throws(
      () => platformJson(spec),
      (e: unknown) => e instanceof CliError && e.exitCode === 1 && e.message === message,
    );
  const osRule =
    'OSAndVersion specifier component must match "^([A-Za-z0-9_-]+)(?:\\\\(([A-Za-z0-9_.-]*)\\\\))?$": invalid argument';
  refused("a b", `"a b" is an invalid OS component of "a b": ${osRule}`);
  refused("", `"" is an invalid OS component of "": ${osRule}`);
  refused("/amd64", `"" is an invalid OS component of "/amd64": ${osRule}`);
  refused(
    "linux/x y",
    '"x y" is an invalid component of "linux/x y": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument',
  );
  refused(
    "linux/amd64/v8/",
    '"" is an invalid component of "linux/amd64/v8/": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument',
  );
  refused("linux/amd64/v2/x", '"linux/amd64/v2/x": cannot parse platform specifier: invalid argument');
  assert.throws(() => platformsQuery([`linux/${"a".repeat(100_000)} `]), CliError);
});
