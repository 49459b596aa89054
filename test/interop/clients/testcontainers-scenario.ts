// A testcontainers-node session against the daemon at DOCKER_HOST (a unix socket), run as its own
// process by test/interop/clients-testcontainers.test.ts because testcontainers picks its daemon
// once per process. It starts busybox with a command, labels, env and a log-message wait
// strategy, execs into it (output, stderr, exit code, workdir, env, user), reads its logs, restarts
// it, copies a file in, commits it with a --change and runs the new image, stops it (which
// removes it) and prints one JSON line of what it saw (no ids or times).
//   DOCKER_HOST=unix://SOCK TESTCONTAINERS_RYUK_DISABLED=true node testcontainers-scenario.ts IMAGE PREFIX
// The caller sets the environment: the reaper (ryuk) off, since its image is not here and
// nothing may be pulled; TESTCONTAINERS_HOST_OVERRIDE, since inside a container (/.dockerenv)
// testcontainers asks for the bridge network's gateway, which neither berthd (no networks yet)
// nor a dockerd with --bridge none has; HOME private, so no user's ~/.testcontainers.properties
// or ~/.docker/config.json steers it.
import Docker from "dockerode";
import { GenericContainer, getContainerRuntimeClient, Wait } from "testcontainers";

const [image, prefix] = process.argv.slice(2) as [string, string];

/**
 * A log stream's text until it ends (a container that has exited). testcontainers unrefs the log
 * socket, and berthd ends a follow of a container that has just exited only once its output has
 * drained (up to 2 s; dockerd at once, having drained before it says "exited"): a timer keeps
 * this process alive meanwhile, as a test runner's work would.
 */
function collect(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  const hold = setInterval(() => {}, 1000);
  stream.on("data", (b: Buffer | string) => {
    text += b.toString();
  });
  return new Promise<string>((resolve, reject) => {
    stream.on("end", () => resolve(text));
    stream.on("error", reject);
  }).finally(() => clearInterval(hold));
}
const seen: Record<string, unknown> = {};

const client = await getContainerRuntimeClient();
seen.runtime = {
  // The socket testcontainers chose is the one it was given, never /var/run/docker.sock.
  socket: client.info.containerRuntime.remoteSocketPath,
  host: client.info.containerRuntime.host,
  os: client.info.containerRuntime.operatingSystemType,
};

const started = await new GenericContainer(image)
  .withName(`${prefix}-tc`)
  .withCommand(["sh", "-c", "echo starting; sleep 0.3; echo ready; while true; do sleep 1; done"])
  .withLabels({ suite: prefix })
  .withEnvironment({ GREETING: "hi" })
  .withWaitStrategy(Wait.forLogMessage("ready"))
  .withStartupTimeout(30_000)
  .start();
try {
  seen.name = started.getName();
  seen.labels = started.getLabels().suite;
  const exec = await started.exec(["sh", "-c", "echo $GREETING from exec; echo e >&2; exit 5"]);
  // output is both streams as they came: two pipes, so in no fixed order between them.
  seen.exec = {
    exitCode: exec.exitCode,
    stdout: exec.stdout,
    stderr: exec.stderr,
    output: exec.output.split("\n").sort(),
  };
  const opts = await started.exec(["sh", "-c", 'echo "$PWD $EXTRA $(id -u)"'], {
    workingDir: "/tmp",
    env: { EXTRA: "x" },
    user: "1000",
  });
  seen.execOptions = { exitCode: opts.exitCode, stdout: opts.stdout };

  const logs = await started.logs();
  let text = "";
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`logs: no "ready" in ${JSON.stringify(text)}`)), 10_000);
    logs.on("data", (b: Buffer | string) => {
      text += b.toString();
      if (text.includes("ready\n")) {
        clearTimeout(t);
        resolve();
      }
    });
    logs.on("error", reject);
  });
  (logs as unknown as { destroy(): void }).destroy();
  seen.logs = text;

  // docker cp into it (an archive PUT), then a commit whose --change runs the copied file.
  await started.copyContentToContainer([{ content: "copied\n", target: "/data/x" }]);
  const copied = await started.exec(["cat", "/data/x"]);
  seen.copied = { exitCode: copied.exitCode, stdout: copied.stdout };
  const committed = await started.commit({
    repo: `${prefix}-committed`,
    tag: "v1",
    deleteOnExit: false,
    changes: ['CMD ["cat", "/data/x"]'],
  });
  seen.commitId = /^sha256:[0-9a-f]{64}$/.test(committed);
  const oneShot = await new GenericContainer(`${prefix}-committed:v1`)
    .withWaitStrategy(Wait.forOneShotStartup())
    .withStartupTimeout(30_000)
    .start();
  seen.committedRun = await collect(await oneShot.logs());
  await oneShot.stop();
  await new Docker({ socketPath: client.info.containerRuntime.remoteSocketPath! }).getImage(committed).remove();

  await started.restart({ timeout: 1 });
  const again = await started.exec(["echo", "after restart"]);
  seen.afterRestart = { exitCode: again.exitCode, stdout: again.stdout };
} finally {
  const stopped = await started.stop({ timeout: 1 });
  seen.stopped = typeof stopped.getId();
}
console.log(JSON.stringify(seen));
