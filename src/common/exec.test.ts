import assert from "node:assert/strict";
import { test } from "node:test";
import { ExecError, execChecked, execCollect } from "./exec.ts";

test("collects stdout, stderr and the exit code without judging them", async () => {
  const r = await execCollect("sh", ["-c", "printf out; printf err >&2; exit 3"]);
  assert.equal(r.stdout.toString(), "out");
  assert.equal(r.stderr, "err");
  assert.equal(r.code, 3);
  assert.equal(r.signal, null);
});

test("a failure names the command and carries its stderr", async () => {
  const err = await execChecked("sh", ["-c", "echo bad thing >&2; exit 2"]).catch((e: unknown) => e);
  assert.ok(err instanceof ExecError, String(err));
  assert.equal(err.kind, "internal");
  assert.equal(err.command, "sh");
  assert.equal(err.code, 2);
  assert.equal(err.stderr, "bad thing\n");
  assert.equal(err.message, "sh -c echo bad thing >&2; exit 2: exit status 2: bad thing");
});

test("input goes to stdin; env, cwd and argv0 are the child's", async () => {
  const r = await execChecked("sh", ["-c", 'cat; printf " $FOO $(pwd) $0"'], {
    input: "in",
    env: { FOO: "bar", PATH: process.env.PATH },
    cwd: "/tmp",
    argv0: "named",
  });
  // sh -c without operands names itself by its argv[0]: "named", not "sh".
  assert.equal(r.stdout.toString(), "in bar /tmp named");
});

test("a signal and a timeout are said as such", async () => {
  const killed = await execChecked("sh", ["-c", "kill -TERM $$"]).catch((e: unknown) => e);
  assert.ok(killed instanceof ExecError);
  assert.equal(killed.signal, "SIGTERM");
  assert.match(killed.message, /: signal SIGTERM$/);
  const started = Date.now();
  const slow = await execChecked("sleep", ["10"], { timeoutMs: 100 }).catch((e: unknown) => e);
  assert.ok(slow instanceof ExecError);
  assert.equal(slow.timedOut, true);
  assert.equal(slow.signal, "SIGKILL");
  assert.match(slow.message, /^sleep 10: timed out after 100 ms$/);
  assert.ok(Date.now() - started < 5000);
});

test("a command that cannot start is an ExecError naming it", async () => {
  const err = await execCollect("/nonexistent/cmd", ["x"]).catch((e: unknown) => e);
  assert.ok(err instanceof ExecError, String(err));
  assert.equal(err.code, null);
  assert.match(err.message, /^\/nonexistent\/cmd x: spawn \/nonexistent\/cmd ENOENT$/);
});

test("stdout past its bound fails the run; stderr past its bound is cut", async () => {
  const big = await execChecked("head", ["-c", "100000", "/dev/zero"], { maxStdout: 1000 }).catch((e: unknown) => e);
  assert.ok(big instanceof ExecError, String(big));
  assert.match(big.message, /stdout exceeds 1000 bytes/);
  const noisy = await execCollect("sh", ["-c", "head -c 100000 /dev/zero | tr '\\0' x >&2"], { maxStderr: 10 });
  assert.equal(noisy.code, 0);
  assert.equal(noisy.stderr, "xxxxxxxxxx");
  assert.equal(noisy.stderrCut, true);
});

test("output pipes a leftover process holds open do not hold the result", async () => {
  const started = Date.now();
  // The background sleep inherits stdout and stderr; the shell itself exits at once.
  const r = await execCollect("sh", ["-c", "sleep 5 & echo done"]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString(), "done\n");
  assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
});

test("stdio given by the caller is not collected", async () => {
  const r = await execChecked("sh", ["-c", "echo to-nowhere"], { stdio: ["ignore", "ignore", "pipe"] });
  assert.equal(r.stdout.length, 0);
});
