// testcontainers-node against berthd: GenericContainer("busybox:latest") with a command, labels,
// env and Wait.forLogMessage starts, exec gives output, stderr and exit codes (with workdir, env
// and user), logs stream, a file copied in, a commit with a change run as a one-shot container,
// restart, and stop removes the container (clients/testcontainers-
// scenario.ts, one process per daemon: testcontainers picks its daemon once per process). The
// reaper is off (its image is not here and nothing is pulled) and the daemon is named by
// DOCKER_HOST, so testcontainers never reaches /var/run/docker.sock or the network. The same
// scenario runs against Debian's dockerd 20.10 and must see the same.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { outputOf } from "../helpers/berth-containerd.ts";
import { bothDaemons, containersLeft, dockerdSkipReason, IMAGE, skipReason, type Target } from "./clients/daemons.ts";

const SCENARIO = join(import.meta.dirname, "clients", "testcontainers-scenario.ts");

async function scenario(target: Target, prefix: string): Promise<Record<string, unknown>> {
  const home = join(target.dir, "tc-home");
  const tmp = join(target.dir, "tc-tmp");
  mkdirSync(home, { recursive: true });
  mkdirSync(tmp, { recursive: true });
  const child = spawn(process.execPath, [SCENARIO, IMAGE, prefix], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      // testcontainers' lock file goes to the temp dir: a private one, removed with the daemon's dir.
      TMPDIR: tmp,
      DOCKER_HOST: `unix://${target.socket}`,
      TESTCONTAINERS_RYUK_DISABLED: "true",
      TESTCONTAINERS_HOST_OVERRIDE: "localhost",
      DEBUG: "testcontainers*",
    },
    timeout: 120_000,
  });
  const r = await outputOf(child);
  assert.equal(r.status, 0, `testcontainers against ${target.name}:\n${r.stdout}\n${r.stderr.slice(-4000)}`);
  const seen = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
  const runtime = seen.runtime as { socket: string };
  assert.equal(runtime.socket, target.socket, "testcontainers used the socket it was given");
  assert.doesNotMatch(r.stderr, /\/var\/run\/docker\.sock|Pulling|ryuk/i, "no default socket, pull or reaper");
  runtime.socket = "<socket>";
  return seen;
}

describe("testcontainers drives berthd as it drives dockerd", { skip: skipReason }, () => {
  const daemons = bothDaemons();
  let reference: Record<string, unknown> | undefined;

  test("against dockerd 20.10: the scenario itself holds", { skip: dockerdSkipReason }, async () => {
    reference = await scenario(daemons.dockerd()!, "tc");
    assert.deepEqual(await containersLeft(daemons.dockerd()!), []);
  });

  test("against berthd: start with a log wait, exec, logs, restart, stop", async () => {
    const seen = await scenario(daemons.berthd(), "tc");
    assert.deepEqual(seen.exec, {
      exitCode: 5,
      stdout: "hi from exec\n",
      stderr: "e\n",
      output: ["", "e", "hi from exec"],
    });
    assert.deepEqual(seen.execOptions, { exitCode: 0, stdout: "/tmp x 1000\n" });
    assert.match(String(seen.logs), /^starting\nready\n/);
    assert.deepEqual(seen.afterRestart, { exitCode: 0, stdout: "after restart\n" });
    assert.deepEqual(seen.copied, { exitCode: 0, stdout: "copied\n" });
    assert.equal(seen.commitId, true);
    assert.equal(seen.committedRun, "copied\n", "the committed image's CMD (a --change) cats the copied file");
    if (reference) assert.deepEqual(seen, reference);
    assert.deepEqual(await containersLeft(daemons.berthd()), [], "stop removed it");
  });
});
