// --cidfile against a fake daemon: create and run write the new id into the file; an existing file
// is refused in docker's words before anything is sent; a failed create leaves no file behind.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliCommand } from "../../../test/helpers/cli-command.ts";
import { CliError } from "../errors.ts";
import type { Command } from "./command.ts";
import create from "./create.ts";
import run from "./run.ts";

const ID = "c1d".padEnd(64, "0");
const dir = mkdtempSync(join(tmpdir(), "berth-cidfile-"));
const socket = join(dir, "d.sock");
const sent: string[] = [];
let createStatus = 201;
const server = createServer((req, res) => {
  if (req.url === "/_ping") return res.writeHead(200, { "API-Version": "1.50" }).end("OK");
  req.resume();
  sent.push(`${req.method} ${req.url}`);
  if (req.url?.includes("/containers/create")) {
    const body = createStatus === 201 ? { Id: ID, Warnings: [] } : { message: "boom" };
    res.writeHead(createStatus, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  } else res.writeHead(204).end();
});
before(() => new Promise<void>((r) => server.listen(socket, r)));
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const invoke = (command: Command, name: string, argv: string[]) =>
  runCliCommand(command, { host: `unix://${socket}`, name, argv });

const fails = (message: string, code: number) => (e: unknown) => {
  assert.ok(e instanceof CliError, `not a CliError: ${e}`);
  assert.equal(e.message, message);
  assert.equal(e.exitCode, code);
  return true;
};

test("create --cidfile writes the id; an existing file (or symlink) is refused, nothing sent", async () => {
  const file = join(dir, "cid");
  assert.equal(await invoke(create, "create", ["--cidfile", file, "busybox"]), `${ID}\n`);
  assert.equal(readFileSync(file, "utf8"), ID);
  sent.length = 0;
  const found = `container ID file found, make sure the other container isn't running or delete ${file}`;
  await assert.rejects(invoke(create, "create", ["--cidfile", file, "busybox"]), fails(found, 1));
  // docker run: its toStatusError form, exit 125.
  await assert.rejects(
    invoke(run, "run", ["-d", "--cidfile", file, "busybox"]),
    fails(`berth: ${found}\n\nRun 'berth run --help' for more information`, 125),
  );
  const link = join(dir, "link");
  symlinkSync(join(dir, "elsewhere"), link);
  await assert.rejects(invoke(create, "create", ["--cidfile", link, "busybox"]), /container ID file found/);
  assert.equal(existsSync(join(dir, "elsewhere")), false);
  assert.deepEqual(sent, []);
  assert.equal(readFileSync(file, "utf8"), ID);
});

test("--cidfile in a missing directory: docker's words (run: 127, as its toStatusError maps them)", async () => {
  const file = join(dir, "none", "cid");
  const words = `failed to create the container ID file: open ${file}: no such file or directory`;
  await assert.rejects(invoke(create, "create", ["--cidfile", file, "busybox"]), fails(words, 1));
  await assert.rejects(
    invoke(run, "run", ["-d", "--cidfile", file, "busybox"]),
    fails(`berth: ${words}\n\nRun 'berth run --help' for more information`, 127),
  );
});

test("run -d --cidfile writes the id; a failed create removes the empty file", async () => {
  const file = join(dir, "run-cid");
  assert.equal(await invoke(run, "run", ["-d", "--cidfile", file, "busybox"]), `${ID}\n`);
  assert.equal(readFileSync(file, "utf8"), ID);
  createStatus = 500;
  const failed = join(dir, "failed-cid");
  await assert.rejects(
    invoke(create, "create", ["--cidfile", failed, "busybox"]),
    fails("Error response from daemon: boom", 125),
  );
  assert.equal(existsSync(failed), false);
  await assert.rejects(
    invoke(run, "run", ["-d", "--cidfile", failed, "busybox"]),
    fails("berth: Error response from daemon: boom\n\nRun 'berth run --help' for more information", 125),
  );
  assert.equal(existsSync(failed), false);
  createStatus = 201;
});
