// createBodyFromFlags' own refusals and bounds (the bodies themselves are compared with docker's
// in test/integration/cli/run-flags.test.ts).
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CliError, UsageError } from "../errors.ts";
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

test("--annotation: HostConfig.Annotations as docker sends them (no check: any key, the last wins)", () => {
  const r = run([
    "--annotation",
    "a=b=c",
    "--annotation",
    "k",
    "--annotation",
    "=v",
    "--annotation",
    "__proto__=x",
    "busybox",
  ]);
  assert.equal(JSON.stringify(r.body.HostConfig.Annotations), '{"a":"b=c","k":"","":"v","__proto__":"x"}');
  assert.equal(
    JSON.stringify(run(["--annotation", "a=1", "--annotation", "a=2", "busybox"]).body.HostConfig.Annotations),
    '{"a":"2"}',
  );
  assert.equal(run(["busybox"]).body.HostConfig.Annotations, undefined);
});

test("--mac-address: the first network's endpoint, as written; a bad one refused in docker's words", () => {
  const eps = (args: string[]) =>
    run([...args, "busybox"]).body.NetworkingConfig.EndpointsConfig as Record<string, { MacAddress: string }>;
  assert.equal(eps(["--mac-address", "02:42:AC:11:00:02"]).default!.MacAddress, "02:42:AC:11:00:02");
  assert.equal(eps(["--network", "none", "--mac-address", "0242.ac11.0002"]).none!.MacAddress, "0242.ac11.0002");
  const two = eps(["--network", "a", "--network", "b", "--mac-address", "02-42-ac-11-00-02"]);
  assert.deepEqual([two.a!.MacAddress, two.b!.MacAddress], ["02-42-ac-11-00-02", ""]);
  assert.equal(eps(["--mac-address", ""]).default!.MacAddress, "");
  refused(["--mac-address", "zz", "busybox"], "berth: zz is not a valid mac address\nSee 'berth run --help'.");
  const huge = "a".repeat(100_000);
  refused(["--mac-address", huge, "busybox"], `berth: ${huge} is not a valid mac address\nSee 'berth run --help'.`);
});

test("--use-api-socket binds the daemon's own unix socket; any other endpoint is refused, exit 1", () => {
  const ctx = { ...processContext("run"), host: "unix:///run/berth/berth.sock" };
  const p = parseFlags(["--use-api-socket", "--mount", "type=tmpfs,dst=/x", "busybox"], RUN_FLAGS, {
    interspersed: false,
    command: "run",
  });
  assert.deepEqual(createBodyFromFlags(p, ctx).body.HostConfig.Mounts, [
    { Type: "tmpfs", Target: "/x" },
    { Type: "bind", Source: "/run/berth/berth.sock", Target: "/var/run/docker.sock", BindOptions: {} },
  ]);
  assert.throws(
    () => createBodyFromFlags(p, { ...ctx, host: "tcp://127.0.0.1:1" }),
    (e: unknown) =>
      e instanceof CliError &&
      e.exitCode === 1 &&
      e.message ===
        "flag --use-api-socket can only be used with unix sockets: docker endpoint tcp://127.0.0.1:1 incompatible",
  );
});

test("the Windows-only limits are sent as given (a Linux daemon never gets them: gate.ts refuses them first)", () => {
  const h = run([
    "--cpu-count",
    "2",
    "--cpu-percent",
    "50",
    "--io-maxiops",
    "0x10",
    "--io-maxbandwidth",
    "1k",
    "busybox",
  ]).body.HostConfig;
  assert.deepEqual([h.CpuCount, h.CpuPercent, h.IOMaximumIOps, h.IOMaximumBandwidth], [2, 50, 16, 1024]);
  refused(
    ["--io-maxiops", "-1", "busybox"],
    'invalid argument "-1" for "--io-maxiops" flag: strconv.ParseUint: parsing "-1": invalid syntax\nSee \'berth run --help\'.',
  );
});
