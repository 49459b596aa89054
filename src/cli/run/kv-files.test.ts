// Env and label files read as docker reads them, and hostile ones refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseKvFile } from "./kv-files.ts";

const env: Record<string, string> = { FROM_HOST: "v" };

test("comments, blanks, BOM, CRLF, bare keys from the environment or dropped, values untrimmed", () => {
  const text = "\ufeffA=1\n  # comment\n\n  FROM_HOST\nNOT_SET\nC=with space \r\nD==x\n";
  assert.deepEqual(
    parseKvFile("f", text, (k) => env[k]),
    ["A=1", "FROM_HOST=v", "C=with space ", "D==x"],
  );
  assert.deepEqual(parseKvFile("f", text, undefined), ["A=1", "C=with space ", "D==x"]);
});

test("refusals: a key with blanks, no key, an endless line", () => {
  assert.deepEqual(parseKvFile("f", "A B=1\n", undefined), {
    problem: "poorly formatted environment: variable 'A B' contains whitespaces",
  });
  assert.deepEqual(parseKvFile("f", "=1\n", undefined), {
    problem: "poorly formatted environment: no variable name on line '=1'",
  });
  assert.deepEqual(parseKvFile("f", `A=${"x".repeat(70 * 1024)}\n`, undefined), {
    problem: "bufio.Scanner: token too long",
  });
});
