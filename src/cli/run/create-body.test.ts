// createBodyFromFlags' own refusals and bounds (the bodies themselves are compared with docker's
// in test/integration/cli/run-flags.test.ts).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { UsageError } from "../errors.ts";
import { parseFlags } from "../flags/parse.ts";
import { createBodyFromFlags, processContext } from "./create-body.ts";
import { RUN_FLAGS } from "./flags.ts";
import { MAX_KV_FILE_BYTES } from "./kv-files.ts";

const run = (args: string[]) =>
  createBodyFromFlags(parseFlags(args, RUN_FLAGS, { interspersed: false, command: "run" }), processContext("run"));

function refused(args: string[], message: string, exitCode = 125): void {
  assert.throws(
    () => run(args),
    (e: unknown) => e instanceof UsageError && e.message === message && e.exitCode === exitCode,
  );
}

test("no image: docker's words, exit 1", () => {
  refused(["--rm"], "berth: 'berth run' requires at least 1 argument\nSee 'berth run --help'.", 1);
});

test("conflicts docker refuses", () => {
  refused(
    ["-d", "-a", "stdout", "busybox"],
    "berth: conflicting options: cannot specify both --attach and --detach\nSee 'berth run --help'.",
  );
  refused(["-a", "stdfoo", "busybox"], "berth: valid streams are STDIN, STDOUT and STDERR\nSee 'berth run --help'.");
  refused(
    ["--no-healthcheck", "--health-cmd", "true", "busybox"],
    "berth: --no-healthcheck conflicts with --health-* options\nSee 'berth run --help'.",
  );
  refused(
    ["--log-driver", "none", "--log-opt", "a=b", "busybox"],
    "berth: invalid logging opts for driver none\nSee 'berth run --help'.",
  );
  refused(["--device", "/dev/null:/x:rwx", "busybox"], "berth: bad mode specified: rwx\nSee 'berth run --help'.");
});

test("run -d: nothing attached; name and platform go in the query", () => {
  const r = run(["-d", "-i", "--name", "n", "--platform", "linux/amd64", "busybox", "sleep", "9"]);
  assert.equal(r.name, "n");
  assert.equal(r.platform, "linux/amd64");
  assert.equal(r.body.AttachStdin, false);
  assert.equal(r.body.AttachStdout, false);
  assert.equal(r.body.StdinOnce, false);
  assert.equal(r.body.OpenStdin, true);
  assert.deepEqual(r.body.Cmd, ["sleep", "9"]);
});

test("hostile input: an env file past the bound is refused without being read whole", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-envfile-"));
  try {
    const big = join(dir, "big.env");
    writeFileSync(big, "A=1\n".repeat(MAX_KV_FILE_BYTES / 4 + 1));
    refused(
      ["--env-file", big, "busybox"],
      `berth: open ${big}: larger than ${MAX_KV_FILE_BYTES} bytes\nSee 'berth run --help'.`,
    );
    const ok = join(dir, "ok.env");
    writeFileSync(ok, "A=1\n");
    assert.deepEqual(run(["--env-file", ok, "busybox"]).body.Env, ["A=1"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("hostile input: an env file with no end (/dev/zero, size 0 by stat) is refused at the bound", () => {
  refused(
    ["--env-file", "/dev/zero", "busybox"],
    `berth: open /dev/zero: larger than ${MAX_KV_FILE_BYTES} bytes\nSee 'berth run --help'.`,
  );
  refused(
    ["--security-opt", "seccomp=/dev/zero", "busybox"],
    `berth: opening seccomp profile (/dev/zero) failed: larger than ${MAX_KV_FILE_BYTES} bytes\nSee 'berth run --help'.`,
  );
});

test("--net and --network fill one list in their command-line order, as docker's one NetworkOpt", () => {
  const r = run(["--network", "n2", "--net", "n1", "busybox"]);
  assert.equal(r.body.HostConfig.NetworkMode, "n2");
  assert.deepEqual(Object.keys(r.body.NetworkingConfig.EndpointsConfig), ["n2", "n1"]);
});
