// berth pull -a against a fake daemon: no tag sent, the name alone printed, a tag refused.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { EngineClient } from "../api/client.ts";
import { parseFlags } from "../flags/parse.ts";
import type { Io } from "./command.ts";
import command from "./pull.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-pull-"));
const socket = join(dir, "d.sock");
const seen: string[] = [];
const server = createServer((req, res) => {
  if (req.url === "/_ping") res.writeHead(200, { "API-Version": "1.50" }).end("OK");
  else {
    seen.push(req.url ?? "");
    res.end('{"status":"Pulling from library/busybox","id":"latest"}\n');
  }
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test("pull -a: every tag (no tag sent), the name alone printed last; a tagged name refused", async () => {
  await new Promise<void>((r) => server.listen(socket, r));
  let out = "";
  const sink = new Writable({
    write: (c, _e, cb) => {
      out += c.toString();
      cb();
    },
  });
  const client = new EngineClient({ host: `unix://${socket}` });
  const io = { client: () => client, out: sink, err: sink, context: { config: {} } } as unknown as Io;
  const parse = (argv: string[]) => parseFlags(argv, command.flags, { interspersed: true, command: "pull" });
  await command.run(io, parse(["-a", "busybox"]));
  assert.deepEqual(seen, ["/v1.50/images/create?fromImage=busybox"]);
  assert.match(out, /docker\.io\/library\/busybox\n$/);
  await assert.rejects(command.run(io, parse(["-a", "busybox:1"])), /tag can't be used with --all-tags\/-a/);
  assert.equal(seen.length, 1);
});
