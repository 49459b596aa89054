// run --detach-keys with keys nobody can read, as docker 28 does it against a daemon: the container
// is created, the keys go to the daemon on the attach and its refusal is the error (exit 1); run -d
// never sends them.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCliCommand } from "../../../test/helpers/cli-command.ts";
import { DaemonError } from "../errors.ts";
import run from "./run.ts";

const ID = "d0".repeat(32);
const dir = mkdtempSync(join(tmpdir(), "berth-run-dk-"));
const socket = join(dir, "d.sock");
const sent: string[] = [];
const server = createServer((req, res) => {
  if (req.url === "/_ping") return res.writeHead(200, { "API-Version": "1.50" }).end("OK");
  req.resume();
  const url = new URL(req.url ?? "/", "http://x");
  sent.push(
    `${req.method} ${url.pathname.replace(/^\/v[\d.]+/, "")} ${url.searchParams.get("detachKeys") ?? ""}`.trim(),
  );
  const json = { "Content-Type": "application/json" };
  if (url.pathname.endsWith("/containers/create")) res.writeHead(201, json).end(JSON.stringify({ Id: ID }));
  else if (url.pathname.endsWith("/attach")) {
    // berthd's and dockerd's answer to keys term.ToBytes cannot read.
    const keys = url.searchParams.get("detachKeys");
    res.writeHead(400, json).end(JSON.stringify({ message: `Invalid detach keys (${keys}) provided` }));
  } else res.writeHead(204).end();
});
before(() => new Promise<void>((r) => server.listen(socket, r)));
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const invoke = (argv: string[]) => runCliCommand(run, { host: `unix://${socket}`, name: "run", argv });

test("run --detach-keys ctrl-: created, the daemon's refusal on the attach, exit 1", async () => {
  sent.length = 0;
  await assert.rejects(
    invoke(["--detach-keys", "ctrl-", "busybox", "true"]),
    (e: unknown) =>
      e instanceof DaemonError &&
      e.message === "Error response from daemon: Invalid detach keys (ctrl-) provided" &&
      e.exitCode === 1,
  );
  // The wait goes out with the attach (run.ts sends both at once) and is dropped on the refusal;
  // nothing is started.
  assert.deepEqual(sent.sort(), [
    "POST /containers/create",
    `POST /containers/${ID}/attach ctrl-`,
    `POST /containers/${ID}/wait`,
  ]);
});

test("run -d --detach-keys ctrl-: the keys are never used, the id is printed", async () => {
  sent.length = 0;
  assert.equal(await invoke(["-d", "--detach-keys", "ctrl-", "busybox", "true"]), `${ID}\n`);
  assert.deepEqual(sent, ["POST /containers/create", `POST /containers/${ID}/start`]);
});
