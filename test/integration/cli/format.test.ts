// berth's --format engine, tables and progress display (src/cli/format) against the real docker
// CLI on the same berthd, live: inspect templates over a container's inspect JSON, ps and images
// formats over the lists, and berthd's real pull stream of a 3-layer image from a fake registry,
// replayed by a fake daemon to `docker pull` through a pipe and through a pty (script(1), 150
// columns). DOCKER_CLI is docker 28 where the machine has it, else 20.10: both print the same here.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { imageRows, imagesTable, needDigest } from "../../../src/cli/format/images-context.ts";
import { type JsonMessage, jsonMessages, StreamError, showProgress } from "../../../src/cli/format/progress.ts";
import { type ContainerSummary, psRow, psSizeNeeded, psTable } from "../../../src/cli/format/ps-context.ts";
import { renderFormatted } from "../../../src/cli/format/table.ts";
import { compileTemplate, TemplateError } from "../../../src/cli/format/template.ts";
import { gzipLayer } from "../../fixtures/layer-tar.ts";
import { type Berthd, berthdWithBusybox, DOCKER_CLI } from "../../helpers/berthd.ts";
import { publishImage, startFakeRegistry } from "../../helpers/fake-registry.ts";

const isRoot = process.getuid?.() === 0;

interface Shown {
  stdout: string;
  stderr: string;
  status: number | null;
}

/** A command's output, through a pipe or in a pty of 150 columns (script(1); stderr to a file). */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, pty: boolean, dir: string): Promise<Shown> {
  const errFile = join(dir, "pty-stderr");
  const quoted = [cmd, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
  const [file, argv] = pty
    ? ["script", ["-q", "-e", "-c", `stty cols 150 rows 40; ${quoted} 2>${errFile}`, "/dev/null"]]
    : [cmd, args];
  return new Promise((resolve, reject) => {
    const c = spawn(file, argv, { env, stdio: ["pipe", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d: Buffer) => (stdout += d));
    c.stderr.on("data", (d: Buffer) => (stderr += d));
    c.on("error", reject);
    c.on("close", (status) => {
      if (pty) stderr = readFileSync(errFile, "utf8");
      resolve({ stdout, stderr, status });
    });
  });
}

/** What `docker inspect --format` prints for a template over `data`, from compileTemplate. */
function inspectLike(template: string, data: unknown): Shown {
  try {
    return { stdout: `${compileTemplate(template, { missingKey: "error" })(data)}\n`, stderr: "", status: 0 };
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    return { stdout: e.phase === "exec" ? "\n" : "", stderr: `${e.message}\n`, status: e.exitCode };
  }
}

const TEMPLATES = [
  "{{.Name}}",
  "{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}",
  "{{.Config.Labels}}",
  '{{index .Config.Labels "a"}}|{{index .Config.Labels "nope"}}',
  "{{json .Config.Labels}}",
  "{{json .Config.Cmd}} {{.Config.Cmd}} {{len .Config.Cmd}}",
  '{{join .Config.Cmd ","}}',
  "{{.Name | upper}} {{lower .State.Status}} {{title .State.Status}}",
  '{{printf "%s-%5s|%-4s|%q" .Name .State.Status "ab" .Name}}',
  '{{if .State.Running}}up{{else}}down{{end}} {{if eq .State.Status "exited"}}E{{else if eq .State.Status "running"}}R{{end}}',
  "{{range $i, $v := .Config.Cmd}}{{$i}}={{$v}};{{end}}",
  "{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}} {{end}}",
  "{{with .State}}{{.Status}}{{end}} {{$n := .Name}}{{$n}}",
  "a  {{- .Name -}}  b {{/* c */}}",
  "{{`raw`}} {{and .State.Running .Name}} {{or 0 .Name}} {{not .State.Running}}",
  '{{split .Name "/"}} {{pad .Name 1 1}}| {{truncate .Name 2}}',
  "{{.Nope}}",
  "{{.State.Nope.X}}",
  "{{foo}}",
  "{{.Name}",
  "{{if .Name}}",
  "{{index .Config.Cmd 9}}",
  "{{upper 3}}",
  "{{range .Name}}{{end}}",
];

describe("cli format against the docker CLI on the same berthd", { skip: !isRoot && "needs root" }, () => {
  let d: Berthd;
  before(async () => {
    d = await berthdWithBusybox();
    const r = await d.docker([
      "run",
      "-d",
      "--name",
      "fmt1",
      "-l",
      "a=b",
      "-l",
      "com.example.x=y",
      "busybox",
      "sleep",
      "1000",
    ]);
    assert.equal(r.status, 0, r.stderr);
    // One tag: docker lists an image's several tags in Go's random map order.
  });
  after(async () => {
    await d?.cleanup();
  });

  test(`inspect --format: ${TEMPLATES.length} templates print what docker prints (stdout, stderr, exit code)`, async () => {
    const data = JSON.parse((await d.http("GET", "/containers/fmt1/json")).body);
    for (const t of TEMPLATES) {
      const docker = await d.docker(["inspect", "--format", t, "fmt1"]);
      assert.deepEqual(inspectLike(t, data), docker, t);
    }
  });

  test("ps and images --format: tables with docker's headers, templates and errors print what docker prints", async () => {
    const now = Date.now();
    const plain = JSON.parse((await d.http("GET", "/containers/json?all=1")).body) as ContainerSummary[];
    const sized = JSON.parse((await d.http("GET", "/containers/json?all=1&size=1")).body) as ContainerSummary[];
    const ps = [
      // Not {{.Labels}} of two labels: docker joins them in Go's random map order (berth sorts them).
      'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Names}}\t{{.Label "a"}}',
      '{{.Names}} {{.Label "com.example.x"}} {{.State}} {{.Mounts}} {{.LocalVolumes}}',
      "table {{.Names}}\t{{.Size}}",
      "table {{upper .Names}}\t{{.CreatedAt}}",
      "{{.Nope}}",
      "{{foo}}",
    ];
    for (const f of ps) {
      let mine: Shown;
      try {
        const list = psSizeNeeded(f) ? sized : plain;
        mine = {
          stdout: renderFormatted(
            f,
            list.map((c) => psRow(c, { trunc: true, now })),
            psTable(),
          ),
          stderr: "",
          status: 0,
        };
      } catch (e) {
        if (!(e instanceof TemplateError)) throw e;
        mine = { stdout: "", stderr: `${e.message}\n`, status: e.exitCode };
      }
      assert.deepEqual(mine, await d.docker(["ps", "-a", "--format", f]), f);
    }
    const images = JSON.parse((await d.http("GET", "/images/json")).body);
    for (const [args, format, digests] of [
      [[], undefined, false],
      [["--digests"], undefined, true],
      [
        ["--no-trunc", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Digest}}"],
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Digest}}",
        false,
      ],
    ] as const) {
      const trunc = !args.includes("--no-trunc" as never);
      const rows = images.flatMap((i: never) => imageRows(i, { trunc, digests: needDigest(format, digests), now }));
      const mine = { stdout: renderFormatted(format, rows, imagesTable({ digests })), stderr: "", status: 0 };
      assert.deepEqual(mine, await d.docker(["images", ...args]), args.join(" "));
    }
  });

  test("berthd's pull stream of a 3-layer image: the same bytes as docker pull, through a pipe and in a pty", async () => {
    const reg = await startFakeRegistry();
    const sock = join(d.dir, "replay.sock");
    const server = createServer();
    try {
      const layers = [];
      for (const size of [1_200_000, 500_000, 30_000])
        layers.push(await gzipLayer([{ name: `f${size}`, body: randomBytes(size) }]));
      publishImage(reg, "multi/app", "1", layers);
      reg.throttle = 1_500_000;
      const ref = `${reg.host}/multi/app:1`;
      // berthd's own stream, recorded.
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(
          {
            socketPath: d.socket,
            method: "POST",
            path: `/images/create?fromImage=${encodeURIComponent(`${reg.host}/multi/app`)}&tag=1`,
          },
          (res) => {
            let text = "";
            res.on("data", (c) => (text += c));
            res.on("end", () => resolve(text));
          },
        );
        req.on("error", reject);
        req.end();
      });
      const stream: JsonMessage[] = [];
      for await (const m of jsonMessages([body])) stream.push(m);
      assert.ok(
        stream.some((m) => m.status === "Downloading") && stream.some((m) => m.status === "Pull complete"),
        body,
      );
      // The same stream, replayed to the docker CLI by a fake daemon.
      server.on("request", (req, res) => {
        if (req.url?.endsWith("/_ping")) {
          res.writeHead(200, { "Api-Version": "1.45", Ostype: "linux", "Content-Type": "text/plain" });
          res.end("OK");
        } else if (req.method === "POST" && req.url?.includes("/images/create")) {
          res.writeHead(200, { "Content-Type": "application/json" });
          res.end(body);
        } else {
          res.writeHead(404, { "Content-Type": "application/json" });
          res.end('{"message":"not here"}');
        }
      });
      await new Promise<void>((r) => server.listen(sock, r));
      const env = {
        ...process.env,
        DOCKER_CONFIG: join(d.dir, "client-config"),
        DOCKER_HOST: `unix://${sock}`,
        DOCKER_API_VERSION: "",
      };
      for (const pty of [false, true]) {
        let stdout = "";
        const out = new Writable({
          write(c, _e, cb) {
            stdout += c;
            cb();
          },
        });
        let mine: Shown;
        try {
          await showProgress(
            (async function* () {
              yield* stream;
            })(),
            out,
            pty,
            { width: 150 },
          );
          mine = { stdout: `${stdout}${ref}\n`, stderr: "", status: 0 };
        } catch (e) {
          if (!(e instanceof StreamError)) throw e;
          mine = { stdout, stderr: `${e.message}\n`, status: 1 };
        }
        if (pty) mine.stdout = mine.stdout.replaceAll("\n", "\r\n");
        const docker = await run(DOCKER_CLI, ["pull", ref], env, pty, d.dir);
        assert.deepEqual(mine, docker, pty ? "pty" : "pipe");
        if (pty) assert.match(docker.stdout, /\x1b\[\dA\x1b\[2K\r[0-9a-f]{12}: Downloading \[=*>/);
      }
    } finally {
      server.close();
      rmSync(sock, { force: true });
      await reg.stop();
    }
  });
});
