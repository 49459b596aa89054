// berthd's system routes driven by the real docker CLI (dist/berthd.mjs with its own
// berth-containerd in private dirs, the busybox fixture imported as busybox:latest): docker
// events (past with --since/--until and filters, and live while a container runs), its hostile
// input (bad filters, since after until, a client that never reads); docker system df (-v) and
// ps -s; docker login against a loopback docker-registry with htpasswd and token auth (right and
// wrong passwords, a registry that is not there); and info's fields.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type Berthd, DOCKER_CLI, DOCKER_CLI_20 } from "../../helpers/berthd.ts";
import { useBerthd } from "../../helpers/engine-suite.ts";
import { startRegistry } from "../../helpers/local-registry.ts";

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface EventLine {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  status?: string;
  id?: string;
  from?: string;
  scope: string;
  time: number;
  timeNano: number;
}

const parseLines = (text: string): EventLine[] =>
  text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as EventLine);

describe("docker events, system df, login and info against berthd", {
  skip: isRoot ? false : "berthd runs as root",
}, () => {
  let d: Berthd;
  const ok = async (args: string[], input?: string) => {
    const r = input === undefined ? await d.docker(args) : await dockerWithInput(d, args, input);
    assert.equal(r.status, 0, `docker ${args.join(" ").slice(0, 200)}: ${r.stderr.slice(0, 2000)}`);
    return r.stdout;
  };

  useBerthd((b) => (d = b));

  test("docker run --rm and run -d + stop + rm: dockerd's container events, in order, with their attributes", async () => {
    const since = (Date.now() / 1000).toFixed(9);
    await ok(["run", "--rm", "--name", "ev-rm", "busybox", "true"]);
    await ok(["run", "-d", "--name", "ev-d", "--label", "tier=web", "busybox", "sleep", "100"]);
    await ok(["stop", "-t", "1", "ev-d"]);
    await ok(["rm", "ev-d"]);
    const until = (Date.now() / 1000).toFixed(9);
    const got = await d.http("GET", `/v1.41/events?since=${since}&until=${until}`);
    assert.equal(got.status, 200);
    assert.match(String(got.headers["content-type"]), /application\/json/);
    const lines = parseLines(got.body);
    const of = (name: string) => lines.filter((e) => e.Actor.Attributes.name === name);
    assert.deepEqual(
      of("ev-rm").map((e) => e.Action),
      ["create", "attach", "start", "die", "destroy"],
    );
    assert.deepEqual(
      of("ev-d").map((e) => e.Action),
      ["create", "start", "kill", "kill", "die", "stop", "destroy"],
    );
    const [create] = of("ev-d");
    assert.equal(create!.Type, "container");
    assert.equal(create!.scope, "local");
    assert.deepEqual(create!.Actor.Attributes, { image: "busybox", name: "ev-d", tier: "web" });
    assert.equal(create!.status, "create");
    assert.equal(create!.id, create!.Actor.ID);
    assert.equal(create!.from, "busybox");
    assert.match(create!.Actor.ID, /^[0-9a-f]{64}$/);
    assert.equal(Math.floor(create!.timeNano / 1e9), create!.time);
    assert.deepEqual(
      of("ev-d")
        .filter((e) => e.Action === "kill")
        .map((e) => e.Actor.Attributes.signal),
      ["15", "9"],
    );
    assert.equal(of("ev-d").find((e) => e.Action === "die")!.Actor.Attributes.exitCode, "137");
    assert.equal(of("ev-rm").find((e) => e.Action === "die")!.Actor.Attributes.exitCode, "0");
    // probe events of berthd's containerd subscription never show up
    assert.ok(lines.every((e) => !e.Actor.ID.startsWith("probe-") && e.Type !== "task"));
  });

  test("docker events --since --until with filters shows dockerd's lines", async () => {
    await ok(["run", "--rm", "--name", "ev-f", "--label", "k=v", "busybox", "true"]);
    await ok(["tag", "busybox", "ev-tag:1"]);
    await ok(["rmi", "ev-tag:1"]);
    // The CLI sends --until 0s as whole seconds (docker's GetTimestamp): what happened in this
    // second would be left out, by dockerd too. The next second has begun once this is over.
    await sleep(1100 - (Date.now() % 1000));
    const out = await ok(["events", "--since", "5m", "--until", "0s", "--filter", "container=ev-f"]);
    const lines = out.trim().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split(" ").slice(1, 3).join(" ")),
      ["container create", "container attach", "container start", "container die", "container destroy"],
      `${out}\n${(await d.http("GET", `/events?since=1&until=${Date.now() / 1000}`)).body}\n${Date.now() / 1000}`,
    );
    assert.match(
      lines[0]!,
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z container create [0-9a-f]{64} \(image=busybox, k=v, name=ev-f\)$/,
    );
    const images = await ok([
      "events",
      "--since",
      "5m",
      "--until",
      "0s",
      "--filter",
      "type=image",
      "--format",
      "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    const tagLines = images
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("tag ") || l.startsWith("untag "));
    const raw = await d.http(
      "GET",
      `/events?since=1&until=${Date.now() / 1000}&filters=%7B%22type%22%3A%5B%22image%22%5D%7D`,
    );
    assert.deepEqual(
      tagLines.slice(-2).map((l) => l.split(" ")[0]),
      ["tag", "untag"],
      `${images}\n${raw.body}\n${Date.now() / 1000}`,
    );
    assert.equal(tagLines.at(-2), "tag ev-tag:1");
    const byEvent = await ok([
      "events",
      "--since",
      "5m",
      "--until",
      "0s",
      "-f",
      "event=die",
      "-f",
      "label=k=v",
      "--format",
      "{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}",
    ]);
    assert.equal(byEvent.trim(), "ev-f 0");
  });

  test("a streaming docker events sees a container's life as it happens", async () => {
    const child = spawn(
      DOCKER_CLI,
      ["-H", `unix://${d.socket}`, "events", "--filter", "container=ev-live", "--format", "{{.Action}}"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config") },
      },
    );
    let text = "";
    child.stdout!.on("data", (b: Buffer) => {
      text += b.toString();
    });
    try {
      await sleep(500);
      await ok(["run", "-d", "--name", "ev-live", "busybox", "sleep", "100"]);
      await ok(["pause", "ev-live"]);
      await ok(["unpause", "ev-live"]);
      await ok(["kill", "-s", "USR1", "ev-live"]);
      await ok(["rename", "ev-live", "ev-live2"]);
      await ok(["rm", "-f", "ev-live2"]);
      for (let i = 0; i < 50 && !text.includes("destroy"); i++) await sleep(100);
      // container=ev-live is a prefix of the new name ev-live2, so its events still match (as dockerd's).
      assert.deepEqual(text.trim().split("\n"), [
        ...["create", "start", "pause", "unpause", "kill", "rename"],
        ...["kill", "die", "destroy"],
      ]);
    } finally {
      child.kill();
    }
  });

  test("docker exec's events: exec_create, exec_start and exec_die with the exec's id and exit code", async () => {
    await ok(["run", "-d", "--name", "ev-exec", "busybox", "sleep", "100"]);
    try {
      const since = (Date.now() / 1000).toFixed(9);
      const r = await d.docker(["exec", "ev-exec", "sh", "-c", "exit 3"]);
      assert.equal(r.status, 3, r.stderr);
      await sleep(200);
      const got = await d.http("GET", `/events?since=${since}&until=${(Date.now() / 1000).toFixed(9)}`);
      const lines = parseLines(got.body).filter((e) => e.Action.startsWith("exec_"));
      assert.deepEqual(
        lines.map((e) => e.Action),
        ["exec_create: sh -c exit 3", "exec_start: sh -c exit 3", "exec_die"],
      );
      const execId = lines[0]!.Actor.Attributes.execID;
      assert.match(execId ?? "", /^[0-9a-f]{64}$/);
      assert.ok(lines.every((e) => e.Actor.Attributes.execID === execId && e.Actor.Attributes.name === "ev-exec"));
      assert.equal(lines[2]!.Actor.Attributes.exitCode, "3");
      const filtered = await d.http(
        "GET",
        `/events?since=${since}&until=${(Date.now() / 1000).toFixed(9)}&filters=${encodeURIComponent('{"event":["exec_start"]}')}`,
      );
      assert.deepEqual(
        parseLines(filtered.body).map((e) => e.Action),
        ["exec_start: sh -c exit 3"],
      );
    } finally {
      await d.docker(["rm", "-f", "ev-exec"]);
    }
  });

  test("docker cp both ways, top and export: archive-path, extract-to-dir, top and export events", async () => {
    await ok(["run", "-d", "--name", "ev-cp", "busybox", "sleep", "100"]);
    try {
      const since = (Date.now() / 1000).toFixed(9);
      const host = join(d.dir, "ev-cp-hostname");
      await ok(["cp", "ev-cp:/etc/hostname", host]);
      await ok(["cp", host, "ev-cp:/tmp/"]);
      await ok(["top", "ev-cp"]);
      await ok(["export", "-o", join(d.dir, "ev-cp.tar"), "ev-cp"]);
      await sleep(200);
      const got = await d.http("GET", `/events?since=${since}&until=${(Date.now() / 1000).toFixed(9)}`);
      // docker cp asks HEAD (stat) first: only GET and PUT are events, as dockerd's.
      assert.deepEqual(
        parseLines(got.body).map((e) => `${e.Action} ${e.Actor.Attributes.name}`),
        ["archive-path ev-cp", "extract-to-dir ev-cp", "top ev-cp", "export ev-cp"],
      );
    } finally {
      await d.docker(["rm", "-f", "ev-cp"]);
    }
  });

  test("an attached client that leaves with the detach keys: a detach event, the container runs on", async () => {
    const id = (await ok(["run", "-d", "-i", "--name", "ev-detach", "busybox", "sh"])).trim();
    try {
      const since = (Date.now() / 1000).toFixed(9);
      const sock = connect(d.socket);
      let got = "";
      let closed = false;
      sock.on("data", (b: Buffer) => {
        got += b.toString("latin1");
      });
      sock.on("close", () => {
        closed = true;
      });
      sock.on("error", () => {});
      sock.write(
        `POST /containers/${id}/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
      );
      for (let i = 0; i < 100 && !got.startsWith("HTTP/1.1 101"); i++) await sleep(50);
      sock.write("\x01x");
      for (let i = 0; i < 100 && !closed; i++) await sleep(50);
      assert.ok(closed, "the attach did not end");
      const events = await d.http("GET", `/events?since=${since}&until=${(Date.now() / 1000).toFixed(9)}`);
      assert.deepEqual(
        parseLines(events.body).map((e) => e.Action),
        ["attach", "detach"],
      );
    } finally {
      await d.docker(["rm", "-f", "ev-detach"]);
    }
  });

  test("a container killed by the OOM killer: oom before die, as dockerd", async () => {
    const since = (Date.now() / 1000).toFixed(9);
    const r = await d.docker(
      ["run", "--name", "ev-oom", "-m", "8m", "--memory-swap", "8m", "busybox"].concat([
        "sh",
        "-c",
        "x=a; while true; do x=$x$x; done",
      ]),
    );
    try {
      assert.equal(r.status, 137, r.stderr);
      await sleep(300);
      const got = await d.http("GET", `/events?since=${since}&until=${(Date.now() / 1000).toFixed(9)}`);
      assert.deepEqual(
        parseLines(got.body).map((e) => e.Action),
        ["create", "attach", "start", "oom", "die"],
      );
    } finally {
      await d.docker(["rm", "-f", "ev-oom"]);
    }
  });

  test("since alone replays then follows; an until ahead ends the stream when it comes", async () => {
    const since = (Date.now() / 1000).toFixed(9);
    await ok(["tag", "busybox", "ev-follow:1"]);
    const until = (Date.now() / 1000 + 3).toFixed(9);
    const started = Date.now();
    const stream = new Promise<string>((resolve, reject) => {
      const req = request({ socketPath: d.socket, path: `/events?since=${since}&until=${until}` }, (res) => {
        let text = "";
        res.on("data", (b: Buffer) => {
          text += b.toString();
        });
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end();
    });
    await sleep(500);
    await ok(["rmi", "ev-follow:1"]);
    const text = await stream;
    const actions = parseLines(text).map((e) => e.Action);
    assert.deepEqual(actions, ["tag", "untag"]);
    const took = Date.now() - started;
    assert.ok(took >= 2_500 && took < 10_000, `the stream ended after ${took} ms`);
  });

  test("container and image prune: a prune event each, with what was reclaimed", async () => {
    await ok(["create", "--name", "ev-prune", "--label", "ev-prune=1", "busybox", "true"]);
    const since = (Date.now() / 1000).toFixed(9);
    await ok(["container", "prune", "-f", "--filter", "label=ev-prune=1"]);
    await ok(["image", "prune", "-f"]);
    await sleep(200);
    const got = await d.http("GET", `/events?since=${since}&until=${(Date.now() / 1000).toFixed(9)}`);
    const lines = parseLines(got.body);
    assert.deepEqual(
      lines.map((e) => `${e.Type} ${e.Action} ${e.Actor.Attributes.name ?? ""}`),
      ["container destroy ev-prune", "container prune ", "image prune "],
    );
    for (const e of lines.slice(1)) {
      assert.equal(e.Actor.ID, "");
      assert.match(e.Actor.Attributes.reclaimed ?? "", /^\d+$/);
    }
  });

  test("hostile events requests: bad filters, since after until, bad times are 400s", async () => {
    const cases: [string, RegExp][] = [
      ["/events?until=1&filters=%7Bbad", /invalid filters/],
      ["/events?until=1&filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D", /invalid filter 'bogus'/],
      [
        `/events?until=1&filters=${encodeURIComponent(JSON.stringify({ label: Array.from({ length: 400 }, (_, i) => `l${i}`) }))}`,
        /more than 256 values/,
      ],
      ["/events?since=5&until=1", /`since` time \(5\) cannot be after `until` time \(1\)/],
      ["/events?since=abc&until=1", /invalid value for since/],
      ["/events?since=1&until=1e99", /invalid value for until/],
    ];
    for (const [path, message] of cases) {
      const r = await d.http("GET", path);
      assert.equal(r.status, 400, `${path}: ${r.body}`);
      assert.match(JSON.parse(r.body).message, message, path);
    }
  });

  test("an events client that never reads is cut off; berthd and other clients go on", async () => {
    // A raw connection that asks for live events and then reads nothing.
    const sock = connect(d.socket);
    await new Promise<void>((r) => sock.once("connect", () => r()));
    sock.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    sock.pause();
    let closed = false;
    sock.once("close", () => {
      closed = true;
    });
    sock.on("error", () => {});
    await sleep(300);
    // Big labels make each event large: the stuck client's backlog passes the bound quickly.
    // (containerd bounds a label at 4 KiB: 60 of them make an event of some 240 KB.)
    const labels = Array.from({ length: 60 }, (_, i) => ["--label", `big${i}=${"x".repeat(4000)}`]).flat();
    const id = (await ok(["create", ...labels, "busybox", "true"])).trim();
    for (let i = 0; i < 80 && !closed; i++) {
      await ok(["rename", id, `ev-big-${i}`]);
    }
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await readProc(d.pid!))?.[1]) * 1024;
    await ok(["rm", id]);
    sock.resume();
    for (let i = 0; i < 50 && !closed; i++) await sleep(100);
    assert.ok(closed, "the stuck client was not cut off");
    assert.ok(rss < 400 * 2 ** 20, `berthd's RSS ${rss}`);
    assert.equal((await d.http("GET", "/_ping")).status, 200);
  });

  test("docker system df and df -v: images with their containers and sizes, containers with their writable layers", async () => {
    await ok(["run", "-d", "--name", "df-run", "busybox", "sh", "-c", "echo hi > /f; sleep 100"]);
    await ok(["create", "--name", "df-created", "busybox", "true"]);
    try {
      // The running container's write (3 bytes) lands at once; a second is plenty.
      await sleep(1000);
      const raw = await d.http("GET", "/system/df");
      assert.equal(raw.status, 200, raw.body);
      const df = JSON.parse(raw.body);
      assert.equal(df.Images.length, 1);
      const [image] = df.Images;
      assert.deepEqual(image.RepoTags, ["busybox:latest"]);
      assert.equal(image.Containers, 2);
      assert.equal(image.SharedSize, 0);
      assert.ok(image.Size > 1_000_000, `image size ${image.Size}`);
      assert.equal(df.LayersSize, image.Size);
      const byName = (n: string) => df.Containers.find((c: { Names: string[] }) => c.Names[0] === `/${n}`);
      // The snapshotter's usage of the writable layer: blocks, as containerd counts them (dockerd's
      // overlay2 graph driver summed file sizes: 3 bytes here).
      const rw = byName("df-run").SizeRw;
      assert.ok(rw >= 3 && rw <= 64 * 1024, `SizeRw ${rw}`);
      assert.equal(byName("df-run").SizeRootFs, image.Size + rw);
      // A created container's upper directory is empty: its own block at most.
      const createdRw = byName("df-created").SizeRw ?? 0;
      assert.ok(createdRw <= 4096, `SizeRw ${createdRw}`);
      assert.equal(byName("df-created").SizeRootFs, image.Size + createdRw);
      assert.deepEqual(df.Volumes, []);
      assert.deepEqual(df.BuildCache, []);

      const summary = await ok(["system", "df"]);
      assert.match(summary, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE$/m);
      assert.match(summary, /^Images\s+1\s+1\s+/m);
      assert.match(summary, /^Containers\s+2\s+1\s+\d[\d.]*k?B\s+\d[\d.]*k?B \(\d+%\)$/m);
      assert.match(summary, /^Local Volumes\s+0\s+0\s+0B\s+0B$/m);
      assert.match(summary, /^Build Cache\s+0\s+0\s+0B\s+0B$/m);
      const clients = [
        DOCKER_CLI,
        ...(existsSync(DOCKER_CLI_20) && DOCKER_CLI_20 !== DOCKER_CLI ? [DOCKER_CLI_20] : []),
      ];
      for (const cli of clients) {
        const r = await d.docker(["system", "df", "-v"], cli);
        assert.equal(r.status, 0, `${cli}: ${r.stderr}`);
        assert.match(r.stdout, /^busybox\s+latest\s+[0-9a-f]{12}\s+.*\s+0B\s+\S+\s+2$/m, cli);
        assert.match(
          r.stdout,
          /^[0-9a-f]{12}\s+busybox\s+"sh -c 'echo hi > \/f.*"\s+0\s+\d[\d.]*k?B\s+.*df-run$/m,
          cli,
        );
        assert.match(r.stdout, /^[0-9a-f]{12}\s+busybox\s+"true"\s+0\s+\d[\d.]*k?B\s+.*df-created$/m, cli);
      }
      const ps = await ok(["ps", "-a", "-s", "--format", "{{.Names}} {{.Size}}"]);
      assert.match(ps, /^df-run \d[\d.]*k?B \(virtual \d/m);
      const bad = await d.http("GET", "/system/df?type=bogus");
      assert.equal(bad.status, 400);
      assert.equal(JSON.parse(bad.body).message, "unknown object type: bogus");
    } finally {
      await d.docker(["rm", "-f", "df-run", "df-created"]);
    }
  });

  for (const auth of ["htpasswd", "token"] as const) {
    test(`docker login against a loopback registry with ${auth} auth: right and wrong passwords`, async () => {
      const reg = await startRegistry({ auth });
      try {
        const good = await dockerWithInput(
          d,
          ["login", reg.host, "-u", reg.username, "--password-stdin"],
          `${reg.password}\n`,
        );
        assert.equal(good.status, 0, good.stderr);
        assert.match(good.stdout, /Login Succeeded/);
        const wrong = await dockerWithInput(d, ["login", reg.host, "-u", reg.username, "--password-stdin"], "wrong\n");
        assert.notEqual(wrong.status, 0);
        assert.match(wrong.stderr, /Error response from daemon: .*(401 Unauthorized|unauthorized)/);
        const raw = await d.http(
          "POST",
          "/auth",
          JSON.stringify({ username: reg.username, password: "wrong", serveraddress: reg.host }),
          { "content-type": "application/json" },
        );
        assert.equal(raw.status, 401, raw.body);
        const expected =
          auth === "htpasswd"
            ? `login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized`
            : `Get "http://${reg.host}/v2/": unauthorized: bad credentials`;
        assert.equal(JSON.parse(raw.body).message, expected);
        const right = await d.http(
          "POST",
          "/auth",
          JSON.stringify({ username: reg.username, password: reg.password, serveraddress: `http://${reg.host}/v2/` }),
          { "content-type": "application/json" },
        );
        assert.equal(right.status, 200, right.body);
        assert.deepEqual(JSON.parse(right.body), { Status: "Login Succeeded", IdentityToken: "" });
      } finally {
        await reg.stop();
      }
    });
  }

  test("login: a registry that is not there is a 500 naming it; bad bodies are 400s, a huge one 413", async () => {
    const post = (body: string) => d.http("POST", "/auth", body, { "content-type": "application/json" });
    const gone = await post(JSON.stringify({ username: "a", password: "b", serveraddress: "127.0.0.1:1" }));
    assert.equal(gone.status, 500, gone.body);
    assert.match(JSON.parse(gone.body).message, /127\.0\.0\.1:1/);
    for (const body of ["{bad", "[]", '{"username":5}', '{"serveraddress":"a b"}', ""]) {
      const r = await post(body);
      assert.equal(r.status, 400, `${body}: ${r.body}`);
    }
    const huge = await post(JSON.stringify({ username: "a", password: "x".repeat(100_000) }));
    assert.equal(huge.status, 413);
  });

  test("info: counts, drivers, runtimes, security options and the events listeners", async () => {
    const listener = connect(d.socket);
    await new Promise<void>((r) => listener.once("connect", () => r()));
    listener.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    listener.on("error", () => {});
    try {
      await sleep(300);
      const info = JSON.parse((await d.http("GET", "/info")).body);
      for (const key of [
        ...["ID", "Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped", "Images", "Driver"],
        ...["DriverStatus", "Plugins", "MemoryLimit", "SwapLimit", "CgroupDriver", "CgroupVersion", "KernelVersion"],
        ...["OperatingSystem", "OSType", "Architecture", "NCPU", "MemTotal", "DockerRootDir", "Name", "ServerVersion"],
        ...["Runtimes", "DefaultRuntime", "SecurityOptions", "LiveRestoreEnabled", "Warnings", "NEventsListener"],
      ]) {
        assert.ok(key in info, key);
      }
      assert.equal(info.NEventsListener, 1);
      assert.equal(info.Images, 1);
      assert.equal(info.OSType, "linux");
      assert.equal(info.DockerRootDir, d.dataRoot);
      assert.ok(info.SecurityOptions.includes("name=seccomp,profile=builtin"), info.SecurityOptions);
      assert.ok("berth-runc" in info.Runtimes && info.DefaultRuntime in info.Runtimes);
      const shown = await ok(["info", "--format", "{{.Driver}} {{.CgroupDriver}} {{.OSType}} {{.LiveRestoreEnabled}}"]);
      assert.equal(shown.trim(), `${info.Driver} cgroupfs linux true`);
    } finally {
      listener.destroy();
    }
  });
});

async function readProc(pid: number): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  return readFile(`/proc/${pid}/status`, "utf8");
}

function dockerWithInput(d: Berthd, args: string[], input: string) {
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(DOCKER_CLI, ["-H", `unix://${d.socket}`, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config"), DOCKER_API_VERSION: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    child.once("close", (code) => resolve({ status: code ?? -1, stdout, stderr }));
    child.stdin!.end(input);
  });
}
