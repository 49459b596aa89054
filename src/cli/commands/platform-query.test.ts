// --platform as docker 28 sends it for push, save and load (queries captured from docker 28
// against a recording daemon), and its refusal of a bad specifier.
import assert from "node:assert/strict";
import { test } from "node:test";
import { platformQuery } from "./platform-query.ts";

test("os[/arch[/variant]] as the OCI platform's JSON; a bad component refused in docker's words", () => {
  assert.equal(platformQuery("linux/amd64"), '{"architecture":"amd64","os":"linux"}');
  assert.equal(platformQuery("linux/arm64/v8"), '{"architecture":"arm64","os":"linux","variant":"v8"}');
  assert.throws(
    () => platformQuery("bogus//x"),
    /^CliError: invalid platform: "" is an invalid component of "bogus\/\/x": platform specifier component must match/,
  );
  assert.throws(() => platformQuery("linux/amd64/v1/x"), /cannot parse platform specifier/);
});
