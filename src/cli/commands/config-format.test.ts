// ps, images and stats take their default --format from config.json (psFormat, imagesFormat,
// statsFormat), as docker does: against a fake daemon on a unix socket, berth's output equals the
// outputs docker 28 printed for the same answers and config (and docker 28's own, when it is here).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

const dir = mkdtempSync(join(tmpdir(), "berth-cfgfmt-"));
const socket = join(dir, "d.sock");
const config = join(dir, "config");
const ID = "a".repeat(64);
const IMAGE = `sha256:${"b".repeat(64)}`;
const container = {
  Id: ID,
  Names: ["/web"],
  Image: "busybox",
  ImageID: IMAGE,
  Command: "sh",
  Created: 1700000000,
  Ports: [],
  Labels: {},
  State: "running",
  Status: "Up 2 minutes",
  HostConfig: { NetworkMode: "none" },
  NetworkSettings: { Networks: {} },
  Mounts: [],
};
const image = {
  Id: IMAGE,
  ParentId: "",
  RepoTags: ["busybox:latest"],
  RepoDigests: [],
  Created: 1700000000,
  Size: 4000000,
  SharedSize: -1,
  VirtualSize: 4000000,
  Labels: {},
  Containers: -1,
};
const stats = {
  id: ID,
  name: "/web",
  read: "2026-01-01T00:00:00Z",
  cpu_stats: { cpu_usage: { total_usage: 0 }, system_cpu_usage: 0, online_cpus: 1 },
  precpu_stats: { cpu_usage: { total_usage: 0 }, system_cpu_usage: 0 },
  memory_stats: { usage: 1048576, limit: 2097152, stats: {} },
  pids_stats: { current: 1 },
};
const server = createServer((req, res) => {
  const url = req.url ?? "";
  if (url.endsWith("/_ping")) {
    res.writeHead(200, { "Api-Version": "1.41" });
    res.end("OK");
    return;
  }
  res.setHeader("Content-Type", "application/json");
  if (url.includes("/containers/json")) res.end(JSON.stringify([container]));
  else if (url.includes("/images/json")) res.end(JSON.stringify([image]));
  else if (/\/containers\/web\/stats/.test(url)) res.end(JSON.stringify(stats));
  else {
    res.writeHead(404);
    res.end('{"message":"page not found"}');
  }
});
before(async () => {
  mkdirSync(config);
  writeFileSync(
    join(config, "config.json"),
    JSON.stringify({ psFormat: "PS {{.Names}}", imagesFormat: "IM {{.Repository}}", statsFormat: "ST {{.Name}}" }),
  );
  await new Promise<void>((r) => server.listen(socket, r));
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

// What docker 28.2 printed for these against the same answers and config.json.
const WARNING = "WARNING: Ignoring custom format, because both --format and --quiet are set.\n";
const CASES: [string[], string, string?][] = [
  [["ps"], "PS web\n"],
  [["ps", "-q"], `${ID.slice(0, 12)}\n`],
  // docker 28's ps: -q wins over a --format given with it, with a warning (20.10 printed the format).
  [["ps", "-q", "--format", "F {{.Names}}"], `${ID.slice(0, 12)}\n`, WARNING],
  [["container", "ls", "-q", "--format", ""], `${ID.slice(0, 12)}\n`],
  [["ps", "--format", "F {{.Names}}"], "F web\n"],
  [["ps", "--format", ""], "PS web\n"],
  [["container", "ls"], "PS web\n"],
  [["images"], "IM busybox\n"],
  [["images", "-q"], `${"b".repeat(12)}\n`],
  [["image", "ls", "--format", "F {{.Tag}}"], "F latest\n"],
  [["stats", "--no-stream", "web"], "ST web\n"],
];

function run(cli: string[], args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  // Asynchronous: the fake daemon answers from this process.
  return new Promise((resolve, reject) => {
    const child = spawn(cli[0] as string, [...cli.slice(1), "--config", config, "-H", `unix://${socket}`, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test("ps, images and stats default to config.json's formats; --format wins, -q over both (ps warns of a --format given with -q)", async () => {
  for (const [args, want, warning = ""] of CASES) {
    const got = await run([process.execPath, join(import.meta.dirname, "..", "main.ts")], args);
    assert.deepEqual(got, { status: 0, stdout: want, stderr: warning }, args.join(" "));
  }
});

test("the recorded outputs are docker 28's own (when its CLI is here)", {
  skip: !existsSync("/usr/local/bin/docker"),
}, async () => {
  for (const [args, want, warning = ""] of CASES) {
    const got = await run(["/usr/local/bin/docker"], args);
    assert.deepEqual(got, { status: 0, stdout: want, stderr: warning }, args.join(" "));
  }
});
