// dist/berth against the real docker CLI on the SAME berthd: for the commands that need no run
// flags (ps, images, inspect, logs, wait, port, diff, top, history, system df, events, version's
// server part, rm/stop/kill/start/pause/rename/tag/rmi and their errors), the same state gives the
// same stdout, stderr and exit code once what must differ is normalised (the client's own lines of
// `version`, "docker"/"berth" in messages, ages that tick between the two calls).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { outputOf } from "../../helpers/berth-containerd.ts";
import { type Berthd, berthdWithBusybox, DOCKER_CLI, DOCKER_CLI_20 } from "../../helpers/berthd.ts";

/** dist/berth.mjs as users run it (BERTH_CLI names another entry, e.g. src/cli/main.ts). */
const BERTH = process.env.BERTH_CLI ?? join(import.meta.dirname, "..", "..", "..", "dist", "berth.mjs");
let d: Berthd;

before(async () => {
  d = await berthdWithBusybox();
  const setup = [
    ["run", "-d", "--name", "web", "busybox", "sleep", "1000"],
    ["run", "--name", "done", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"],
    ["create", "--name", "fresh", "busybox", "true"],
  ];
  for (const args of setup) await d.docker(args);
});
after(() => d?.cleanup());

function berth(args: string[]) {
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DOCKER_CONFIG: join(d.dir, "client-config"),
  };
  // docker 20.10 speaks API 1.41; berth then speaks it too, so version-dependent fields agree.
  env.DOCKER_API_VERSION = DOCKER_CLI === DOCKER_CLI_20 ? "1.41" : "";
  const child = spawn(process.execPath, [BERTH, "-H", `unix://${d.socket}`, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
    timeout: 60_000,
  });
  return outputOf(child);
}

/** What may differ: ages, the name of the program, and how client 20.10 words a 404. */
function normal(s: string): string {
  return (
    s
      .replace(/\b(Less than a second|About a minute|About an hour|\d+ (seconds?|minutes|hours))\b/g, "T")
      // docker 20.10's client words a 404 for a named object itself ("Error: No such container: x");
      // docker 28, like berth, prints the daemon's answer.
      .replaceAll("Error response from daemon: No such ", "Error: No such ")
      // A layer created at time 0 (the fixture's): docker 28 and berth say N/A, 20.10 its age.
      .replace(/\b5\d years ago\b/g, "N/A")
      .replaceAll("docker", "P")
      .replaceAll("berth", "P")
      .replace(/ {2,}/g, "  ")
      .replace(/ +\n/g, "\n")
  );
}

async function same(args: string[]): Promise<void> {
  const want = await d.docker(args);
  const got = await berth(args);
  assert.equal(normal(got.stdout), normal(want.stdout), `stdout of ${args.join(" ")}`);
  assert.equal(normal(got.stderr), normal(want.stderr), `stderr of ${args.join(" ")}`);
  assert.equal(got.status, want.status, `exit code of ${args.join(" ")}`);
}

test("lists: ps (-a -q -s -n -l --no-trunc, --filter), images (-a -q --digests --no-trunc)", async () => {
  for (const args of [
    ["ps"],
    ["ps", "-a"],
    ["ps", "-a", "-q"],
    ["ps", "-a", "-s"],
    ["ps", "-n", "2"],
    ["ps", "-l"],
    ["ps", "-a", "--no-trunc"],
    ["ps", "-a", "--filter", "status=exited"],
    ["ps", "-a", "-f", "name=web", "-q"],
    ["container", "ls", "-a"],
    ["ps", "-a", "--format", "{{.Names}} {{.Status}}"],
    ["ps", "-a", "--format", "table {{.ID}}\t{{.Names}}\t{{.Size}}"],
    ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
    ["images"],
    ["images", "-a"],
    ["images", "-q"],
    ["images", "--digests"],
    ["images", "--no-trunc"],
    ["image", "ls"],
  ]) {
    await same(args);
  }
});

test("inspect, logs, wait, port, diff, top, history, system df, events, version's server part", async () => {
  for (const args of [
    ["inspect", "done"],
    ["inspect", "--type", "image", "busybox"],
    ["inspect", "nosuch"],
    ["container", "inspect", "web"],
    ["image", "inspect", "busybox"],
    ["inspect", "-f", "{{.State.Status}} {{.Name}} {{json .Config.Cmd}}", "done"],
    ["inspect", "-f", "{{.Nope}}", "done"],
    ["inspect", "-f", "{{.State.Status", "done"],
    ["version", "--format", "{{.Server.Version}} {{.Server.Os}}"],
    ["logs", "done"],
    ["logs", "-t", "done"],
    ["logs", "--tail", "1", "done"],
    ["logs", "-f", "--since", "1h", "done"],
    ["logs", "nosuch"],
    ["wait", "done"],
    ["port", "web"],
    ["diff", "done"],
    ["top", "web"],
    ["history", "busybox"],
    ["history", "-q", "busybox"],
    ["system", "df"],
    // berth prints df -v as docker 28 does; 20.10 prints an image's SIZE with one more digit.
    ...(DOCKER_CLI === DOCKER_CLI_20
      ? []
      : [
          ["system", "df", "-v"],
          ["system", "df", "-v", "--format", "json"],
        ]),
  ]) {
    await same(args);
  }
  // One window for both clients. `--until 0s` is each client's own moment in whole seconds (as
  // docker sends it), so the two `top` events just above could fall inside one window and not the
  // other when the clients run on either side of a second's edge.
  const until = String(Math.floor(Date.now() / 1000));
  await same(["events", "--since", "1h", "--until", until]);
  await same(["events", "--since", "1h", "--until", until, "--filter", "event=die"]);
  // export: the same tar entries either way, to -o FILE and to a pipe.
  const tarList = (file: string) => spawnSync("tar", ["-tvf", file], { encoding: "utf8" }).stdout;
  const theirs = join(d.dir, "theirs.tar");
  const mine = join(d.dir, "mine.tar");
  assert.equal((await d.docker(["export", "-o", theirs, "done"])).status, 0);
  assert.equal((await berth(["export", "-o", mine, "done"])).status, 0);
  assert.ok(tarList(mine).includes("bin/busybox"));
  assert.equal(tarList(mine), tarList(theirs));
  const server = (s: string) => s.slice(s.indexOf("Server:"));
  const want = await d.docker(["version"]);
  const got = await berth(["version"]);
  assert.equal(got.status, 0);
  assert.equal(server(got.stdout), server(want.stdout));
});

test("changes: errors for missing names, then stop/kill/start/pause/rename/tag/rmi/rm on live ones", async () => {
  for (const args of [
    ["stop", "nosuch", "other"],
    ["kill", "nosuch"],
    ["rm", "nosuch"],
    ["rmi", "nosuch:1"],
    ["rename", "nosuch", "x"],
    ["rm", "web"],
  ]) {
    await same(args);
  }
  // Each change is made by berth, its result read back with the docker CLI (and the other way).
  const step = async (args: string[], out: string) => {
    const r = await berth(args);
    assert.equal(r.stderr, "", args.join(" "));
    assert.equal(r.status, 0, args.join(" "));
    assert.equal(r.stdout, out, args.join(" "));
  };
  await step(["pause", "web"], "web\n");
  assert.equal((await d.docker(["inspect", "-f", "{{.State.Status}}", "web"])).stdout, "paused\n");
  await step(["unpause", "web"], "web\n");
  await step(["rename", "web", "web2"], "");
  await step(["kill", "-s", "TERM", "web2"], "web2\n");
  await step(["start", "fresh"], "fresh\n");
  await step(["wait", "fresh"], "0\n");
  await step(["restart", "-t", "0", "web2"], "web2\n");
  await step(["stop", "-t", "0", "web2"], "web2\n");
  assert.equal((await d.docker(["inspect", "-f", "{{.State.Status}}", "web2"])).stdout, "exited\n");
  await step(["tag", "busybox", "mine:v1"], "");
  await step(["rmi", "mine:v1"], "Untagged: mine:v1\n");
  await step(["rm", "web2", "fresh"], "web2\nfresh\n");
  const doneId = (await d.docker(["inspect", "-f", "{{.Id}}", "done"])).stdout.trim();
  const prune = await berth(["container", "prune", "-f"]);
  assert.equal(prune.status, 0);
  assert.match(prune.stdout, new RegExp(`^Deleted Containers:\n${doneId}\n\nTotal reclaimed space: \\d`));
  assert.equal((await d.docker(["ps", "-aq"])).stdout, "");
});
