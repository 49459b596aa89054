// http1.ts against hostile daemons: a node:net server on a unix socket that writes raw bytes. Each
// answer must be read within its bounds, refused as malformed naming the request, or ended; none
// may hang or grow without bound. And what the client writes: framing as docker and node:http do.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, test } from "node:test";
import { CliError, DaemonError } from "../errors.ts";
import { EngineClient, readBounded } from "./client.ts";
import { chunkSize, MAX_HEAD_BYTES, MalformedAnswer, parseHead } from "./http1.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-http1-"));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A daemon that, once a request's head (and `bodyBytes` of its body) is in, calls `answer` with it. */
async function rawDaemon(answer: (sock: Socket, request: Buffer) => void, bodyBytes = 0) {
  const path = join(dir, `d${servers.length}.sock`);
  const requests: Buffer[] = [];
  const server = createServer((sock) => {
    let got = Buffer.alloc(0);
    let answered = false;
    sock.on("error", () => {});
    sock.on("data", (c: Buffer) => {
      got = Buffer.concat([got, c]);
      const end = got.indexOf("\r\n\r\n");
      if (answered || end < 0 || got.length - end - 4 < bodyBytes) return;
      answered = true;
      requests.push(got);
      answer(sock, got);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return { client: new EngineClient({ host: `unix://${path}`, apiVersion: "1.41" }), requests };
}

const malformed = (what: RegExp) => (e: unknown) => {
  assert.ok(e instanceof CliError && !(e instanceof DaemonError), String(e));
  assert.match(e.message, /^the daemon's answer to GET \/x is malformed: /);
  assert.match(e.message, what);
  return true;
};

test("a head that never ends is refused at 64 KiB, not held", async () => {
  const { client } = await rawDaemon((sock) => {
    sock.write("HTTP/1.1 200 OK\r\n");
    // Keeps writing one endless header; the client must give up without waiting for the close.
    const line = Buffer.alloc(16 * 1024, "a");
    const timer = setInterval(() => sock.writable && sock.write(line), 1);
    sock.on("close", () => clearInterval(timer));
  });
  await assert.rejects(client.request("GET", "/x"), malformed(/head longer than 65536 bytes/));
});

test("more than 100 headers are refused; a folded header line too", async () => {
  const many = Array.from({ length: 101 }, (_, i) => `X-H${i}: v\r\n`).join("");
  const { client } = await rawDaemon((sock) => sock.end(`HTTP/1.1 200 OK\r\n${many}Content-Length: 0\r\n\r\n`));
  await assert.rejects(client.request("GET", "/x"), malformed(/more than 100 headers/));
  const folded = await rawDaemon((sock) =>
    sock.end("HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n"),
  );
  await assert.rejects(folded.client.request("GET", "/x"), malformed(/folded header line/));
  const exactly100 = Array.from({ length: 99 }, (_, i) => `X-H${i}: v\r\n`).join("");
  const ok = await rawDaemon((sock) => sock.end(`HTTP/1.1 200 OK\r\n${exactly100}Content-Length: 2\r\n\r\n{}`));
  assert.deepEqual(await ok.client.json("GET", "/x"), {});
});

test("bad status lines, header lines and framing are refused", async () => {
  for (const [head, what] of [
    ["HTTP/2 200 OK", /bad status line/],
    ["HTTP/1.1 99 Low", /bad status line/],
    ["HTTP/1.1 200 OK\r\nNo colon here", /bad header line/],
    ["HTTP/1.1 200 OK\r\nBad Name: v", /bad header line/],
    ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3", /two different Content-Length/],
    ["HTTP/1.1 200 OK\r\nContent-Length: -1", /bad Content-Length/],
    ["HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999", /bad Content-Length/],
    ["HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked", /both Transfer-Encoding and Content-Length/],
    ["HTTP/1.1 101 Switching Protocols\r\nUpgrade: tcp", /101 Switching Protocols to a request that asked for none/],
  ] as const) {
    const { client } = await rawDaemon((sock) => sock.end(`${head}\r\n\r\n{}`));
    await assert.rejects(client.request("GET", "/x"), malformed(what));
  }
  const cut = await rawDaemon((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-"));
  await assert.rejects(cut.client.request("GET", "/x"), malformed(/ended inside its head/));
});

test("chunk sizes: not hex, past 2^53, or a size line without end are refused", async () => {
  for (const [body, what] of [
    ["zz\r\nab\r\n0\r\n\r\n", /bad chunk size/],
    ["-1\r\n", /bad chunk size/],
    ["20000000000000\r\n", /chunk size too large/],
    [`${"f".repeat(40)}\r\n`, /chunk size too large/],
    [`1;${"e".repeat(8192)}`, /chunk size line longer than 4096 bytes/],
    ["2\r\nabc\r\n0\r\n\r\n", /chunk longer than its size/],
  ] as const) {
    const { client } = await rawDaemon((sock) =>
      sock.end(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`),
    );
    await assert.rejects(client.request("GET", "/x"), (e: unknown) => {
      assert.ok(e instanceof CliError, String(e));
      assert.match(e.message, /^reading the answer to GET \/x: /);
      assert.match(e.message, what);
      return true;
    });
  }
  assert.equal(chunkSize("1fffffffffffff"), Number.MAX_SAFE_INTEGER);
  assert.equal(chunkSize("0000000000000000000a;name=value"), 10);
  assert.throws(() => chunkSize(""), MalformedAnswer);
});

test("a chunked body: extensions and trailers skipped; cut short it is an error, not a short answer", async () => {
  const { client } = await rawDaemon((sock) =>
    sock.end(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\n[1,\r\n2 \r\n2]\r\n0\r\nX-Trailer: t\r\n\r\nGARBAGE",
    ),
  );
  assert.deepEqual(await client.json("GET", "/x"), [1, 2]);
  const cut = await rawDaemon((sock) => sock.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1,2"));
  await assert.rejects(cut.client.request("GET", "/x"), /reading the answer to GET \/x: the answer ended early/);
  const noEnd = await rawDaemon((sock) => sock.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n"));
  await assert.rejects(noEnd.client.request("GET", "/x"), /the answer ended early/);
  const endlessTrailers = await rawDaemon((sock) => {
    sock.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n");
    const timer = setInterval(
      () => sock.writable && sock.write("X-T: vvvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n".repeat(100)),
      1,
    );
    sock.on("close", () => clearInterval(timer));
  });
  await assert.rejects(endlessTrailers.client.request("GET", "/x"), /more than 100 trailers|trailers longer/);
});

test("Content-Length: the body is that long; more is dropped, less is an error", async () => {
  const { client } = await rawDaemon((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}EXTRA BYTES"));
  const a = await client.request("GET", "/x");
  assert.equal(a.body.toString(), "{}");
  // The daemon keeps the connection open past the body: the answer still ends at its length.
  const open = await rawDaemon((sock) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}more"));
  assert.equal((await open.client.request("GET", "/x")).body.toString(), "{}");
  const short = await rawDaemon((sock) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"));
  await assert.rejects(short.client.request("GET", "/x"), /reading the answer to GET \/x: the answer ended early/);
});

test("no body for HEAD, 204 and 304 (even with a length, on a connection left open); 1xx skipped; to the close without framing", async () => {
  const noBody = await rawDaemon((sock, req) => {
    const status = req.toString().startsWith("HEAD")
      ? "200 OK"
      : req.includes("/n304")
        ? "304 Not Modified"
        : "204 No Content";
    sock.write(`HTTP/1.1 ${status}\r\nContent-Length: 5\r\nApi-Version: 1.41\r\n\r\n`);
  });
  for (const [m, p] of [
    ["HEAD", "/x"],
    ["GET", "/n204"],
    ["GET", "/n304"],
  ] as const) {
    const a = await noBody.client.request(m, p);
    assert.equal(a.body.length, 0);
  }
  const interim = await rawDaemon((sock) =>
    sock.end("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ntrue"),
  );
  assert.equal(await interim.client.json("GET", "/x"), true);
  const toClose = await rawDaemon((sock) =>
    sock.end("HTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\nSet-Cookie: a\r\n\r\n[3]"),
  );
  const a = await toClose.client.request("GET", "/x");
  assert.equal(a.body.toString(), "[3]");
  assert.equal(a.headers["x-a"], "1, 2");
  assert.deepEqual(a.headers["set-cookie"], ["a"]);
});

test("a 101 hands the socket over with the bytes after the head put back in front", async () => {
  const { client, requests } = await rawDaemon((sock) => {
    sock.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nfirst");
    setTimeout(() => sock.end("-then"), 20);
  });
  const { socket, upgraded } = await client.hijack("POST", "/containers/c/attach", { query: { stream: 1 } });
  assert.equal(upgraded, true);
  const got: Buffer[] = [];
  // Listened to a while later, as a session set up after the answer does: nothing lost.
  await new Promise((r) => setTimeout(r, 50));
  await new Promise<void>((r) => {
    socket.on("data", (c: Buffer) => got.push(c));
    socket.on("end", r);
  });
  assert.equal(Buffer.concat(got).toString(), "first-then");
  const head = (requests[0] as Buffer).toString();
  assert.match(head, /^POST \/v1\.41\/containers\/c\/attach\?stream=1 HTTP\/1\.1\r\n/);
  assert.match(head, /\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n/);
  assert.match(head, /\r\nContent-Length: 0\r\n/);
});

test("what the client sends: Host and User-Agent, JSON and Buffer bodies sized, a stream chunked, one request a connection", async () => {
  const answer = (sock: Socket) => sock.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  const d = await rawDaemon(answer);
  await d.client.request("GET", "/x");
  await d.client.request("POST", "/json", { body: { A: "é" } });
  await d.client.request("POST", "/buf", {
    body: Buffer.from("raw"),
    headers: { "Content-Type": "application/x-tar" },
  });
  const [get, json, buf] = d.requests.map((r) => r.toString());
  assert.equal(
    get,
    "GET /v1.41/x HTTP/1.1\r\nUser-Agent: berth-cli\r\nHost: api.moby.localhost\r\nConnection: close\r\n\r\n",
  );
  assert.match(json as string, /\r\nContent-Type: application\/json\r\n/);
  // é is two bytes: the length counts bytes.
  assert.match(json as string, /\r\nContent-Length: 10\r\n/);
  assert.ok((json as string).endsWith('\r\n\r\n{"A":"é"}'));
  assert.match(buf as string, /\r\nContent-Type: application\/x-tar\r\n.*\r\nContent-Length: 3\r\n.*\r\n\r\nraw$/s);
  // A stream: chunked, every chunk framed, the last one empty; the daemon answers once it is all in.
  const chunked = await rawDaemon((sock, req) => {
    const body = req.subarray(req.indexOf("\r\n\r\n") + 4).toString();
    if (body.endsWith("0\r\n\r\n")) answer(sock);
    else sock.on("data", () => sock.writable && answer(sock));
  }, 1);
  const stream = Readable.from([Buffer.from("ab"), Buffer.alloc(0), Buffer.from("cde")], { objectMode: false });
  await chunked.client.request("POST", "/images/load", { body: stream });
  const raw = (chunked.requests[0] as Buffer).toString();
  assert.match(raw, /\r\nTransfer-Encoding: chunked\r\n/);
  assert.doesNotMatch(raw, /Content-Length/);
  assert.equal(raw.slice(raw.indexOf("\r\n\r\n") + 4).slice(0, 4), "2\r\na");
  await assert.rejects(d.client.request("GET", "/x y"), /unescaped characters/);
  await assert.rejects(
    d.client.request("GET", "/x", { headers: { "X-A": "a\r\nInjected: 1" } }),
    /header X-A is invalid/,
  );
});

test("an answer that comes and closes in the middle of an upload is the daemon's answer", async () => {
  const { client } = await rawDaemon((sock) => {
    sock.write(
      'HTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{"message":"in use!"}',
    );
    sock.destroy();
  }, 1);
  // An endless body: only the daemon's answer can end this request.
  const endless = new Readable({
    read() {
      this.push(Buffer.alloc(64 * 1024, 1));
    },
  });
  await assert.rejects(client.request("POST", "/containers/c/archive", { body: endless }), (e: unknown) => {
    assert.ok(e instanceof DaemonError, String(e));
    assert.equal(e.message, "Error response from daemon: in use!");
    return true;
  });
  endless.destroy();
});

test("parseHead's bounds by themselves", () => {
  assert.equal(MAX_HEAD_BYTES, 64 * 1024);
  assert.throws(() => parseHead("HTTP/1.1 200 OK\r\nX: a\x00b"), /bad value of header x/);
  assert.deepEqual(parseHead("HTTP/1.1 404 \r\nA:  b \t").headers, { a: "b" });
  assert.equal(parseHead("HTTP/1.0 200").status, 200);
});

test("a stream read slowly holds no more than the socket's own buffers", async () => {
  const total = 8 * 1024 * 1024;
  const { client } = await rawDaemon((sock) => {
    sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
    const block = Buffer.alloc(64 * 1024, 2);
    let sent = 0;
    const more = () => {
      while (sent < total) {
        sent += block.length;
        if (!sock.write(block)) return void sock.once("drain", more);
      }
      sock.end();
    };
    more();
  });
  const res = await client.stream("GET", "/x");
  await new Promise((r) => setTimeout(r, 100));
  // Nobody read it yet: the response holds at most about its high-water mark and one chunk.
  assert.ok(res.readableLength < 1024 * 1024, `buffered ${res.readableLength}`);
  const body = await readBounded(res, total, "GET /x");
  assert.equal(body.length, total);
});

test("an answer that comes a few bytes at a time: head, chunk lines and CRLFs split anywhere", async () => {
  const answer = Buffer.from(
    "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[1,2\r\n1;x=y\r\n]\r\n0\r\nT: 1\r\n\r\n",
  );
  for (const step of [1, 2, 3, 5]) {
    const { client } = await rawDaemon(async (sock) => {
      for (let i = 0; i < answer.length; i += step) {
        sock.write(answer.subarray(i, i + step));
        await new Promise((r) => setTimeout(r, 1));
      }
      sock.end();
    });
    assert.deepEqual(await client.json("GET", "/x"), [1, 2], `${step} bytes at a time`);
  }
});
