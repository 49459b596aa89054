// ps and images against a hostile fake daemon: a list entry of the wrong shape fails in Go's words
// (docker CLI 28's, exit 1) instead of a TypeError or RangeError; a sparse entry prints.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliCommand } from "../../../test/helpers/cli-command.ts";
import { decodeAs, IMAGE_LIST } from "../api/decode.ts";
import { CliError } from "../errors.ts";
import type { Command } from "./command.ts";
import images from "./images.ts";
import ps from "./ps.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-list-"));
const socket = join(dir, "d.sock");
let answer = "[]";
const server = createServer((req, res) => {
  if (req.url === "/_ping") res.writeHead(200, { "API-Version": "1.50" }).end("OK");
  else res.writeHead(200, { "Content-Type": "application/json" }).end(answer);
});
before(() => new Promise<void>((r) => server.listen(socket, r)));
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function run(command: Command, name: string, body: string, argv: string[] = []): Promise<string> {
  answer = body;
  return runCliCommand(command, { host: `unix://${socket}`, name, argv });
}

/** The rejection must be a CliError (exit 1) with exactly these words. */
const refused = (message: string) => (e: unknown) => {
  assert.ok(e instanceof CliError, `not a CliError: ${e}`);
  assert.equal(e.message, message);
  assert.equal(e.exitCode, 1);
  return true;
};

test("ps: a hostile list is refused in encoding/json's words, the first bad field in document order", async () => {
  // docker CLI 28 against a fake daemon answering these printed exactly these lines, exit 1.
  const cases: [string, string][] = [
    [
      '[{"Id":"abc","Names":"x","Ports":5,"Created":1e300}]',
      "json: cannot unmarshal string into Go struct field Summary.Names of type []string",
    ],
    [
      '[{"Id":"abc","Created":1.5}]',
      "json: cannot unmarshal number 1.5 into Go struct field Summary.Created of type int64",
    ],
    ['[{"Id":"abc"}, 5]', "json: cannot unmarshal number into Go value of type container.Summary"],
    ['{"a":1}', "json: cannot unmarshal object into Go value of type []container.Summary"],
    [
      '[{"Id":"abcdef0123456789","Names":["/n"],"Ports":[{"PrivatePort":"x"}]}]',
      "json: cannot unmarshal string into Go struct field Port.Ports.PrivatePort of type uint16",
    ],
  ];
  for (const [body, message] of cases) await assert.rejects(run(ps, "ps", body), refused(message), body);
  // Past what a date can hold (docker prints year 300000; berth refuses it clearly, no RangeError).
  await assert.rejects(run(ps, "ps", '[{"Id":"abc","Created":1e15}]'), /cannot unmarshal number 1000000000000000/);
  await assert.rejects(run(ps, "ps", '[{"Id":"abc","Ports":[{"PrivatePort":70000}]}]'), /of type uint16/);
  await assert.rejects(run(ps, "ps", '[{"Id":"abc","Labels":{"a":1}}]'), /Summary\.Labels of type string/);
});

test("ps: a sparse entry (no Names, Id, Ports; nulls) prints what it can", async () => {
  const out = await run(
    ps,
    "ps",
    '[{"Command":null,"Names":null,"Ports":null,"Mounts":null}, {"Id":"0123456789abcdef"}]',
  );
  const lines = out.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  assert.match(lines[2] ?? "", /^0123456789ab /);
  assert.match(await run(ps, "ps", "null"), /^CONTAINER ID +IMAGE +COMMAND .*NAMES\n$/);
});

test("images: a hostile list is refused in encoding/json's words; a sparse entry prints", async () => {
  await assert.rejects(
    run(images, "images", '[{"Id":"abc","RepoTags":"x","Created":1e300}]'),
    refused("json: cannot unmarshal string into Go struct field Summary.RepoTags of type []string"),
  );
  await assert.rejects(run(images, "images", '[{"Id":"abc","Size":"big"}]'), /Summary\.Size of type int64/);
  const out = await run(images, "images", '[{"RepoTags":["a:b"]}]');
  assert.match(out.split("\n")[1] ?? "", /^a +b /);
});

test("decodeAs: a bool where a string belongs, an array where a struct belongs", () => {
  assert.throws(() => decodeAs([{ Id: true }], IMAGE_LIST), /cannot unmarshal bool into Go struct field Summary\.Id/);
  assert.throws(() => decodeAs([[1]], IMAGE_LIST), /cannot unmarshal array into Go value of type image\.Summary/);
});
