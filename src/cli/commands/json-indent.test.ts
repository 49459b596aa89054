// Go's json.Indent as docker inspect uses it: whitespace only, tokens untouched.
import assert from "node:assert/strict";
import { test } from "node:test";
import { indentJson } from "./json-indent.ts";

test("objects, arrays, empty ones compact, strings with brackets and escapes untouched", () => {
  const raw = '[{"a":1,"b":[],"c":{},"d":"x, [y]: {\\"z\\"}\\\\","e":[1,2.50,1e400],"f":null}]';
  assert.equal(
    indentJson(raw),
    '[\n    {\n        "a": 1,\n        "b": [],\n        "c": {},\n        "d": "x, [y]: {\\"z\\"}\\\\",\n        "e": [\n            1,\n            2.50,\n            1e400\n        ],\n        "f": null\n    }\n]',
  );
  assert.equal(indentJson("[]"), "[]");
  assert.equal(indentJson(' { "a" : [ 1 ] } '), '{\n    "a": [\n        1\n    ]\n}');
});
