// berth run sends the attach and the wait together, and start only once both are in place. A fake
// daemon answers the attach only after it has seen the wait (a client that waits for the attach's
// answer before sending the wait hangs here), and records the order start came in.
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCliCommand } from "../../../test/helpers/cli-command.ts";
import { CliExit } from "../errors.ts";
import run from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-run-overlap-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Fake {
  socket: string;
  events: string[];
  close(): void;
}

/** A daemon for one `run`: the attach is answered once the wait has arrived (or never). */
async function fakeDaemon(name: string, opts: { attachStatus?: number; waitStatus?: number } = {}): Promise<Fake> {
  const socket = join(dir, `${name}.sock`);
  const events: string[] = [];
  let sawWait: () => void = () => {};
  const waitArrived = new Promise<void>((r) => {
    sawWait = r;
  });
  let waitRes: ServerResponse | undefined;
  let attached: Socket | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "").replace(/^\/v[0-9.]+/, "").replace(/\?.*$/, "");
    events.push(`${req.method} ${path}`);
    req.resume();
    if (path === "/_ping") {
      res.writeHead(200, { "Api-Version": "1.50" }).end("OK");
    } else if (path === "/containers/create") {
      res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify({ Id: "c1", Warnings: [] }));
    } else if (path === "/containers/c1/wait") {
      sawWait();
      if (opts.waitStatus) {
        res.writeHead(opts.waitStatus, { "Content-Type": "application/json" }).end('{"message":"wait refused"}');
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      waitRes = res;
    } else if (path === "/containers/c1/start") {
      res.writeHead(204).end();
      // The container ran and exited 3: the output ends, then the wait's answer.
      attached?.end(Buffer.from([1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]));
      waitRes?.end(JSON.stringify({ StatusCode: 3 }));
    } else {
      res.writeHead(404).end();
    }
  });
  server.on("upgrade", (req: IncomingMessage, s: Socket) => {
    events.push(`${req.method} ${(req.url ?? "").replace(/^\/v[0-9.]+/, "").replace(/\?.*$/, "")}`);
    s.on("error", () => {});
    waitArrived.then(() => {
      events.push("attach answered");
      if (opts.attachStatus) {
        s.end(
          `HTTP/1.1 ${opts.attachStatus} Nope\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r\n{"message":"attach refused"}\n`,
        );
        return;
      }
      s.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
      attached = s;
    });
  });
  server.listen(socket);
  await once(server, "listening");
  return {
    socket,
    events,
    close: () => {
      attached?.destroy();
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The command's end: "ok", what it threw, or "hung" after 5 s. */
async function runAgainst(f: Fake, argv: string[]): Promise<unknown> {
  return Promise.race([
    runCliCommand(run, { host: `unix://${f.socket}`, name: "run", argv }).then(
      () => "ok",
      (e: unknown) => e,
    ),
    new Promise((r) => setTimeout(() => r("hung"), 5000).unref()),
  ]);
}

test("run: the wait is sent before the attach is answered, start after both", async () => {
  const f = await fakeDaemon("ok");
  try {
    const result = await runAgainst(f, ["--rm", "busybox", "true"]);
    assert.ok(result instanceof CliExit, `run ended with ${String(result)}`);
    assert.equal((result as CliExit).code, 3);
    const attach = f.events.indexOf("POST /containers/c1/attach");
    const wait = f.events.indexOf("POST /containers/c1/wait");
    const answered = f.events.indexOf("attach answered");
    const start = f.events.indexOf("POST /containers/c1/start");
    assert.ok(attach >= 0 && wait >= 0, f.events.join(", "));
    assert.ok(wait < answered, `the wait came after the attach's answer: ${f.events.join(", ")}`);
    assert.ok(start > answered && start > wait, `start came too early: ${f.events.join(", ")}`);
  } finally {
    f.close();
  }
});

test("run: an attach refused wins over the wait (exit 1 error, not 125), and nothing is started", async () => {
  const f = await fakeDaemon("attach-refused", { attachStatus: 409 });
  try {
    const result = await runAgainst(f, ["--rm", "busybox", "true"]);
    assert.ok(result instanceof Error, `run ended with ${String(result)}`);
    assert.match((result as Error).message, /attach refused/);
    assert.equal((result as { exitCode?: number }).exitCode, 1);
    assert.ok(!f.events.includes("POST /containers/c1/start"), f.events.join(", "));
  } finally {
    f.close();
  }
});

test("run: a wait refused is a 125 error and nothing is started", async () => {
  const f = await fakeDaemon("wait-refused", { waitStatus: 500 });
  try {
    const result = await runAgainst(f, ["busybox", "true"]);
    assert.ok(result instanceof Error, `run ended with ${String(result)}`);
    assert.match((result as Error).message, /wait refused/);
    assert.equal((result as { exitCode?: number }).exitCode, 125);
    assert.ok(!f.events.includes("POST /containers/c1/start"), f.events.join(", "));
  } finally {
    f.close();
  }
});
