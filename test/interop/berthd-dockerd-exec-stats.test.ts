// docker exec and docker stats on berthd beside Debian's dockerd 20.10 on the same machine, both
// driven by the same docker CLI (28, else 20.10) with the busybox fixture image: exec's output,
// exit codes and refusals, its environment, user and capabilities, the keys and values of its
// inspect; stats' --no-stream line of a container with -m 64m and of one that is not running,
// and the shape of the API's document. What users see must agree (ids made comparable).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { httpOn } from "../helpers/berthd.ts";
import { type EnginePair, normalize, pairSkip, shape, startEnginePair } from "../helpers/engine-pair.ts";

describe("docker exec and docker stats: berthd beside dockerd 20.10", { skip: pairSkip() }, () => {
  let pair: EnginePair;
  let refSock: string;
  let oursSock: string;
  const both = (args: string[]) => pair.both(args);
  const same = (args: string[]) => pair.same(args);
  const api = async (socket: string, method: string, path: string, body?: unknown) => {
    const r = await httpOn(socket, method, path, body === undefined ? undefined : JSON.stringify(body), {
      "Content-Type": "application/json",
    });
    return { status: r.status, json: r.body.trim() === "" ? undefined : JSON.parse(r.body.split("\n")[0]!) };
  };

  before(async () => {
    pair = await startEnginePair();
    refSock = pair.ref.socket;
    oursSock = pair.ours.socket;
    for (const e of pair.engines) {
      const r = await e.docker([
        "run",
        "-d",
        "--name",
        "target",
        "-m",
        "64m",
        "-e",
        "FROM_RUN=1",
        "busybox",
        "sleep",
        "600",
      ]);
      assert.equal(r.status, 0, r.stderr);
      const c = await e.docker(["create", "--name", "idle", "busybox", "true"]);
      assert.equal(c.status, 0, c.stderr);
    }
  });
  after(async () => {
    await pair?.cleanup();
  });

  test("exec: output, stderr, exit codes, -u, -w, -e, the environment", async () => {
    await same(["exec", "target", "echo", "hi"]);
    await same(["exec", "target", "sh", "-c", "echo out; echo err >&2; exit 5"]);
    await same(["exec", "-u", "nobody", "target", "id"]);
    await same(["exec", "-u", "1234:5678", "target", "id"]);
    await same(["exec", "-u", "user", "target", "id"]);
    await same(["exec", "-w", "/tmp", "target", "pwd"]);
    await same(["exec", "-e", "FOO=bar", "target", "sh", "-c", "env | grep -v ^HOSTNAME= | sort"]);
  });

  test("exec: capabilities as root, as another user", async () => {
    await same(["exec", "target", "grep", "^Cap", "/proc/self/status"]);
    await same(["exec", "-u", "1000", "target", "grep", "^Cap", "/proc/self/status"]);
  });

  test("exec --privileged: as dockerd does it on this host", async (t) => {
    const r = await both(["exec", "--privileged", "target", "grep", "^CapEff", "/proc/self/status"]);
    t.diagnostic(`dockerd: ${r.ref.status} ${r.ref.stdout.trim()}; berthd: ${r.ours.status} ${r.ours.stdout.trim()}`);
    assert.equal(r.ours.status, r.ref.status, JSON.stringify(r));
    if (r.ref.status === 0) assert.equal(r.ours.stdout, r.ref.stdout);
  });

  test("exec: a command that is not there, a stopped container, an unknown one", async () => {
    const missing = await both(["exec", "target", "no-such-command"]);
    assert.equal(missing.ours.status, missing.ref.status, JSON.stringify(missing));
    await same(["exec", "idle", "echo", "hi"]);
    await same(["exec", "nope", "echo", "hi"]);
  });

  test("exec inspect: the same keys and values (ids and pids aside)", async () => {
    const body = { Cmd: ["sh", "-c", "exit 3"], AttachStdout: true, User: "nobody", DetachKeys: "ctrl-x,y" };
    const inspect = async (socket: string) => {
      const made = await api(socket, "POST", "/containers/target/exec", body);
      assert.equal(made.status, 201);
      const fresh = (await api(socket, "GET", `/exec/${made.json.Id}/json`)).json;
      const started = await api(socket, "POST", `/exec/${made.json.Id}/start`, { Detach: true });
      assert.equal(started.status, 200);
      let done = fresh;
      for (let i = 0; i < 100 && (done.Running || done.ExitCode === null); i++) {
        await new Promise((r) => setTimeout(r, 50));
        done = (await api(socket, "GET", `/exec/${made.json.Id}/json`)).json;
      }
      const again = await api(socket, "POST", `/exec/${made.json.Id}/start`, { Detach: true });
      const plain = (j: Record<string, unknown>) => ({
        ...j,
        ID: "<id>",
        ContainerID: "<id>",
        Pid: j.Pid === 0 ? 0 : "<pid>",
      });
      return {
        fresh: plain(fresh),
        done: plain(done),
        again: { status: again.status, message: normalize(String(again.json?.message)) },
      };
    };
    const [r, o] = await Promise.all([inspect(refSock), inspect(oursSock)]);
    assert.deepEqual(o, r);
    assert.deepEqual(await api(oursSock, "GET", "/exec/x/json"), await api(refSock, "GET", "/exec/x/json"));
  });

  test("stats --no-stream: the limit, the pids; zeros for a container that is not running", async () => {
    await same(["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.NetIO}} {{.BlockIO}}", "target"]);
    const mem = await both(["stats", "--no-stream", "--format", "{{.MemUsage}}", "target"]);
    assert.match(mem.ref.stdout, / \/ 64MiB\n$/);
    assert.match(mem.ours.stdout, / \/ 64MiB\n$/);
    await same(["stats", "--no-stream", "idle"]);
  });

  test("stats: the document's shape, and dockerd's zero document for a container that is not running", async () => {
    const [r, o] = await Promise.all([
      api(refSock, "GET", "/containers/target/stats?stream=false"),
      api(oursSock, "GET", "/containers/target/stats?stream=false"),
    ]);
    // The keys berthd fills are dockerd's, level by level (memory.stat's own keys aside).
    const s = (j: Record<string, unknown>) => {
      const out = shape(j) as Record<string, Record<string, unknown>>;
      delete out.memory_stats?.stats;
      return out;
    };
    assert.deepEqual(s(o.json), s(r.json));
    const [ri, oi] = await Promise.all([
      api(refSock, "GET", "/containers/idle/stats?stream=false"),
      api(oursSock, "GET", "/containers/idle/stats?stream=false"),
    ]);
    assert.deepEqual({ ...oi.json, id: "<id>" }, { ...ri.json, id: "<id>" });
  });
});
