// Containers' logs on berthd: written by berth-logger below berthd (binary://), with the
// LogConfig users give: json-file's max-size/max-file rotation, "none", and the refusals at
// create in dockerd's words. The docker CLI against dist/berthd.mjs in private dirs.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type Berthd, DOCKER_CLI, pidsMentioning } from "../../helpers/berthd.ts";
import { dockerOk, useBerthd } from "../../helpers/engine-suite.ts";

describe("berthd: container logs through berth-logger", {
  skip: process.getuid?.() !== 0 && "berthd runs as root",
}, () => {
  let d: Berthd;
  useBerthd((b) => (d = b));
  const ok = (args: string[]) => dockerOk(d, args);

  test("max-size and max-file rotate the log; docker logs reads across the files", async () => {
    const id = (
      await ok([
        "run",
        "-d",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); done",
      ])
    ).trim();
    assert.equal(await ok(["wait", id]), "0\n");
    const logPath = (await ok(["inspect", "-f", "{{.LogPath}}", id])).trim();
    const files = readdirSync(dirname(logPath)).filter((f) => f.startsWith(`${id}-json.log`));
    assert.deepEqual(files.sort(), [`${id}-json.log`, `${id}-json.log.1`, `${id}-json.log.2`]);
    const lines = (await ok(["logs", id])).split("\n").filter(Boolean);
    assert.ok(lines.length > 10 && lines.length < 300, `${lines.length} lines kept`);
    assert.deepEqual(
      lines,
      Array.from({ length: lines.length }, (_, k) => `line-${300 - lines.length + k}`),
    );
    assert.equal(await ok(["logs", "--tail", "1", id]), "line-299\n");
    await ok(["rm", id]);
  });

  test("an open stdin (-i: output through berthd's fifos) is logged by berth-logger too, rotated", async () => {
    const r = await d.docker([
      "run",
      "-i",
      "--name",
      "interactive",
      "--log-opt",
      "max-size=1k",
      "--log-opt",
      "max-file=2",
      "busybox",
      "seq",
      "1",
      "300",
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split("\n").length, 301);
    const logPath = (await ok(["inspect", "-f", "{{.LogPath}}", "interactive"])).trim();
    assert.ok(existsSync(`${logPath}.1`) && !existsSync(`${logPath}.2`), "rotated, two files kept");
    assert.equal(await ok(["logs", "--tail", "2", "interactive"]), "299\n300\n");
    await ok(["rm", "interactive"]);
  });

  test("--log-driver none: run still shows the output, logs says the driver cannot be read", async () => {
    const r = await d.docker(["run", "--name", "quiet", "--log-driver", "none", "busybox", "echo", "hi"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "hi\n");
    const logs = await d.docker(["logs", "quiet"]);
    assert.equal(logs.status, 1);
    assert.match(logs.stderr, /configured logging driver does not support reading/);
    const logPath = (await ok(["inspect", "-f", "{{.LogPath}}", "quiet"])).trim();
    assert.equal(existsSync(logPath), false, "no log written");
    await ok(["rm", "quiet"]);
  });

  test("drivers and options berthd cannot apply are refused at create, in dockerd's words, nothing made", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--log-driver", "foo"], /error looking up logging plugin foo: plugin "foo" not found/],
      [["--log-driver", "syslog"], /does not support the syslog log driver/],
      [["--log-opt", "foo=bar"], /unknown log opt 'foo' for json-file log driver/],
      [["--log-opt", "max-size=abc"], /invalid size: 'abc'/],
      [["--log-opt", "max-size=1m", "--log-opt", "max-file=0"], /max-file cannot be less than 1/],
    ];
    for (const [flags, re] of cases) {
      const r = await d.docker(["create", ...flags, "busybox", "true"]);
      assert.notEqual(r.status, 0, flags.join(" "));
      assert.match(r.stderr, re);
    }
    assert.equal(await ok(["ps", "-aq"]), "");
    // The HTTP status, as dockerd's: 400.
    const raw = await d.http(
      "POST",
      "/containers/create",
      JSON.stringify({
        Image: "busybox",
        HostConfig: { LogConfig: { Type: "json-file", Config: { "max-size": "-1" } } },
      }),
      { "Content-Type": "application/json" },
    );
    assert.equal(raw.status, 400);
    assert.match(raw.body, /invalid size: '-1'/);
  });

  // dockerd records an exit (inspect's "exited", wait's answer, the "die" event) only once the
  // container's output is in its log; so does berthd, through the logger or its fifos.
  for (const mode of [[], ["-i"]]) {
    test(`a run that prints a lot: after docker wait, logs has every line, and logs -f ends right after its last (${mode.join(" ") || "logger"})`, async () => {
      const id = (await ok(["run", "-d", ...mode, "busybox", "sh", "-c", "sleep 1; seq 1 50000; echo end >&2"])).trim();
      const follow = followLogs(d, id);
      assert.equal(await ok(["wait", id]), "0\n");
      assert.equal(await ok(["inspect", "-f", "{{.State.Status}}", id]), "exited\n");
      const logs = await d.docker(["logs", id]);
      assert.equal(logs.stdout, seqOutput(50000));
      assert.equal(logs.stderr, "end\n");
      const f = await follow;
      assert.equal(f.stdout, seqOutput(50000));
      assert.ok(
        f.closedAt - f.lastDataAt < 1_000,
        `logs -f ended ${f.closedAt - f.lastDataAt} ms after its last bytes`,
      );
      await ok(["rm", id]);
    });
  }

  test("a stuck logger (stopped) cannot hold a fifo container's exit: SIGTERM after 2 s, SIGKILL 1 s later", async () => {
    const id = (await ok(["run", "-d", "-i", "busybox", "sh", "-c", "sleep 2; echo late"])).trim();
    const logDir = dirname((await ok(["inspect", "-f", "{{.LogPath}}", id])).trim());
    const loggers = pidsMentioning(logDir).filter(
      (p) => readFileSync(`/proc/${p}/comm`, "utf8").trim() === "berth-logger",
    );
    assert.equal(loggers.length, 1, "berthd's logger of the container");
    process.kill(loggers[0]!, "SIGSTOP");
    try {
      const t0 = Date.now();
      const waited = await Promise.race([d.docker(["wait", id]), sleep(20_000, undefined, { ref: false })]);
      assert.equal(waited?.stdout, "0\n", "docker wait answered within 20 s");
      const took = Date.now() - t0;
      assert.ok(took < 9_000, `the exit came ${took} ms after the wait began (the run takes 2 s)`);
      assert.deepEqual(
        pidsMentioning(logDir).filter((p) => p === loggers[0]),
        [],
        "the stuck logger is gone",
      );
      assert.equal(await ok(["inspect", "-f", "{{.State.Status}}", id]), "exited\n");
    } finally {
      try {
        process.kill(loggers[0]!, "SIGKILL");
      } catch {}
    }
    await ok(["rm", id]);
  });

  test("a line without its newline reaches docker run at its end", async () => {
    const r = await d.docker(["run", "--rm", "busybox", "sh", "-c", "echo first; printf 'no newline'"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "first\nno newline");
  });
});

function seqOutput(n: number): string {
  return Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");
}

/** `docker logs -f`: what it printed, when its last bytes came and when it ended. */
function followLogs(d: Berthd, id: string): Promise<{ stdout: string; lastDataAt: number; closedAt: number }> {
  const child = spawn(DOCKER_CLI, ["-H", `unix://${d.socket}`, "logs", "-f", id], {
    stdio: ["ignore", "pipe", "ignore"],
    env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config"), DOCKER_API_VERSION: "" },
    timeout: 60_000,
  });
  const chunks: Buffer[] = [];
  let lastDataAt = 0;
  child.stdout.on("data", (b: Buffer) => {
    chunks.push(b);
    lastDataAt = Date.now();
  });
  return new Promise((resolve) =>
    child.once("close", () => resolve({ stdout: Buffer.concat(chunks).toString(), lastDataAt, closedAt: Date.now() })),
  );
}
