// The detach keys the daemon is told by run, start -a, attach and exec, against a fake daemon:
// docker's (the flag, else config.json's detachKeys, else none). The daemon watches for them too.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, test } from "node:test";
import { EngineClient } from "../api/client.ts";
import { parseFlags } from "../flags/parse.ts";
import type { Command, Io } from "./command.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-attach-"));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A daemon with one container "abc" that exits 0; returns what each attach and exec asked. */
async function fakeDaemon(): Promise<{ host: string; attaches: URLSearchParams[]; execs: unknown[] }> {
  const socket = join(dir, `d${servers.length}.sock`);
  const attaches: URLSearchParams[] = [];
  const execs: unknown[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const p = url.pathname.replace(/^\/v[\d.]+/, "");
      if (p === "/_ping") res.writeHead(200, { "API-Version": "1.50" }).end("OK");
      else if (p === "/containers/create") res.end('{"Id":"abc"}');
      else if (p === "/containers/abc/json") res.end('{"Id":"abc","Config":{},"State":{"Running":true}}');
      else if (p.endsWith("/wait")) res.end('{"StatusCode":0}');
      else if (p === "/containers/abc/exec") {
        execs.push(JSON.parse(body));
        res.end('{"Id":"e1"}');
      } else if (p === "/exec/e1/json") res.end('{"ExitCode":0}');
      else res.writeHead(204).end();
    });
  });
  server.on("upgrade", (req, sock) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.endsWith("/attach")) attaches.push(url.searchParams);
    sock.end("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socket, r));
  return { host: `unix://${socket}`, attaches, execs };
}

async function runCommand(host: string, file: string, argv: string[], config: Record<string, unknown>) {
  const cmd = ((await import(file)) as { default: Command }).default;
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const client = new EngineClient({ host });
  const io: Io = {
    client: () => client,
    out: sink,
    err: sink,
    name: "x",
    context: { host, context: "default", configDir: dir, config, warnings: [] },
  };
  await cmd.run(io, parseFlags(argv, cmd.flags, { interspersed: cmd.interspersed ?? true, command: "x" }));
}

test("run, start -a, attach and exec tell the daemon the flag's keys, else the config's, else none", async () => {
  const d = await fakeDaemon();
  await runCommand(d.host, "./run.ts", ["--detach-keys", "ctrl-x", "busybox"], { detachKeys: "ctrl-y" });
  await runCommand(d.host, "./run.ts", ["busybox"], { detachKeys: "ctrl-y" });
  await runCommand(d.host, "./run.ts", ["busybox"], {});
  await runCommand(d.host, "./start-attach.ts", ["-a", "abc"], { detachKeys: "ctrl-y" });
  await runCommand(d.host, "./attach.ts", ["--no-stdin", "abc"], { detachKeys: "ctrl-y" });
  assert.deepEqual(
    d.attaches.map((q) => q.get("detachKeys")),
    ["ctrl-x", "ctrl-y", null, "ctrl-y", "ctrl-y"],
  );
  await runCommand(d.host, "./exec.ts", ["abc", "true"], { detachKeys: "ctrl-y" });
  assert.equal((d.execs[0] as { DetachKeys: string }).DetachKeys, "ctrl-y");
});

test("a connection the daemon ended before the session began ends the session (no hang)", async () => {
  const { runSession } = await import("./attach-session.ts");
  const conn = Readable.from([]);
  conn.resume();
  await once(conn, "close");
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const io = { out: sink, err: sink } as unknown as Io;
  const end = await Promise.race([
    runSession(io, conn, { tty: false, stdin: false }),
    new Promise((r) => setTimeout(() => r("hung"), 2000).unref()),
  ]);
  assert.deepEqual(end, { detached: false });
});
