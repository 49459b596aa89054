// exec --env-file against a fake daemon: the files' lines (as run reads them), then -e, in the exec's
// Env; a file that cannot be read is refused in docker's words (exit 1) before anything is sent.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliCommand } from "../../../test/helpers/cli-command.ts";
import { CliError } from "../errors.ts";
import exec from "./exec.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-exec-env-"));
const socket = join(dir, "d.sock");
const sent: { path: string; body: string }[] = [];
const server = createServer((req, res) => {
  if (req.url === "/_ping") return res.writeHead(200, { "API-Version": "1.50" }).end("OK");
  let body = "";
  req.on("data", (c) => {
    body += c;
  });
  req.on("end", () => {
    sent.push({ path: `${req.method} ${req.url?.replace(/^\/v[\d.]+/, "")}`, body });
    if (req.url?.endsWith("/exec")) {
      res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify({ Id: "e1" }));
    } else res.writeHead(200).end();
  });
});
before(() => new Promise<void>((r) => server.listen(socket, r)));
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const invoke = (argv: string[]) => runCliCommand(exec, { host: `unix://${socket}`, name: "exec", argv });

test("exec --env-file: the files' lines in order, then -e", async () => {
  writeFileSync(join(dir, "a.env"), "\ufeffA=1\n# comment\n\nB= two \r\nBERTH_EXEC_ENV_UNSET\n");
  writeFileSync(join(dir, "b.env"), "C=3\n");
  sent.length = 0;
  await invoke(["-d", "--env-file", join(dir, "a.env"), "-e", "X=9", "--env-file", join(dir, "b.env"), "c1", "true"]);
  const create = sent.find((s) => s.path === "POST /containers/c1/exec");
  assert.ok(create !== undefined, JSON.stringify(sent));
  assert.deepEqual(JSON.parse(create.body).Env, ["A=1", "B= two ", "C=3", "X=9"]);
});

test("exec --env-file: a missing file, a bad line or an endless file is refused, nothing sent", async () => {
  writeFileSync(join(dir, "bad.env"), "BAD KEY=1\n");
  const cases: [string, string][] = [
    [join(dir, "none.env"), `open ${join(dir, "none.env")}: no such file or directory`],
    [join(dir, "bad.env"), "poorly formatted environment: variable 'BAD KEY' contains whitespaces"],
    // Endless: bounded by what is read (4 MiB), not by its size.
    ["/dev/zero", "open /dev/zero: larger than 4194304 bytes"],
  ];
  for (const [file, words] of cases) {
    sent.length = 0;
    await assert.rejects(invoke(["--env-file", file, "c1", "true"]), (e: unknown) => {
      assert.ok(e instanceof CliError, String(e));
      assert.equal(e.exitCode, 1);
      assert.equal(e.message, words);
      return true;
    });
    assert.deepEqual(sent, []);
  }
});
