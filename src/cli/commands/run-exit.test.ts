// run's exit code for a failed create or start, by docker's rule (its run.go toStatusError): 127
// when the words contain "executable file not found", "no such file or directory" or "system
// cannot find the file specified"; else 126 when they contain "permission denied" or "is a
// directory" (EACCES's and EISDIR's texts); else 125. Matched as written, case and all.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError, DaemonError } from "../errors.ts";
import { runFailure } from "./run-exit.ts";

function codeOf(daemonMessage: string): number {
  const e = runFailure(new DaemonError(500, daemonMessage), "run");
  assert.ok(e instanceof CliError);
  return e.exitCode;
}

test("127: the three not-found phrases", () => {
  assert.equal(codeOf('exec: "nope": executable file not found in $PATH'), 127);
  assert.equal(codeOf("open /x: no such file or directory"), 127);
  assert.equal(codeOf("The system cannot find the file specified."), 127);
});

test("126: permission denied and is a directory", () => {
  assert.equal(codeOf("exec: /etc/passwd: permission denied"), 126);
  assert.equal(codeOf('exec: "/etc": is a directory'), 126);
});

test("not-found wins over cannot-invoke when both appear", () => {
  assert.equal(codeOf("permission denied: no such file or directory"), 127);
});

test("matched as written: other cases and other words are 125", () => {
  assert.equal(codeOf("Executable File Not Found"), 125);
  assert.equal(codeOf("No such file or directory"), 125);
  assert.equal(codeOf("Permission denied"), 125);
  assert.equal(codeOf("Is a directory"), 125);
  assert.equal(codeOf("cannot execute binary file"), 125);
  assert.equal(codeOf("something else"), 125);
});

test("the message and help line", () => {
  const e = runFailure(new DaemonError(500, "boom"), "create");
  assert.ok(e instanceof CliError);
  assert.equal(e.message, "berth: Error response from daemon: boom\n\nRun 'berth create --help' for more information");
});
