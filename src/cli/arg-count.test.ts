// Argument-count refusals as docker 28 words them, before any connection (exit 1).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

const dir = mkdtempSync(join(tmpdir(), "berth-args-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const absent = `unix://${join(dir, "absent.sock")}`;

// docker 28.2's stderr, as it printed it (-H an absent socket: nothing is asked of a daemon).
const PORT_RANGE =
  "docker: 'docker port' requires at least 1 and at most 2 arguments\n\n" +
  "Usage:  docker port CONTAINER [PRIVATE_PORT[/PROTO]]\n\n" +
  "Run 'docker port --help' for more information\n";
const CASES: [string[], string][] = [
  [["port"], PORT_RANGE],
  [["port", "a", "b", "c"], PORT_RANGE],
];

function run(cli: string[], args: string[]) {
  const r = spawnSync(cli[0] as string, [...cli.slice(1), "-H", absent, ...args], {
    encoding: "utf8",
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? "", HOME: dir },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("port with no or too many arguments: docker 28's range refusal, exit 1", () => {
  for (const [args, want] of CASES) {
    const r = run([process.execPath, join(import.meta.dirname, "main.ts")], args);
    assert.deepEqual(r, { status: 1, stdout: "", stderr: want.replaceAll("docker", "berth") }, args.join(" "));
  }
});

test("the recorded refusals are docker 28's own (when its CLI is here)", {
  skip: !existsSync("/usr/local/bin/docker"),
}, () => {
  for (const [args, want] of CASES) {
    assert.deepEqual(run(["/usr/local/bin/docker"], args), { status: 1, stdout: "", stderr: want }, args.join(" "));
  }
});
