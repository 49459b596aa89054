import assert from "node:assert/strict";
import { test } from "node:test";
import { bool, int, parseFlags, str, strs, UsageError } from "./flags.ts";

const specs = {
  bundle: { kind: "string", aliases: ["b"], usage: "" },
  detach: { kind: "bool", aliases: ["d"], usage: "" },
  env: { kind: "strings", aliases: ["e"], usage: "" },
  "preserve-fds": { kind: "int", usage: "" },
} as const;

test("accepts the spellings Go's flag package accepts", () => {
  for (const argv of [["-bundle", "/b"], ["--bundle", "/b"], ["--bundle=/b"], ["-b", "/b"], ["-b=/b"]]) {
    assert.equal(str(parseFlags(argv, specs), "bundle"), "/b", argv.join(" "));
  }
});

test("booleans take no value but accept =true/=false", () => {
  assert.equal(bool(parseFlags(["-d", "id"], specs), "detach"), true);
  assert.equal(bool(parseFlags(["--detach=false", "id"], specs), "detach"), false);
  assert.throws(() => parseFlags(["--detach=maybe"], specs), UsageError);
});

test("parsing stops at the first positional argument and after --", () => {
  const p = parseFlags(["-d", "ctr", "sh", "-c", "echo -b"], specs);
  assert.deepEqual(p.positionals, ["ctr", "sh", "-c", "echo -b"]);
  assert.deepEqual(parseFlags(["--", "-d"], specs).positionals, ["-d"]);
});

test("repeatable and integer flags", () => {
  const p = parseFlags(["-e", "A=1", "--env", "B=2", "--preserve-fds", "2", "x"], specs);
  assert.deepEqual(strs(p, "env"), ["A=1", "B=2"]);
  assert.equal(int(p, "preserve-fds"), 2);
  assert.throws(() => parseFlags(["--preserve-fds", "two"], specs), /parse error/);
});

test("unknown flags and missing values are usage errors naming the flag", () => {
  assert.throws(() => parseFlags(["--nope"], specs), /flag provided but not defined: -nope/);
  assert.throws(() => parseFlags(["--bundle"], specs), /flag needs an argument: -bundle/);
});
