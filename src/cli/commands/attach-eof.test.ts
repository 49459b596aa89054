// An attach without stdin half-closes at once, as docker's does: the daemon sees the client's EOF
// before the container's output ends (berthd held a --rm container's removal ~400 ms without it).
import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { runSession } from "./attach-session.ts";
import type { Io } from "./command.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-attach-eof-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("runSession without stdin: the daemon side sees EOF first, then ends the output", async () => {
  const socket = join(dir, "d.sock");
  const events: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (s: Socket) => {
    s.on("end", () => {
      events.push("client EOF");
      // The daemon's side: the output (a multiplexed "hi\n" on stdout), then its own end.
      s.end(Buffer.from([1, 0, 0, 0, 0, 0, 0, 3, 0x68, 0x69, 0x0a]));
    });
    s.resume();
  });
  server.listen(socket);
  await once(server, "listening");
  const conn = createConnection({ path: socket, allowHalfOpen: true });
  try {
    await once(conn, "connect");
    let out = "";
    const sink = new Writable({
      write: (c, _e, cb) => {
        out += c.toString();
        cb();
      },
    });
    const io = { out: sink, err: sink } as unknown as Io;
    const end = await Promise.race([
      runSession(io, conn, { tty: false, stdin: false }),
      new Promise((r) => setTimeout(() => r("hung"), 3000).unref()),
    ]);
    assert.deepEqual(end, { detached: false });
    assert.deepEqual(events, ["client EOF"]);
    assert.equal(out, "hi\n");
  } finally {
    conn.destroy();
    server.close();
  }
});
