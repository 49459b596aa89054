// The client against a fake daemon: a node:http server on a unix socket in a temp dir.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CliError, ConnectError, DaemonError } from "../errors.ts";
import { Demuxer, EngineClient, jsonLines, negotiate, parseHost, queryString } from "./client.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-client-"));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function fakeDaemon(handler: (req: IncomingMessage, res: ServerResponse) => void, apiVersion = "1.41") {
  const socket = join(dir, `d${n++}.sock`);
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url === "/_ping") {
      res.writeHead(200, { "API-Version": apiVersion, "Content-Type": "text/plain" });
      res.end("OK");
      return;
    }
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(socket, r));
  return {
    socket,
    seen,
    client: (opts: { apiVersion?: string; maxJsonBytes?: number } = {}) =>
      new EngineClient({ host: `unix://${socket}`, ...opts }),
  };
}

test("negotiation: the lower of the daemon's version and berth's; /_ping asked once", async () => {
  assert.equal(negotiate("1.41"), "1.41");
  assert.equal(negotiate("1.50"), "1.50");
  assert.equal(negotiate("1.51"), "1.50");
  assert.equal(negotiate(undefined), "1.24");
  assert.equal(negotiate("garbage"), "1.24");
  const d = await fakeDaemon((_req, res) => res.end("[]"), "1.41");
  const c = d.client();
  assert.deepEqual(await c.json("GET", "/containers/json", { query: { all: true, limit: undefined } }), []);
  await c.json("GET", "/images/json");
  assert.deepEqual(d.seen, ["GET /_ping", "GET /v1.41/containers/json?all=1", "GET /v1.41/images/json"]);
  const newer = await fakeDaemon((_req, res) => res.end("{}"), "1.52");
  await newer.client().json("GET", "/info");
  assert.deepEqual(newer.seen, ["GET /_ping", "GET /v1.50/info"]);
});

test("a pinned version (DOCKER_API_VERSION) skips /_ping", async () => {
  const d = await fakeDaemon((_req, res) => res.end("{}"));
  await d.client({ apiVersion: "1.40" }).json("GET", "/version");
  assert.deepEqual(d.seen, ["GET /v1.40/version"]);
});

test("a /_ping already made (the gated flags' check) is adopted: no second one; a pinned version stays", async () => {
  const d = await fakeDaemon((_req, res) => res.end("{}"));
  const c = d.client();
  c.adoptPing({ "api-version": "1.43", ostype: "linux" });
  await c.json("GET", "/version");
  assert.deepEqual(d.seen, ["GET /v1.43/version"]);
  assert.equal(c.ping?.ostype, "linux");
  const pinned = d.client({ apiVersion: "1.40" });
  pinned.adoptPing({ "api-version": "1.43" });
  assert.equal(await pinned.apiVersion(), "1.40");
  // A hostile version names no version docker would speak: the fallback, as from a GET /_ping.
  const odd = d.client();
  odd.adoptPing({ "api-version": "9".repeat(10_000) });
  assert.equal(await odd.apiVersion(), "1.24");
});

test('errors: {"message"} becomes docker\'s line; text bodies and empty 404s too', async () => {
  const d = await fakeDaemon((req, res) => {
    if (req.url?.includes("json-err")) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end('{"message":"No such container: x"}');
    } else if (req.url?.includes("text-err")) {
      res.writeHead(500);
      res.end("boom\n");
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  const c = d.client();
  await assert.rejects(c.json("GET", "/json-err"), (e: unknown) => {
    assert.ok(e instanceof DaemonError);
    assert.equal(e.message, "Error response from daemon: No such container: x");
    assert.equal(e.status, 404);
    assert.equal(e.exitCode, 1);
    return true;
  });
  await assert.rejects(c.json("GET", "/text-err"), /^DaemonError: Error response from daemon: boom$/);
  await assert.rejects(c.json("GET", "/other"), /Error response from daemon: page not found/);
});

test("a huge error body is read only so far", async () => {
  const d = await fakeDaemon((_req, res) => {
    res.writeHead(500);
    res.end(JSON.stringify({ message: "x".repeat(1024 * 1024) }));
  });
  await assert.rejects(
    d.client().json("GET", "/x"),
    (e: unknown) => e instanceof DaemonError && e.message.length < 70 * 1024,
  );
});

test("an oversized answer is refused, not held", async () => {
  const d = await fakeDaemon((_req, res) => {
    // An endless body: the client must stop at its bound and hang up.
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const write = () => {
      while (res.write(chunk)) {}
    };
    res.on("drain", write);
    write();
    res.on("close", () => res.removeAllListeners("drain"));
  });
  await assert.rejects(
    d.client({ maxJsonBytes: 1024 * 1024 }).json("GET", "/containers/json"),
    (e: unknown) => e instanceof CliError && /larger than 1048576 bytes/.test(e.message),
  );
});

test("no daemon: docker's one-liner with how to start berthd", async () => {
  const c = new EngineClient({ host: `unix://${join(dir, "absent.sock")}` });
  await assert.rejects(c.json("GET", "/containers/json"), (e: unknown) => {
    assert.ok(e instanceof ConnectError);
    assert.equal(e.exitCode, 1);
    assert.match(
      e.message,
      new RegExp(
        `^Cannot connect to the Docker daemon at unix://${dir}/absent.sock\\. Is berthd running\\? Start it with `,
      ),
    );
    return true;
  });
  const tcp = new EngineClient({ host: "tcp://127.0.0.1:1" });
  await assert.rejects(tcp.json("GET", "/x"), ConnectError);
});

test("a body that is not JSON is an error", async () => {
  const d = await fakeDaemon((_req, res) => res.end("<html>"));
  await assert.rejects(d.client().json("GET", "/x"), /is not JSON/);
});

test("JSON bodies are sent as application/json", async () => {
  let got = "";
  let type = "";
  const d = await fakeDaemon((req, res) => {
    type = req.headers["content-type"] ?? "";
    req.on("data", (c: Buffer) => (got += c.toString()));
    req.on("end", () => res.end('{"Id":"abc"}'));
  });
  assert.deepEqual(await d.client().json("POST", "/containers/create", { body: { Image: "busybox" } }), { Id: "abc" });
  assert.equal(got, '{"Image":"busybox"}');
  assert.equal(type, "application/json");
});

test("streams: newline-delimited JSON, a line bounded", async () => {
  const d = await fakeDaemon((req, res) => {
    if (req.url?.includes("long")) {
      res.write("x".repeat(3000));
      res.end();
      return;
    }
    res.write('{"a":1}\n{"a"');
    setTimeout(() => res.end(':2}\n\n{"a":3}'), 20);
  });
  const got: unknown[] = [];
  for await (const m of jsonLines(await d.client().stream("GET", "/events"))) got.push(m);
  assert.deepEqual(got, [{ a: 1 }, { a: 2 }, { a: 3 }]);
  await assert.rejects(async () => {
    for await (const _ of jsonLines(await d.client().stream("GET", "/long"), 1024)) {
    }
  }, /longer than 1024 bytes/);
});

test("hijack: the 101 upgrade hands back the raw socket, bytes after the answer kept", async () => {
  const d = await fakeDaemon(() => {});
  const server = servers.at(-1) as Server;
  server.on("upgrade", (req, socket) => {
    assert.equal(req.headers.upgrade, "tcp");
    socket.write("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
    socket.write(Buffer.from([1, 0, 0, 0, 0, 0, 0, 2, 0x68, 0x69]));
    socket.on("data", (c: Buffer) => socket.end(Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, c.length]), c])));
  });
  const { socket, upgraded } = await d
    .client()
    .hijack("POST", "/containers/x/attach", { query: { stream: 1, stdin: 1 } });
  assert.ok(upgraded);
  const out: string[] = [];
  const demux = new Demuxer((s, b) => out.push(`${s}:${b.toString()}`));
  socket.on("data", (c: Buffer) => demux.push(c));
  (socket as import("node:net").Socket).write("yo");
  await new Promise((r) => socket.on("end", r));
  assert.deepEqual(out, ["1:hi", "2:yo"]);
  assert.ok(demux.clean);
});

test("hijack: a JSON body (exec start) is sent as application/json, as dockerd 23+ requires", async () => {
  const d = await fakeDaemon(() => {});
  const server = servers.at(-1) as Server;
  let type: string | undefined;
  server.on("upgrade", (req, socket) => {
    type = req.headers["content-type"];
    socket.end("HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
  });
  const { socket } = await d.client().hijack("POST", "/exec/x/start", { body: { Detach: false, Tty: false } });
  socket.destroy();
  assert.equal(type, "application/json");
});

test("streams: a character split across chunks is decoded whole", async () => {
  const line = Buffer.from('{"s":"é€"}\n');
  const d = await fakeDaemon((_req, res) => {
    res.write(line.subarray(0, 7));
    setTimeout(() => res.end(line.subarray(7)), 20);
  });
  const got: unknown[] = [];
  for await (const m of jsonLines(await d.client().stream("GET", "/events"))) got.push(m);
  assert.deepEqual(got, [{ s: "é€" }]);
});

test("demuxer: frames split anywhere, a hostile length costs nothing, an unknown stream refused", () => {
  const frame = (s: number, text: string) => {
    const h = Buffer.alloc(8);
    h[0] = s;
    h.writeUInt32BE(Buffer.byteLength(text), 4);
    return Buffer.concat([h, Buffer.from(text)]);
  };
  const all = Buffer.concat([frame(1, "hello "), frame(2, "err"), frame(1, "world")]);
  for (let cut = 0; cut <= all.length; cut++) {
    const got = { 1: "", 2: "" } as Record<number, string>;
    const d = new Demuxer((s, b) => (got[s] += b.toString()));
    d.push(all.subarray(0, cut));
    d.push(all.subarray(cut));
    assert.deepEqual(got, { 1: "hello world", 2: "err" });
  }
  const big = Buffer.alloc(8);
  big[0] = 1;
  big.writeUInt32BE(0xffffffff, 4);
  const d = new Demuxer(() => {});
  d.push(Buffer.concat([big, Buffer.from("x")]));
  assert.equal(d.clean, false);
  assert.throws(() => new Demuxer(() => {}).push(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0])), /unknown stream 9/);
});

test("hosts and queries", () => {
  assert.deepEqual(parseHost("unix:///run/berth/berth.sock"), { kind: "unix", path: "/run/berth/berth.sock" });
  assert.deepEqual(parseHost("tcp://127.0.0.1"), { kind: "tcp", host: "127.0.0.1", port: 2375 });
  assert.deepEqual(parseHost("tcp://[::1]:2376"), { kind: "tcp", host: "::1", port: 2376 });
  assert.throws(() => parseHost("https://x:2376"), /TLS is not supported/);
  assert.throws(() => parseHost("ssh://u@h"), /unsupported protocol "ssh"/);
  assert.throws(() => parseHost("tcp://h:99999"), /port out of range/);
  assert.throws(() => parseHost("unix://rel.sock"), /must be absolute/);
  assert.equal(queryString({ a: true, b: false, c: "x y", d: undefined, e: 3 }), "?a=1&b=0&c=x%20y&e=3");
});
