import assert from "node:assert/strict";
import { test } from "node:test";
import { goUnquote } from "./go-unquote.ts";

test("goUnquote: Go's escapes, each quote's own escape, raw strings", () => {
  assert.equal(goUnquote('"a\\tb\\n\\x41\\u00e9\\U0001F600\\101\\\\\\""'), 'a\tb\nAé😀A\\"');
  assert.equal(goUnquote("'\\''"), "'");
  assert.equal(goUnquote("`a\\n\r`"), "a\\n");
  assert.equal(goUnquote("/a\\/b/"), "a/b");
  assert.equal(goUnquote("|x\\|y|"), "x|y");
  assert.equal(goUnquote('""'), "");
});

test("goUnquote: what Go refuses is undefined", () => {
  for (const bad of [
    '"',
    '"a',
    "'\\\"'", // \" only in "..."
    '"\\\'"', // \' only in '...'
    '"a"b"', // an unescaped quote
    '"\\q"',
    '"\\x4"',
    '"\\ud800"', // a surrogate
    '"\\U00110000"',
    '"\\400"', // past 255
    '"\\12"',
    '"\\"',
    "`a`b`",
    "/a\\|b/", // | escaped in a /-quoted string
  ])
    assert.equal(goUnquote(bad), undefined, bad);
});
