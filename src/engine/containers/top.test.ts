import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidArgumentError } from "../../common/errors.ts";
import { parsePs, psArgs } from "./top.ts";

test("top: ps rows of the container's pids, the command whole", () => {
  const out = [
    "UID          PID    PPID  C STIME TTY          TIME CMD",
    "root           1       0  0 12:00 ?        00:00:01 /sbin/init",
    "root        4242    4200  0 12:01 ?        00:00:00 sleep 600",
    "root        4243    4242  0 12:01 ?        00:00:00 sh -c echo  two  spaces",
    "",
  ].join("\n");
  assert.deepEqual(parsePs(out, new Set([4242, 4243])), {
    Titles: ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
    Processes: [
      ["root", "4242", "4200", "0", "12:01", "?", "00:00:00", "sleep 600"],
      ["root", "4243", "4242", "0", "12:01", "?", "00:00:00", "sh -c echo two spaces"],
    ],
  });
  assert.throws(() => parsePs("USER COMMAND\nroot x\n", new Set([1])), InvalidArgumentError);
});

test("top: ps arguments are options only", () => {
  assert.deepEqual(psArgs(null), ["-ef"]);
  assert.deepEqual(psArgs("aux"), ["aux"]);
  assert.deepEqual(psArgs("-o pid,comm"), ["-o", "pid,comm"]);
  for (const bad of ["-ef; rm -rf /", "$(id)", "-o `id`", "a\u0000b", "x ".repeat(20), "../../x"]) {
    assert.throws(() => psArgs(bad), InvalidArgumentError, bad);
  }
});
