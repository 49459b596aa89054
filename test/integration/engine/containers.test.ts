// berthd's containers driven by the real docker CLI 28 (dist/berthd.mjs with its own
// berth-containerd in private dirs, the busybox fixture imported into its "berth" namespace as
// busybox:latest): run with and without --rm, exit codes, -d with ps/inspect/stop/start/kill/
// wait/rm, logs with stdout and stderr apart, create + start -a, rm -f, name conflicts, ps
// filters, rename, -it through a pseudo-terminal; hostile requests over raw HTTP. After each
// group nothing of the containers is left: no tasks, containers or snapshots in containerd, no
// mounts, no cgroups, no processes.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { decodeFrames } from "../../../src/engine/api/stdcopy.ts";
import { outputOf } from "../../helpers/berth-containerd.ts";
import { type Berthd, DOCKER_CLI } from "../../helpers/berthd.ts";
import { containerScenario, assertNothingLeft as nothingLeft } from "../../helpers/engine-scenario.ts";
import { ctrOn, dockerOk, useBerthd } from "../../helpers/engine-suite.ts";

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const ctr = ctrOn;

/** Raw bytes on a fresh connection, and what the daemon answers until it closes. */
function rawExchange(socket: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    const got: Buffer[] = [];
    c.on("data", (b: Buffer) => got.push(b));
    c.on("error", (err) => (got.length > 0 ? resolve(Buffer.concat(got).toString()) : reject(err)));
    c.on("close", () => resolve(Buffer.concat(got).toString()));
    c.write(bytes);
  });
}

/** Nothing of any container is left (the scenario's check, on berthd's berth-containerd). */
const assertNothingLeft = (d: Berthd, ids: string[]) =>
  nothingLeft({ d, namespace: "berth", ctr: (args) => ctr(d, args), ids });

describe("docker run and friends against berthd", { skip: isRoot ? false : "berthd runs as root" }, () => {
  let d: Berthd;
  const ids: string[] = [];
  const docker = async (args: string[]) => {
    const r = await d.docker(args);
    return r;
  };
  const ok = (args: string[]) => dockerOk(d, args);
  useBerthd((b) => (d = b));

  /** A shell command (the docker CLI) in a pseudo-terminal of script(1)'s, its output as it comes. */
  const inTerminal = (cmd: string) => {
    const child = spawn("script", ["-qefc", cmd, "/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config") },
    });
    const result = outputOf(child);
    let text = "";
    child.stdout!.on("data", (b: Buffer) => {
      text += b.toString();
    });
    const seen = () => text;
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(text); i++) await sleep(50);
      assert.match(text, re);
    };
    return { child, result, seen, waitFor };
  };

  /** `docker run` with a --cidfile, so the test knows the id of a container that removed itself. */
  let runs = 0;
  const run = async (args: string[]) => {
    const cidfile = join(d.dir, `cid-${++runs}`);
    const r = await docker(["run", "--cidfile", cidfile, ...args]);
    if (existsSync(cidfile)) ids.push(readFileSync(cidfile, "utf8").trim());
    return r;
  };

  // run --rm, exit codes, -d/ps/inspect/stop/start/kill/wait/rm, logs, create + start -a, images:
  // the scenario test/interop/berthd-on-containerd.test.ts runs on Debian's containerd too.
  containerScenario(() => ({ d, namespace: "berth", ctr: (args) => ctr(d, args), ids }));

  test("run -d --rm: stop removes it, rm -f too; docker attach follows a running one's output", async () => {
    const a = (await ok(["run", "-d", "--rm", "busybox", "sleep", "600"])).trim();
    const b = (await ok(["run", "-d", "--rm", "busybox", "sleep", "600"])).trim();
    ids.push(a, b);
    await ok(["stop", "-t", "0", a]);
    await ok(["rm", "-f", b]);
    for (let i = 0; i < 50 && (await ok(["ps", "-aq"])) !== ""; i++) await sleep(100);
    assert.equal(await ok(["ps", "-aq"]), "");
    const c = (await ok(["run", "-d", "busybox", "sh", "-c", "sleep 1; echo late; echo later >&2; exit 5"])).trim();
    ids.push(c);
    const attached = await docker(["attach", c]);
    assert.equal(attached.status, 5, attached.stderr);
    assert.equal(attached.stdout, "late\n");
    assert.equal(attached.stderr, "later\n");
    // attach with logs=1 replays what was written before, apart by stream. A client that asks
    // no upgrade is told "raw-stream" at every version, as dockerd's plain 200 says; the 101
    // names the frames from 1.42 on (the docker CLI's attach above), as logs does.
    const raw = await d.http("POST", `/containers/${c}/attach?logs=1&stdout=1&stderr=1`);
    assert.equal(raw.status, 200);
    assert.equal(raw.headers["content-type"], "application/vnd.docker.raw-stream");
    const old = await d.http("POST", `/v1.41/containers/${c}/attach?logs=1&stdout=1&stderr=1`);
    assert.equal(old.headers["content-type"], "application/vnd.docker.raw-stream");
    assert.deepEqual(Buffer.from(old.body, "latin1"), Buffer.from(raw.body, "latin1"));
    const upgraded = await rawExchange(
      d.socket,
      `POST /containers/${c}/attach?logs=1&stdout=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
    );
    assert.match(upgraded, /^HTTP\/1.1 101 UPGRADED\r\nContent-Type: application\/vnd.docker.multiplexed-stream\r\n/);
    const newLogs = await d.http("GET", `/containers/${c}/logs?stdout=1`);
    assert.equal(newLogs.headers["content-type"], "application/vnd.docker.multiplexed-stream");
    const oldLogs = await d.http("GET", `/v1.41/containers/${c}/logs?stdout=1`);
    assert.equal(oldLogs.headers["content-type"], "application/vnd.docker.raw-stream");
    const frames = decodeFrames(Buffer.from(raw.body, "latin1"));
    assert.deepEqual(
      frames.map((f) => [f.stream, f.payload.toString()]),
      [
        [1, "late\n"],
        [2, "later\n"],
      ],
    );
    await ok(["rm", c]);
    assertNothingLeft(d, ids);
  });

  test("pause and unpause: the process frozen and thawed; a paused container can be stopped and force-removed", async () => {
    const id = (
      await ok(["run", "-d", "busybox", "sh", "-c", "while :; do date +%s%N > /tmp/t; sleep 0.05; done"])
    ).trim();
    ids.push(id);
    await ok(["pause", id]);
    const state = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", id]));
    assert.deepEqual([state.Status, state.Running, state.Paused], ["paused", true, true]);
    assert.match(await ok(["ps", "--filter", "status=paused", "--format", "{{.Status}}"]), /^Up .* \(Paused\)\n$/);
    // The loop writes the time every 50 ms: frozen, the file stays as it is; thawed, it moves on.
    const stamp = () => readFileSync(`/proc/${state.Pid}/root/tmp/t`, "utf8");
    const before = stamp();
    await sleep(400);
    assert.equal(stamp(), before, "nothing runs while paused");
    const again = await docker(["pause", id]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, new RegExp(`Container ${id} is already paused`));
    await ok(["unpause", id]);
    assert.equal(JSON.parse(await ok(["inspect", "--format", "{{json .State.Status}}", id])), "running");
    await sleep(400);
    assert.notEqual(stamp(), before, "it runs again");
    const notPaused = await docker(["unpause", id]);
    assert.equal(notPaused.status, 1);
    assert.match(notPaused.stderr, new RegExp(`Container ${id} is not paused`));
    await ok(["pause", id]);
    await ok(["stop", "-t", "1", id]);
    const stopped = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", id]));
    assert.deepEqual([stopped.Status, stopped.Paused], ["exited", false]);
    await ok(["start", id]);
    await ok(["pause", id]);
    await ok(["rm", "-f", id]);
    assertNothingLeft(d, ids);
  });

  test("12 docker run --rm at once: each its own output and exit code, nothing left", async () => {
    const runs = await Promise.all(
      Array.from({ length: 12 }, (_, i) => run(["--rm", "busybox", "sh", "-c", `echo run ${i}; exit ${i}`])),
    );
    runs.forEach((r, i) => {
      assert.equal(r.status, i, r.stderr);
      assert.equal(r.stdout, `run ${i}\n`);
    });
    assert.equal(await ok(["ps", "-aq"]), "");
    assertNothingLeft(d, ids);
  });

  test("a command that is not in the image: exit 127 with the runtime's words; --rm still removes it", async () => {
    const r = await run(["--rm", "busybox", "nonexistent-command"]);
    assert.equal(r.status, 127, r.stderr);
    assert.match(r.stderr, /executable file not found in \$PATH/);
    const kept = await run(["--name", "nocmd", "busybox", "nonexistent-command"]);
    assert.equal(kept.status, 127, kept.stderr);
    const state = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", "nocmd"]));
    assert.equal(state.Status, "created");
    assert.equal(state.ExitCode, 127);
    assert.match(state.Error, /executable file not found/);
    await ok(["rm", "nocmd"]);
    assertNothingLeft(d, ids);
  });

  test("names: conflicts in dockerd's words, invalid names, rename; ps filters status, name, label, id", async () => {
    const a = (await ok(["create", "--name", "alpha", "--label", "tier=web", "busybox", "true"])).trim();
    ids.push(a);
    const conflict = await docker(["create", "--name", "alpha", "busybox", "true"]);
    assert.equal(conflict.status, 1, conflict.stderr);
    assert.match(
      conflict.stderr,
      new RegExp(
        `Conflict. The container name "/alpha" is already in use by container "${a}". You have to remove \\(or rename\\) that container to be able to reuse that name.`,
      ),
    );
    const bad = await docker(["create", "--name", "-bad", "busybox", "true"]);
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, /Invalid container name \(-bad\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
    const b = (await ok(["run", "-d", "--name", "beta", "--label", "tier=db", "busybox", "sleep", "600"])).trim();
    ids.push(b);
    const gamma = await docker(["run", "--name", "gamma", "busybox", "sh", "-c", "exit 2"]);
    assert.equal(gamma.status, 2, gamma.stderr);
    const names = async (...filters: string[]) =>
      (await ok(["ps", "-a", ...filters.flatMap((f) => ["--filter", f]), "--format", "{{.Names}}"]))
        .split("\n")
        .filter(Boolean)
        .sort();
    assert.deepEqual(await names("status=exited"), ["gamma"]);
    assert.deepEqual(await names("status=created"), ["alpha"]);
    assert.deepEqual(await names("status=running"), ["beta"]);
    assert.deepEqual(await names("name=a"), ["alpha", "beta", "gamma"]);
    assert.deepEqual(await names("name=^gam"), ["gamma"]);
    assert.deepEqual(await names("label=tier"), ["alpha", "beta"]);
    assert.deepEqual(await names("label=tier=db"), ["beta"]);
    assert.deepEqual(await names(`id=${a.slice(0, 8)}`), ["alpha"]);
    assert.deepEqual(await names("exited=2"), ["gamma"]);
    // alpha, beta, gamma were made in that order.
    assert.deepEqual(await names("before=gamma"), ["alpha", "beta"]);
    assert.deepEqual(await names("since=alpha"), ["beta", "gamma"]);
    assert.deepEqual(await names("since=alpha", "before=gamma"), ["beta"]);
    const badFilter = await docker(["ps", "--filter", "status=sleepy"]);
    assert.notEqual(badFilter.status, 0);
    assert.match(badFilter.stderr, /invalid filter 'status=sleepy'/);
    // docker info counts them (alpha created, beta running, gamma exited).
    assert.equal(
      await ok([
        "info",
        "--format",
        "{{.Containers}} {{.ContainersRunning}} {{.ContainersPaused}} {{.ContainersStopped}}",
      ]),
      "3 1 0 2\n",
    );
    // Only running ones without -a.
    assert.equal((await ok(["ps", "--format", "{{.Names}}"])).trim(), "beta");
    await ok(["rename", "alpha", "delta"]);
    assert.deepEqual(await names("name=delta"), ["delta"]);
    const taken = await docker(["rename", "delta", "beta"]);
    assert.notEqual(taken.status, 0);
    assert.match(taken.stderr, /Conflict. The container name "\/beta" is already in use/);
    // The old name is free again.
    ids.push((await ok(["create", "--name", "alpha", "busybox", "true"])).trim());
    await ok(["rm", "-f", "alpha", "beta", "gamma", "delta"]);
    assertNothingLeft(d, ids);
  });

  test("docker run -i: stdin sent before the start and its end reach the process; large output arrives whole", async () => {
    const child = spawn(
      DOCKER_CLI,
      ["-H", `unix://${d.socket}`, "run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo done >&2"],
      {
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config") },
      },
    );
    const result = outputOf(child);
    child.stdin!.end("line one\nline two\n");
    const r = await result;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "line one\nline two\n");
    assert.equal(r.stderr, "done\n");
    // Far more than a pipe holds: every byte, in order.
    const big = await run(["--rm", "busybox", "seq", "1", "100000"]);
    assert.equal(big.status, 0, big.stderr);
    const lines = big.stdout.split("\n");
    assert.equal(lines.length, 100_001);
    assert.equal(lines[0], "1");
    assert.equal(lines[99_999], "100000");
    assertNothingLeft(d, ids);
  });

  test("docker run -it busybox sh through a pseudo-terminal: raw attach, resize seen inside, exit code", async () => {
    const cidfile = join(d.dir, "cid-tty");
    const cmd = `stty cols 77 rows 23; ${DOCKER_CLI} -H unix://${d.socket} run -it --rm --cidfile ${cidfile} busybox sh`;
    const { child, result, seen, waitFor } = inTerminal(cmd);
    await waitFor(/# /);
    // The CLI resizes right after the start, racing the shell's prompt: asked until it shows.
    for (let i = 0; i < 20 && !/\r\n23 77\r\n/.test(seen()); i++) {
      child.stdin!.write("stty size\r");
      await sleep(250);
    }
    assert.match(seen(), /\r\n23 77\r\n/, "the terminal's size reached the container");
    child.stdin!.write("tty; echo $((6*7))\r");
    await waitFor(/42\r\n/);
    child.stdin!.write("exit 5\r");
    const r = await result;
    assert.equal(r.status, 5, r.stdout + r.stderr);
    assert.match(r.stdout, /\/dev\/pts\/0\r\n42\r\n/);
    ids.push(readFileSync(cidfile, "utf8").trim());
    assertNothingLeft(d, ids);
  });

  test("docker run -it, then ctrl-p ctrl-q: the CLI detaches and the container runs on", async () => {
    const cidfile = join(d.dir, "cid-detach");
    const cmd = `${DOCKER_CLI} -H unix://${d.socket} run -it --cidfile ${cidfile} busybox sh`;
    const { child, result, waitFor } = inTerminal(cmd);
    await waitFor(/# /);
    child.stdin!.write("\x10\x11");
    const r = await result;
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const id = readFileSync(cidfile, "utf8").trim();
    ids.push(id);
    await sleep(500);
    const state = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", id]));
    assert.equal(state.Status, "running", "detached, not ended");
    await ok(["rm", "-f", id]);
    assertNothingLeft(d, ids);
  });

  test("detach keys for clients that do not watch for them: the attach ends, the container runs on", async () => {
    const json = { "Content-Type": "application/json" };
    const made = await d.http(
      "POST",
      "/containers/create",
      JSON.stringify({ Image: "busybox", Cmd: ["sh"], Tty: true, OpenStdin: true }),
      json,
    );
    assert.equal(made.status, 201, made.body);
    const id = JSON.parse(made.body).Id as string;
    ids.push(id);
    assert.equal((await d.http("POST", `/containers/${id}/start`)).status, 204);
    const bad = await d.http("POST", `/containers/${id}/attach?stream=1&stdin=1&detachKeys=ctrl-pp`);
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /^Invalid detach keys \(ctrl-pp\) provided$/);
    const sock = connect(d.socket);
    let got = "";
    let closed = false;
    sock.on("data", (b: Buffer) => {
      got += b.toString();
    });
    sock.on("close", () => {
      closed = true;
    });
    sock.write(
      `POST /containers/${id}/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
    );
    const until = async (ok: () => boolean, what: string) => {
      for (let i = 0; i < 100 && !ok(); i++) await sleep(50);
      assert.ok(ok(), `${what}: ${JSON.stringify(got)}`);
    };
    await until(() => got.startsWith("HTTP/1.1 101 UPGRADED"), "upgraded");
    // ctrl-a alone is given on (the sequence broke), then the command runs.
    sock.write("\x01echo marker$((1+1))\r");
    await until(() => got.includes("marker2"), "the shell answered");
    sock.write("\x01x");
    await until(() => closed, "the attach ended");
    const state = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", id]));
    assert.equal(state.Status, "running");
    await ok(["rm", "-f", id]);
    assertNothingLeft(d, ids);
  });

  test("hostile requests: unknown ids 404, path tricks, ambiguous prefixes, bad bodies 400, bad names", async () => {
    const missing = await d.http("GET", "/containers/nope/json");
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.body), { message: "No such container: nope" });
    for (const path of ["/containers/%2e%2e/json", "/containers/..%2F..%2Fetc/json", "/containers/a%2Fb/json"]) {
      assert.equal((await d.http("GET", path)).status, 404, path);
    }
    assert.equal((await d.http("POST", "/containers/nope/start")).status, 404);
    assert.equal((await d.http("POST", "/containers/nope/wait")).status, 404);
    assert.equal((await d.http("DELETE", "/containers/nope")).status, 404);
    const json = { "Content-Type": "application/json" };
    const post = (body: string, query = "") => d.http("POST", `/containers/create${query}`, body, json);
    const noImage = await post(JSON.stringify({ Image: "nosuch", Cmd: ["true"] }));
    assert.equal(noImage.status, 404);
    assert.deepEqual(JSON.parse(noImage.body), { message: "No such image: nosuch:latest" });
    assert.equal((await post("{")).status, 400);
    const typed = await post(JSON.stringify({ Image: "busybox", Cmd: "true", Env: 7 }));
    assert.equal(typed.status, 400);
    assert.match(JSON.parse(typed.body).message, /json: cannot unmarshal number into Go struct field/);
    const badName = await post(JSON.stringify({ Image: "busybox", Cmd: ["true"] }), "?name=..%2F..%2Fetc");
    assert.equal(badName.status, 400);
    assert.match(JSON.parse(badName.body).message, /^Invalid container name/);
    const noCmd = await post(JSON.stringify({ Image: "busybox", Entrypoint: [""], Cmd: [] }));
    assert.equal(noCmd.status, 400);
    // Refused by its declared length alone (far past any limit), before a byte of it is read.
    const huge = await rawExchange(
      d.socket,
      `POST /containers/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${64 << 20}\r\n\r\n{`,
    );
    assert.match(huge, /^HTTP\/1.1 413 /);
    const badRef = await post(JSON.stringify({ Image: "UPPER/Case", Cmd: ["true"] }));
    assert.equal(badRef.status, 400);
    // Two containers whose ids share a first digit: that digit alone is ambiguous (16 tries at most).
    const made: string[] = [];
    let shared: string | undefined;
    for (let i = 0; i < 17 && shared === undefined; i++) {
      const r = await post(JSON.stringify({ Image: "busybox", Cmd: ["true"] }));
      assert.equal(r.status, 201, r.body);
      const id = JSON.parse(r.body).Id as string;
      made.push(id);
      ids.push(id);
      shared = made.slice(0, -1).find((o) => o[0] === id[0])?.[0];
    }
    assert.ok(shared);
    const ambiguous = await d.http("GET", `/containers/${shared}/json`);
    assert.equal(ambiguous.status, 400);
    assert.match(JSON.parse(ambiguous.body).message, /multiple IDs found with provided prefix/);
    const notModified = await d.http("POST", `/containers/${made[0]}/stop`);
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body, "", "a 304 has no body");
    // Parameters out of their bounds or kinds: 400 naming what is wrong; nothing happens.
    const c = made[0]!;
    const refusals: [string, string, RegExp][] = [
      ["POST", `/containers/${c}/wait?condition=whenever`, /invalid condition/],
      ["POST", `/containers/${c}/kill?signal=SIGNOPE`, /Invalid signal: SIGNOPE/],
      ["POST", `/containers/${c}/stop?t=abc`, /t/],
      ["POST", `/containers/${c}/resize?h=70000&w=10`, /h/],
      ["GET", `/containers/${c}/logs`, /you must choose at least one stream/],
      ["GET", `/containers/${c}/logs?stdout=1&since=yesterday`, /since/],
      ["GET", `/containers/json?filters=${encodeURIComponent('{"volume":["x"]}')}`, /invalid filter 'volume'/],
      ["GET", `/containers/json?filters=${encodeURIComponent('{"status":')}`, /invalid filters/],
      ["POST", `/containers/${c}/rename?name=a/b`, /Invalid container name/],
      ["POST", `/containers/${c}/rename`, /Neither old nor new names may be empty/],
      ["GET", `/containers/${c}/top?ps_args=${encodeURIComponent("-ef; id")}`, /.+/],
    ];
    for (const [method, path, message] of refusals) {
      const r = await d.http(method, path);
      assert.ok(r.status === 400 || r.status === 409, `${method} ${path}: ${r.status} ${r.body}`);
      assert.match(JSON.parse(r.body).message, message, path);
    }
    assert.equal((await d.http("POST", "/containers/nope/attach?stream=1&stdout=1")).status, 404);
    assert.equal((await d.http("POST", `/containers/${c}/resize?h=10&w=10`)).status, 409, "not running");
    for (const id of made) assert.equal((await d.http("DELETE", `/containers/${id}`)).status, 204);
    assertNothingLeft(d, ids);
  });

  test("the event stream breaks when berth-containerd is killed: once it is back, exits are still seen", async () => {
    const quick = (await ok(["run", "-d", "busybox", "sh", "-c", "sleep 2; exit 6"])).trim();
    const slow = (await ok(["run", "-d", "busybox", "sh", "-c", "sleep 8; exit 8"])).trim();
    ids.push(quick, slow);
    const old = d.containerdPid();
    assert.ok(old);
    process.kill(old, "SIGKILL");
    // quick exits while no berth-containerd runs (found at the reconnect), slow after it is back.
    assert.equal(await ok(["wait", quick]), "6\n");
    assert.equal(await ok(["wait", slow]), "8\n");
    assert.notEqual(d.containerdPid(), old, "berthd started berth-containerd again");
    assert.match(await ok(["ps", "-a", "--format", "{{.Status}}"]), /^Exited \(8\) .*\nExited \(6\) /);
    await ok(["rm", quick, slow]);
    assertNothingLeft(d, ids);
  });

  test("state survives a berthd restart: a running container runs on, one that exited meanwhile shows its code", async () => {
    const counter = "i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done";
    const runner = (await ok(["run", "-d", "--name", "runner", "busybox", "sh", "-c", counter])).trim();
    const quitter = (await ok(["run", "-d", "--name", "quitter", "busybox", "sh", "-c", "sleep 2; exit 7"])).trim();
    ids.push(runner, quitter);
    const pid = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", "runner"])).Pid;
    const logged = async () => (await ok(["logs", "runner"])).trim().split("\n").filter(Boolean).map(Number);
    const before = (await logged()).length;
    assert.equal(await d.stop(), 0);
    // A damaged data root meanwhile: a record claiming runner's name under another id, and one
    // that is no record. Both are skipped at start-up; berthd starts.
    const containersDir = join(d.dataRoot, "containers");
    const twin = "f".repeat(64);
    const junk = "e".repeat(64);
    const record = JSON.parse(readFileSync(join(containersDir, runner, "config.v2.json"), "utf8"));
    mkdirSync(join(containersDir, twin));
    writeFileSync(join(containersDir, twin, "config.v2.json"), JSON.stringify({ ...record, ID: twin }));
    mkdirSync(join(containersDir, junk));
    writeFileSync(join(containersDir, junk, "config.v2.json"), "{");
    await sleep(3_000);
    await d.start();
    assert.match(await d.log(), /container record skipped.*eeeeeeee/);
    rmSync(join(containersDir, twin), { recursive: true });
    rmSync(join(containersDir, junk), { recursive: true });
    const listed = (await ok(["ps", "-a", "--format", "{{.ID}}"])).split("\n").filter(Boolean).sort();
    assert.deepEqual(listed, [runner.slice(0, 12), quitter.slice(0, 12)].sort(), "the twin is not served");
    const r = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", "runner"]));
    assert.equal(r.Status, "running");
    assert.equal(r.Pid, pid);
    const q = JSON.parse(await ok(["inspect", "--format", "{{json .State}}", "quitter"]));
    assert.equal(q.Status, "exited");
    assert.equal(q.ExitCode, 7);
    // Its output went into the log while berthd was away (3 s: ~60 lines, fewer on a loaded
    // machine), and goes on after the restart, with no line lost.
    const atRestart = (await logged()).length;
    assert.ok(atRestart > before, `written while berthd was away: ${before} lines before, ${atRestart} after`);
    let lines = await logged();
    for (let i = 0; i < 100 && lines.length <= atRestart; i++) {
      await sleep(200);
      lines = await logged();
    }
    assert.ok(lines.length > atRestart, `the counter runs on: ${atRestart} lines, then ${lines.length}`);
    assert.deepEqual(
      lines,
      lines.map((_, i) => i),
      "no gap, nothing twice",
    );
    // The exit of the running one is still seen.
    await ok(["kill", "runner"]);
    assert.equal(await ok(["wait", "runner"]), "137\n");
    await ok(["rm", "runner", "quitter"]);
    assertNothingLeft(d, ids);
  });
});
