// berth's entry point as a user meets it, without a daemon: exit codes and the first lines of its
// messages (docker's words), and that bad input never reaches for the daemon.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BERTH_VERSION } from "../common/version.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-main-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const absent = `unix://${join(dir, "absent.sock")}`;

function berth(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(import.meta.dirname, "main.ts"), ...args], {
    encoding: "utf8",
    timeout: 30_000,
    env: { PATH: process.env.PATH ?? "", HOME: dir, BERTH_HOST: absent, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("no daemon: docker's one line with how to start berthd, exit 1", () => {
  const r = berth(["ps"]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    new RegExp(`^Cannot connect to the Docker daemon at ${absent}\\. Is berthd running\\? Start it with .*\\n$`),
  );
});

test("-H before the command wins over BERTH_HOST; a context that does not exist fails before connecting", () => {
  const other = `unix://${join(dir, "other.sock")}`;
  assert.match(berth(["-H", other, "ps"]).stderr, new RegExp(`at ${other}\\.`));
  const r = berth(["--context", "nosuch", "ps"], { BERTH_HOST: "" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /context "nosuch": context not found/);
});

test("unknown command: docker's message, exit 1", () => {
  const r = berth(["nosuch"]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, "berth: unknown command: berth nosuch\n\nRun 'berth --help' for more information\n");
});

test("bad flags are exit 125 and missing arguments exit 1, both before any connection", () => {
  const flag = berth(["ps", "--nosuch"]);
  assert.equal(flag.status, 125);
  assert.match(flag.stderr, /^unknown flag: --nosuch\n/);
  const args = berth(["rm"]);
  assert.equal(args.status, 1);
  assert.equal(
    args.stderr,
    "berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth rm --help' for more information\n",
  );
  const filter = berth(["ps", "--filter", "novalue"]);
  assert.equal(filter.status, 125);
  assert.match(filter.stderr, /bad format of filter \(expected name=value\)/);
  const global = berth(["--nosuch", "ps"]);
  assert.equal(global.status, 125);
});

test("--version, --help, a command's --help and management spellings need no daemon", () => {
  assert.match(berth(["--version"]).stdout, /^berth version \d+\.\d+\.\d+\n$/);
  const help = berth(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: {2}berth \[OPTIONS\] COMMAND/);
  assert.match(help.stdout, /\n {2}ps {10}List containers\n/);
  const ps = berth(["container", "ls", "--help"]);
  assert.equal(ps.status, 0);
  assert.match(ps.stdout, /Usage: {2}berth container ls \[OPTIONS\]/);
  assert.match(ps.stdout, /--no-trunc/);
  // The management spelling reaches the daemon like the short one.
  assert.match(berth(["image", "ls"]).stderr, /^Cannot connect to the Docker daemon/);
});

test("--help before the command prints that command's help, as docker does (an unknown word: the top help)", () => {
  const r = berth(["--help", "ps"]);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, berth(["ps", "--help"]).stdout);
  assert.match(r.stdout, /^\nUsage: {2}berth ps \[OPTIONS\]\n/);
  assert.match(berth(["--help", "container", "ls"]).stdout, /Usage: {2}berth container ls \[OPTIONS\]/);
  const top = berth(["--help", "bogus"]);
  assert.equal(top.status, 0);
  assert.match(top.stdout, /Usage: {2}berth \[OPTIONS\] COMMAND/);
});

test("-D prints where an error came from after its message; without it, the message alone", () => {
  const plain = berth(["ps"]);
  const debug = berth(["-D", "ps"]);
  assert.equal(debug.status, 1);
  assert.ok(debug.stderr.startsWith(plain.stderr), debug.stderr);
  assert.match(debug.stderr.slice(plain.stderr.length), /^ConnectError: .*\n {4}at /);
  assert.equal(berth(["--version"]).stdout, `berth version ${BERTH_VERSION}\n`);
});
