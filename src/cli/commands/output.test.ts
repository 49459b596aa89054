// --filter values as docker's FilterOpt reads them: name and value trimmed, the name lowercased.
import assert from "node:assert/strict";
import { test } from "node:test";
import { filtersOf, goTrimSpace } from "./output.ts";

test("filtersOf: 'name= x' is name=x, ' Label =a=b ' is label=a=b, an empty filter is none", () => {
  assert.equal(filtersOf(["name= x"], "ps"), '{"name":{"x":true}}');
  assert.equal(filtersOf([" Label =a=b ", "label=c"], "ps"), '{"label":{"a=b":true,"c":true}}');
  assert.equal(filtersOf([""], "ps"), undefined);
  assert.throws(() => filtersOf(["nameonly"], "ps"), /bad format of filter \(expected name=value\)/);
});

test("goTrimSpace trims what Go's unicode.IsSpace says (U+0085, U+3000), not U+FEFF", () => {
  assert.equal(goTrimSpace("\u0085\u3000 x\t\n"), "x");
  assert.equal(goTrimSpace("\ufeffx\ufeff"), "\ufeffx\ufeff");
  assert.equal(goTrimSpace(" \u00a0"), "");
});
