// A daemon that answers before it has read the whole body (load/import/cp of a stream it refuses)
// and closes: the client's write fails (EPIPE/ECONNRESET) while the answer is on its way, and the
// user must see the daemon's words, not "error during connect ...: write EPIPE".
import assert from "node:assert/strict";
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CliError, DaemonError } from "../errors.ts";
import { EngineClient } from "./client.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-early-"));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const REFUSAL = "unexpected EOF while reading the archive: refused here";

/** Answers /_ping; anything else gets a 400 once 1 KiB of its body is in, then the connection is closed. */
async function refusingDaemon(): Promise<string> {
  const path = join(dir, `d${servers.length}.sock`);
  const server = createServer((sock) => {
    let got = Buffer.alloc(0);
    let answered = false;
    sock.on("error", () => {});
    sock.on("data", (c: Buffer) => {
      if (answered) return;
      got = Buffer.concat([got, c]);
      const end = got.indexOf("\r\n\r\n");
      if (end < 0) return;
      if (got.subarray(0, end).toString().includes("/_ping")) {
        answered = true;
        sock.end("HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
        return;
      }
      if (got.length - end - 4 < 1024) return;
      answered = true;
      const body = JSON.stringify({ message: REFUSAL });
      sock.write(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      // Closed with the rest of the body unread, as a daemon that gives up on a request does.
      sock.destroy();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return path;
}

test("an upload the daemon refuses early reports the daemon's answer, every time", async () => {
  const socket = await refusingDaemon();
  const file = join(dir, "big.tar");
  writeFileSync(file, Buffer.alloc(16 * 1024 * 1024, 7));
  const outcomes: string[] = [];
  for (let i = 0; i < 10; i++) {
    const client = new EngineClient({ host: `unix://${socket}` });
    const body = createReadStream(file);
    try {
      await client.request("POST", "/images/load", { body, headers: { "Content-Type": "application/x-tar" } });
      outcomes.push("no error");
    } catch (e) {
      if (e instanceof DaemonError) outcomes.push(`${e.status} ${e.daemonMessage}`);
      else if (e instanceof CliError) outcomes.push(e.message);
      else throw e;
    } finally {
      body.destroy();
    }
  }
  assert.deepEqual(outcomes, Array(10).fill(`400 ${REFUSAL}`));
});

test("a daemon that closes without answering still fails the upload (no hang)", async () => {
  const path = join(dir, "mute.sock");
  const server = createServer((sock) => {
    sock.on("error", () => {});
    sock.once("data", () => sock.destroy());
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  const client = new EngineClient({ host: `unix://${path}`, apiVersion: "1.41" });
  const file = join(dir, "big2.tar");
  writeFileSync(file, Buffer.alloc(16 * 1024 * 1024, 7));
  const body = createReadStream(file);
  await assert.rejects(client.request("POST", "/images/load", { body }), (e: Error) => {
    assert.ok(e instanceof CliError && !(e instanceof DaemonError), String(e));
    assert.match(
      e.message,
      /^error during connect to unix:\/\/.*: (write EPIPE|.*ECONNRESET|socket hang up|read ECONNRESET)/,
    );
    return true;
  });
  body.destroy();
});
