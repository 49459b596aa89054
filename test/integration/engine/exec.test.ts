// docker exec against berthd (dist/berthd.mjs with its own berth-containerd in private dirs, the
// busybox fixture as busybox:latest), with whichever docker CLI the machine has (28, else 20.10):
// output and exit codes, -i with stdin piped, -it through a pseudo-terminal (its size reaching the
// exec), -d, -u, -w, -e, --privileged, a command that is not there, exec in a stopped container;
// the API's shapes (inspect before and after), hostile requests (bad JSON, wrong types, too many
// arguments, unknown ids, path tricks), records gone with their container. Afterwards nothing is
// left: no exec fifos, no processes, no containers.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { decodeFrames } from "../../../src/engine/api/stdcopy.ts";
import { outputOf } from "../../helpers/berth-containerd.ts";
import { type Berthd, berthdWithBusybox, DOCKER_CLI } from "../../helpers/berthd.ts";
import { berthdCtr, dockerOk } from "../../helpers/berthd-cli.ts";
import { assertNothingLeft as nothingLeft, processesIn } from "../../helpers/engine-scenario.ts";

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const JSON_HEADERS = { "Content-Type": "application/json" };
/** docker's 14 default capabilities as /proc/self/status shows them. */
const DEFAULT_CAP_EFF = "00000000a80425fb";

describe("docker exec against berthd", { skip: isRoot ? false : "berthd runs as root" }, () => {
  let d: Berthd;
  let c: string;
  const ids: string[] = [];
  const ctr = (args: string[]) => berthdCtr(d, args);
  const ok = (args: string[]) => dockerOk(d, args);
  /** The docker CLI with `input` on its stdin. */
  const withInput = (args: string[], input: string) => {
    const child = spawn(DOCKER_CLI, ["-H", `unix://${d.socket}`, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config"), DOCKER_API_VERSION: "" },
      timeout: 60_000,
    });
    const result = outputOf(child);
    child.stdin!.end(input);
    return result;
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await d.http(method, path, body === undefined ? undefined : JSON.stringify(body), JSON_HEADERS);
    return { status: r.status, json: r.body === "" ? undefined : (JSON.parse(r.body) as Record<string, unknown>) };
  };
  const execFifos = () => readdirSync(join(d.execRoot, "execs"));

  before(async () => {
    d = await berthdWithBusybox();
    c = (await ok(["run", "-d", "--name", "target", "-e", "FROM_RUN=1", "busybox", "sleep", "600"])).trim();
    ids.push(c);
  });
  after(async () => {
    await d?.cleanup();
  });

  test("output, stderr apart, exit codes, a command that is not there", async () => {
    assert.equal(await ok(["exec", "target", "echo", "hi"]), "hi\n");
    const r = await d.docker(["exec", "target", "sh", "-c", "echo out; echo err >&2; exit 5"]);
    assert.equal(r.status, 5);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\n");
    const missing = await d.docker(["exec", "target", "no-such-command"]);
    assert.equal(missing.status, 126, missing.stdout + missing.stderr);
    assert.match(missing.stdout + missing.stderr, /no-such-command/);
    // Far more than a pipe holds, every line in order.
    const seq = await ok(["exec", "target", "seq", "1", "100000"]);
    const lines = seq.split("\n");
    assert.equal(lines.length, 100_001);
    assert.equal(lines[99_999], "100000");
    assert.deepEqual(execFifos(), [], "no exec fifos left");
  });

  test("-i with stdin piped: the process reads it and its end", async () => {
    const r = await withInput(["exec", "-i", "target", "sh", "-c", "cat; echo done >&2"], "line one\nline two\n");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "line one\nline two\n");
    assert.equal(r.stderr, "done\n");
  });

  test("-u, -w, -e: the process as asked, the container's environment under it", async () => {
    assert.equal(
      await ok(["exec", "-u", "nobody", "target", "id"]),
      "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n",
    );
    assert.equal(await ok(["exec", "-u", "1234:5678", "target", "sh", "-c", "id -u; id -g"]), "1234\n5678\n");
    assert.equal(await ok(["exec", "-u", "user", "target", "id", "-G"]), "1000 10 100\n");
    const unknown = await d.docker(["exec", "-u", "nosuchuser", "target", "id"]);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stdout + unknown.stderr, /unable to find user nosuchuser/);
    assert.equal(await ok(["exec", "-w", "/tmp", "target", "pwd"]), "/tmp\n");
    const env = await ok(["exec", "-e", "FOO=bar", "target", "env"]);
    assert.match(env, /^FOO=bar$/m);
    assert.match(env, /^FROM_RUN=1$/m, "the container's Env");
    assert.match(env, new RegExp(`^HOSTNAME=${c.slice(0, 12)}$`, "m"));
    assert.match(env, /^PATH=/m);
    assert.doesNotMatch(env, /^TERM=/m, "TERM only with a TTY");
    const caps = (args: string[]) => ok(["exec", ...args, "target", "grep", "CapEff", "/proc/self/status"]);
    assert.match(await caps([]), new RegExp(DEFAULT_CAP_EFF));
    assert.match(await caps(["-u", "1000"]), /CapEff:\s+0+\n/, "not root: no effective capabilities");
  });

  test("--privileged: every capability the daemon holds", {
    todo: "capset fails with EPERM here under berth-runc, runc and Debian's dockerd alike (interop/berthd-dockerd-exec-stats); a host property",
  }, async () => {
    const r = await ok(["exec", "--privileged", "target", "grep", "CapEff", "/proc/self/status"]);
    assert.doesNotMatch(r, new RegExp(DEFAULT_CAP_EFF));
  });

  test("-d: detached, the process runs on; inspect before and after", async () => {
    assert.equal(await ok(["exec", "-d", "target", "sh", "-c", "sleep 0.3; echo ran > /tmp/detached"]), "");
    let out = "";
    for (let i = 0; i < 50 && out === ""; i++) {
      out = (await d.docker(["exec", "target", "cat", "/tmp/detached"])).stdout;
      if (out === "") await sleep(100);
    }
    assert.equal(out, "ran\n");

    const made = await api("POST", "/containers/target/exec", {
      Cmd: ["sh", "-c", "exit 3"],
      AttachStdout: true,
      DetachKeys: "ctrl-p,ctrl-q",
    });
    assert.equal(made.status, 201);
    const id = made.json!.Id as string;
    assert.match(id, /^[0-9a-f]{64}$/);
    const fresh = await api("GET", `/exec/${id}/json`);
    assert.equal(fresh.status, 200);
    assert.deepEqual(fresh.json, {
      ID: id,
      Running: false,
      ExitCode: null,
      ProcessConfig: { tty: false, entrypoint: "sh", arguments: ["-c", "exit 3"], privileged: false },
      OpenStdin: false,
      OpenStderr: false,
      OpenStdout: true,
      CanRemove: false,
      ContainerID: c,
      DetachKeys: "EBE=",
      Pid: 0,
    });
    assert.equal((await api("POST", `/exec/${id}/start`, { Detach: true })).status, 200);
    let ended: Record<string, unknown> | undefined;
    for (let i = 0; i < 100; i++) {
      ended = (await api("GET", `/exec/${id}/json`)).json;
      if (ended?.Running === false && ended.ExitCode !== null) break;
      await sleep(50);
    }
    assert.equal(ended?.ExitCode, 3);
    assert.ok((ended?.Pid as number) > 0);
    const again = await api("POST", `/exec/${id}/start`, { Detach: true });
    assert.equal(again.status, 409);
    assert.equal(again.json!.message, `Error: Exec command ${id} has already run`);
  });

  test("attached over raw HTTP: stdcopy frames without a TTY, the code set before the stream ends", async () => {
    const made = await api("POST", "/containers/target/exec", {
      Cmd: ["sh", "-c", "echo a; echo b >&2; exit 7"],
      AttachStdout: true,
      AttachStderr: true,
    });
    const id = made.json!.Id as string;
    const r = await d.http("POST", `/exec/${id}/start`, JSON.stringify({ Detach: false, Tty: false }), JSON_HEADERS);
    assert.equal(r.status, 200);
    const frames = decodeFrames(Buffer.from(r.body, "latin1"));
    const text = (s: number) =>
      frames
        .filter((f) => f.stream === s)
        .map((f) => f.payload.toString())
        .join("");
    assert.equal(text(1), "a\n");
    assert.equal(text(2), "b\n");
    const after = await api("GET", `/exec/${id}/json`);
    assert.equal(after.json!.ExitCode, 7, "the exit code is there once the stream has ended");
    assert.equal(after.json!.Running, false);
  });

  test("-it through a pseudo-terminal: a tty, its size, TERM, the exit code", async () => {
    const cmd = `stty cols 81 rows 27; ${DOCKER_CLI} -H unix://${d.socket} exec -it target sh`;
    const child = spawn("script", ["-qefc", cmd, "/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config") },
    });
    const result = outputOf(child);
    let seen = "";
    child.stdout!.on("data", (b: Buffer) => {
      seen += b.toString();
    });
    const waitFor = async (re: RegExp) => {
      for (let i = 0; i < 200 && !re.test(seen); i++) await sleep(50);
      assert.match(seen, re);
    };
    await waitFor(/# /);
    for (let i = 0; i < 20 && !/\r\n27 81\r\n/.test(seen); i++) {
      child.stdin!.write("stty size\r");
      await sleep(250);
    }
    assert.match(seen, /\r\n27 81\r\n/, "the terminal's size reached the exec");
    child.stdin!.write("tty; echo $TERM; echo $((6*7))\r");
    await waitFor(/42\r\n/);
    assert.match(seen, /\/dev\/pts\/\d+\r\nxterm\r\n42\r\n/);
    child.stdin!.write("exit 4\r");
    const r = await result;
    assert.equal(r.status, 4, r.stdout + r.stderr);
  });

  test("refusals: a stopped or paused container, unknown ids, hostile bodies and paths", async () => {
    const stopped = (await ok(["create", "busybox", "true"])).trim();
    ids.push(stopped);
    const r = await d.docker(["exec", stopped, "echo", "hi"]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`Container ${stopped} is not running`));
    const made = await api("POST", `/containers/${stopped}/exec`, { Cmd: ["true"] });
    assert.equal(made.status, 409);
    assert.deepEqual(made.json, { message: `Container ${stopped} is not running` });
    await ok(["pause", "target"]);
    const paused = await api("POST", "/containers/target/exec", { Cmd: ["true"] });
    await ok(["unpause", "target"]);
    assert.equal(paused.status, 409);
    // Named as the request named it (dockerd's getActiveContainer), not by id.
    assert.equal(paused.json!.message, "Container target is paused, unpause the container before exec");

    assert.deepEqual(await api("GET", "/exec/x/json"), { status: 404, json: { message: "No such exec instance: x" } });
    assert.equal((await api("POST", "/exec/x/start", {})).status, 404);
    assert.equal((await api("POST", "/exec/x/resize?h=1&w=1")).status, 404);
    assert.deepEqual(await api("POST", "/containers/nope/exec", { Cmd: ["true"] }), {
      status: 404,
      json: { message: "No such container: nope" },
    });
    for (const [body, message] of [
      [{}, "No exec command specified"],
      [{ Cmd: [] }, "No exec command specified"],
      [{ Cmd: "true", Tty: "yes" }, "json: cannot unmarshal string into Go struct field ExecConfig.Tty of type bool"],
      [{ Cmd: [1] }, "json: cannot unmarshal number into Go struct field ExecConfig.Cmd of type string"],
      [
        { Cmd: ["true"], Env: "A=1" },
        "json: cannot unmarshal string into Go struct field ExecConfig.Env of type []string",
      ],
      [{ Cmd: ["true"], ConsoleSize: [1, 2, 3] }, "ExecConfig.ConsoleSize: more than 2 entries"],
      [{ Cmd: ["true"], DetachKeys: "ctrl-" }, "Invalid detach keys (ctrl-) provided"],
      [{ Cmd: ["true"], WorkingDir: "tmp" }, "the working directory 'tmp' is invalid, it needs to be an absolute path"],
      [{ Cmd: ["a\u0000b"] }, "ExecConfig.Cmd: must not contain a NUL byte"],
      [{ Cmd: Array(30_001).fill("x") }, "ExecConfig.Cmd: more than 30000 entries"],
    ] as const) {
      const got = await api("POST", "/containers/target/exec", body);
      assert.deepEqual(got, { status: 400, json: { message } }, JSON.stringify(body).slice(0, 80));
    }
    const bad = await d.http("POST", "/containers/target/exec", "{not json", JSON_HEADERS);
    assert.equal(bad.status, 400);
    const huge = await d.http(
      "POST",
      "/containers/target/exec",
      JSON.stringify({ Cmd: ["x".repeat(2 << 20)] }),
      JSON_HEADERS,
    );
    assert.equal(huge.status, 413);
    const id = (await api("POST", "/containers/target/exec", { Cmd: ["true"] })).json!.Id as string;
    assert.equal((await api("POST", `/exec/${id}/start`, { Detach: "yes" })).status, 400);
    assert.equal((await api("POST", `/exec/${id}/resize?h=70000&w=1`)).status, 400);
    for (const path of ["/exec/..%2f..%2fcontainers/json", "/exec/%2e%2e/json", `/exec/${id}%2fjson`]) {
      assert.equal((await d.http("GET", path)).status, 404, path);
    }
  });

  /** The exec's inspect once `done` says so (polled for up to 10 s). */
  const inspectUntil = async (id: string, done: (j: Record<string, unknown>) => boolean) => {
    let j: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      j = (await api("GET", `/exec/${id}/json`)).json ?? {};
      if (done(j)) break;
      await sleep(50);
    }
    return j;
  };

  test("a client that goes away mid-exec: the exec runs on, its exit is recorded, its fifos go", async () => {
    const made = await api("POST", "/containers/target/exec", {
      Cmd: ["sh", "-c", "sleep 1; echo x; echo ran > /tmp/after-client"],
      AttachStdout: true,
      AttachStdin: true,
    });
    const id = made.json!.Id as string;
    const body = JSON.stringify({ Detach: false, Tty: false });
    await new Promise<void>((resolve, reject) => {
      const sock = connect(d.socket);
      sock.on("error", reject);
      sock.once("data", () => {
        sock.destroy();
        resolve();
      });
      sock.write(
        `POST /exec/${id}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    const j = await inspectUntil(id, (x) => x.ExitCode !== null && x.Running === false);
    assert.equal(j.ExitCode, 0);
    assert.equal(await ok(["exec", "target", "cat", "/tmp/after-client"]), "ran\n");
    for (let i = 0; i < 50 && execFifos().length > 0; i++) await sleep(100);
    assert.deepEqual(execFifos(), []);
  });

  test("detach keys: the client's stream ends, the exec runs on", async () => {
    const made = await api("POST", "/containers/target/exec", {
      Cmd: ["cat"],
      AttachStdin: true,
      AttachStdout: true,
      DetachKeys: "ctrl-a,x",
    });
    const id = made.json!.Id as string;
    const body = JSON.stringify({ Detach: false, Tty: false });
    const seen = await new Promise<string>((resolve, reject) => {
      const sock = connect(d.socket);
      let got = Buffer.alloc(0);
      sock.on("error", reject);
      sock.on("data", (b: Buffer) => {
        got = Buffer.concat([got, b]);
        const text = got.toString("latin1");
        const at = text.indexOf("\r\n\r\n");
        if (at >= 0 && !text.includes("hi\n")) sock.write("hi\n");
        else if (text.includes("hi\n")) sock.write("\x01x");
      });
      sock.on("close", () => resolve(got.toString("latin1")));
      sock.write(
        `POST /exec/${id}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
    assert.match(seen, /^HTTP\/1.1 101 UPGRADED\r\n/);
    assert.match(seen, /hi\n/, "stdin reached cat and came back");
    await sleep(300);
    const j = (await api("GET", `/exec/${id}/json`)).json!;
    assert.equal(j.Running, true, "detached, not ended");
    assert.equal(j.ExitCode, null);
  });

  test("the container exits under a running exec: the exec ends with it, its client's stream too", async () => {
    const other = (await ok(["run", "-d", "busybox", "sleep", "600"])).trim();
    ids.push(other);
    const id = (await api("POST", `/containers/${other}/exec`, { Cmd: ["sleep", "600"], AttachStdout: true })).json!
      .Id as string;
    const attached = d.http("POST", `/exec/${id}/start`, JSON.stringify({}), JSON_HEADERS);
    await inspectUntil(id, (x) => x.Running === true && (x.Pid as number) > 0);
    await ok(["kill", other]);
    const r = await attached;
    assert.equal(r.status, 200, "the stream ended");
    const j = await inspectUntil(id, (x) => x.ExitCode !== null);
    assert.equal(j.Running, false);
    assert.equal(j.ExitCode, 137);
    assert.equal((await api("POST", `/containers/${other}/exec`, { Cmd: ["true"] })).status, 409);
    await ok(["rm", other]);
    assert.equal((await api("GET", `/exec/${id}/json`)).status, 404);
  });

  test("berthd killed and started again: exec works in a container that ran on; earlier execs are gone", async () => {
    const id = (await api("POST", "/containers/target/exec", { Cmd: ["sleep", "600"] })).json!.Id as string;
    assert.equal((await api("POST", `/exec/${id}/start`, { Detach: true })).status, 200);
    await d.kill9();
    await d.start();
    assert.equal(await ok(["exec", "target", "echo", "hi"]), "hi\n");
    const r = await d.docker(["exec", "target", "sh", "-c", "exit 6"]);
    assert.equal(r.status, 6);
    // Exec instances do not outlive berthd (as dockerd's); their fifos are cleared at its start.
    assert.equal((await api("GET", `/exec/${id}/json`)).status, 404);
    assert.deepEqual(execFifos(), []);
  });

  test("an exec's records go with its container; nothing is left", async () => {
    const other = (await ok(["run", "-d", "busybox", "sleep", "600"])).trim();
    ids.push(other);
    const id = (await api("POST", `/containers/${other}/exec`, { Cmd: ["sleep", "600"] })).json!.Id as string;
    assert.equal((await api("POST", `/exec/${id}/start`, { Detach: true })).status, 200);
    assert.equal((await api("GET", `/exec/${id}/json`)).json!.Running, true);
    await ok(["rm", "-f", other]);
    assert.equal((await api("GET", `/exec/${id}/json`)).status, 404);
    await ok(["rm", "-f", "target"]);
    for (const x of ids) await d.docker(["rm", "-f", x]);
    for (let i = 0; i < 50 && execFifos().length > 0; i++) await sleep(100);
    assert.deepEqual(execFifos(), [], "no exec fifos left");
    assert.deepEqual(processesIn(ids), []);
    nothingLeft({ d, namespace: "berth", ctr, ids });
  });
});
