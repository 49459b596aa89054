import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { FailedPreconditionError, NotFoundError } from "../../common/errors.ts";
import { DaemonLogger } from "../../common/log.ts";
import { DISCARD_LIMIT } from "./body.ts";
import { MULTIPLEXED_STREAM, RAW_STREAM } from "./hijack.ts";
import { ApiServer } from "./server.ts";
import { decodeFrames, encodeFrame, STDOUT } from "./stdcopy.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-api-"));
const socketPath = join(dir, "api.sock");
const logged: string[] = [];
const api = new ApiServer(new DaemonLogger("info", {}, (l) => logged.push(l)), {
  server: "Berth/test (linux)",
  experimental: false,
});

api
  .route("GET", "/_ping", () => ({ headers: { "Cache-Control": "no-cache" }, text: "OK" }))
  .route("HEAD", "/_ping", () => ({ text: "OK" }))
  .route("GET", "/echo/{name}", (ctx) => ({
    json: { name: ctx.params.name, version: ctx.version, all: ctx.query.get("all") },
  }))
  .route("GET", "/missing/{name}", (ctx) => {
    throw new NotFoundError(`No such container: ${ctx.params.name}`);
  })
  .route("POST", "/conflict", () => {
    throw new FailedPreconditionError("container is not running");
  })
  .route("GET", "/crash", () => {
    throw new TypeError("cannot read properties of undefined");
  })
  .route("GET", "/crash-async", async () => {
    await new Promise((r) => setTimeout(r, 1));
    throw "not even an Error";
  })
  .route("POST", "/json", async (ctx) => ({ status: 201, json: { got: await ctx.readJson() } }))
  .route("POST", "/small", async (ctx) => ({ json: { bytes: (await ctx.readBody()).length } }), { bodyLimit: 16 })
  .route("POST", "/firehose", (ctx) => {
    // Writes until the client is gone; its errors (EPIPE, reset) must not take the server down.
    const stream = ctx.hijack(RAW_STREAM);
    const timer = setInterval(() => stream.write(Buffer.alloc(64 << 10, 120)), 1);
    stream.once("close", () => clearInterval(timer));
    return undefined;
  })
  .route(
    "POST",
    "/exec-start",
    async (ctx) => {
      // exec start: its options are a body on an upgraded connection, then the stream.
      const opts = await ctx.readJson();
      const stream = ctx.hijack(RAW_STREAM);
      stream.write(`${JSON.stringify(opts)}\n`);
      stream.on("data", (c: Buffer) => stream.write(c));
      stream.on("end", () => stream.end());
      return undefined;
    },
    { bodyLimit: 64 },
  )
  .route("POST", "/attach", (ctx) => {
    const tty = ctx.query.get("tty") === "1";
    const stream = ctx.hijack(tty ? RAW_STREAM : MULTIPLEXED_STREAM);
    stream.write(tty ? "hello\n" : encodeFrame(STDOUT, "hello\n"));
    // Echo what the client sends until it closes its side, then end ours.
    stream.on("data", (c: Buffer) => stream.write(tty ? c : encodeFrame(STDOUT, c)));
    stream.on("end", () => stream.end());
    return undefined;
  });

before(async () => {
  const server = api.createHttpServer();
  await new Promise<void>((r) => server.listen(socketPath, r));
});

after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers }, (res) => {
      let data = "";
      res.on("data", (c: Buffer) => {
        data += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Writes raw bytes on a fresh connection and collects everything until the server closes it. */
function raw(bytes: string | Buffer, opts: { endAfter?: string | Buffer } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = connect(socketPath);
    const got: Buffer[] = [];
    c.on("data", (d: Buffer) => got.push(d));
    c.on("error", reject);
    c.on("close", () => resolve(Buffer.concat(got)));
    c.write(bytes);
    if (opts.endAfter !== undefined) c.end(opts.endAfter);
  });
}

test("a route answers with dockerd's headers, with and without a version prefix", async () => {
  const a = await call("GET", "/v1.41/echo/web?all=1");
  assert.equal(a.status, 200);
  assert.deepEqual(JSON.parse(a.body), { name: "web", version: "1.41", all: "1" });
  assert.equal(a.headers["content-type"], "application/json");
  assert.equal(a.headers["api-version"], "1.50");
  assert.equal(a.headers.ostype, "linux");
  assert.equal(a.headers["docker-experimental"], "false");
  assert.equal(a.headers.server, "Berth/test (linux)");
  const b = await call("GET", "/echo/web");
  assert.equal(JSON.parse(b.body).version, "1.50");
});

test("HEAD answers the headers only", async () => {
  const a = await call("HEAD", "/_ping");
  assert.equal(a.status, 200);
  assert.equal(a.body, "");
  assert.equal(a.headers["content-type"], "text/plain; charset=utf-8");
});

test("unknown paths and methods are 404 page not found, without the API headers (as dockerd)", async () => {
  for (const [method, path] of [
    ["GET", "/nope"],
    ["GET", "/v1.99/nope"],
    ["POST", "/_ping"],
    ["PUT", "/echo/x"],
  ]) {
    const a = await call(method!, path!);
    assert.equal(a.status, 404, `${method} ${path}`);
    assert.equal(a.body, '{"message":"page not found"}\n');
    assert.equal(a.headers["content-type"], "application/json");
    assert.equal(a.headers["api-version"], undefined);
  }
});

test("versions out of range are 400 with dockerd's message", async () => {
  const a = await call("GET", "/v1.99/echo/x");
  assert.equal(a.status, 400);
  assert.deepEqual(JSON.parse(a.body), {
    message: "client version 1.99 is too new. Maximum supported API version is 1.50",
  });
  assert.equal(a.headers["api-version"], "1.50");
  const b = await call("GET", "/v1.12/echo/x");
  assert.equal(b.status, 400);
  assert.match(JSON.parse(b.body).message, /^client version 1.12 is too old. Minimum supported API version is 1.24/);
});

test("paths that are not clean are redirected with 301, keeping the query", async () => {
  const a = await call("GET", "/v1.41//echo/x?all=1");
  assert.equal(a.status, 301);
  assert.equal(a.headers.location, "/v1.41/echo/x?all=1");
  const b = await call("GET", "/echo/../_ping");
  assert.equal(b.headers.location, "/_ping");
});

test("typed errors become their status; anything else is a 500 and the server serves on", async () => {
  const nf = await call("GET", "/missing/db");
  assert.equal(nf.status, 404);
  assert.equal(nf.body, '{"message":"No such container: db"}\n');
  assert.equal((await call("POST", "/conflict")).status, 409);
  const crash = await call("GET", "/crash");
  assert.equal(crash.status, 500);
  assert.deepEqual(JSON.parse(crash.body), { message: "cannot read properties of undefined" });
  const crash2 = await call("GET", "/crash-async");
  assert.equal(crash2.status, 500);
  assert.deepEqual(JSON.parse(crash2.body), { message: "not even an Error" });
  assert.ok(logged.some((l) => l.includes("api request failed") && l.includes("/crash")));
  assert.equal((await call("GET", "/_ping")).body, "OK");
});

test("JSON bodies: decoded once, malformed or mistyped content refused 400", async () => {
  const ok = await call("POST", "/json", '{"Image":"busybox"}', { "Content-Type": "application/json" });
  assert.equal(ok.status, 201);
  assert.deepEqual(JSON.parse(ok.body), { got: { Image: "busybox" } });
  const none = await call("POST", "/json");
  assert.deepEqual(JSON.parse(none.body), {});
  const bad = await call("POST", "/json", "{bad", { "Content-Type": "application/json" });
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).message, /^invalid JSON: /);
  const ct = await call("POST", "/json", "{}", { "Content-Type": "text/plain" });
  assert.equal(ct.status, 400);
  assert.match(JSON.parse(ct.body).message, /must be 'application\/json'/);
});

test("bodies past the route's limit are 413; a client still sending reads it; a staller is cut off", async () => {
  assert.deepEqual(JSON.parse((await call("POST", "/small", "x".repeat(16))).body), { bytes: 16 });
  const big = await call("POST", "/small", "x".repeat(17));
  assert.equal(big.status, 413);
  assert.deepEqual(JSON.parse(big.body), { message: "request body too large: the limit is 16 bytes" });
  // Far past the limit, with a length: the client, still sending, reads the 413 (not a reset).
  const far = await call("POST", "/small", Buffer.alloc(4 << 20, 120));
  assert.equal(far.status, 413);
  // The default limit (1 MiB) on a JSON route, sent chunked with no length and never finished:
  // answered at once, and the connection closed once the discard time is up.
  const started = Date.now();
  const huge = await raw(
    `POST /json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n${" ".repeat(0x100000)}\r\n10\r\n${" ".repeat(16)}\r\n`,
  );
  assert.match(huge.toString(), /^HTTP\/1.1 413 /);
  assert.match(huge.toString(), /request body too large/);
  const took = Date.now() - started;
  assert.ok(took >= DISCARD_LIMIT.ms - 100 && took < DISCARD_LIMIT.ms + 2_000, `closed after ${took} ms`);
  // The server serves on.
  assert.equal((await call("GET", "/_ping")).body, "OK");
});

test("an upgraded attach: 101 UPGRADED, then frames out and raw bytes in, both ways", async () => {
  const out = await raw(
    "POST /v1.50/attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\nstdin1",
    { endAfter: "stdin2" },
  );
  const text = out.toString("latin1");
  const headEnd = text.indexOf("\r\n\r\n") + 4;
  const head = text.slice(0, headEnd);
  assert.match(head, /^HTTP\/1.1 101 UPGRADED\r\n/);
  assert.match(head, /Content-Type: application\/vnd.docker.multiplexed-stream\r\n/);
  assert.match(head, /Upgrade: tcp\r\n/);
  const frames = decodeFrames(out.subarray(headEnd));
  assert.equal(frames.map((f) => f.payload.toString()).join(""), "hello\nstdin1stdin2");
  assert.ok(frames.every((f) => f.stream === STDOUT));
});

test("an upgraded request's body is taken off the stream: in the head's bytes, or arriving later", async () => {
  const up = "POST /exec-start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n";
  const body = '{"Detach":false,"Tty":true}';
  const stream = (out: Buffer) => out.toString().slice(out.toString().indexOf("\r\n\r\n") + 4);
  const whole = await raw(`${up}Content-Length: ${body.length}\r\n\r\n${body}stdin1`, { endAfter: "stdin2" });
  assert.match(whole.toString(), /^HTTP\/1.1 101 UPGRADED\r\n/);
  assert.equal(stream(whole), `${body}\nstdin1stdin2`, "the body is not stdin");
  // The body split across writes: the stream waits for all of it.
  const split = await new Promise<Buffer>((resolve, reject) => {
    const c = connect(socketPath);
    const got: Buffer[] = [];
    c.on("data", (d: Buffer) => got.push(d));
    c.on("error", reject);
    c.on("close", () => resolve(Buffer.concat(got)));
    c.write(`${up}Content-Length: ${body.length}\r\n\r\n${body.slice(0, 7)}`);
    setTimeout(() => c.write(body.slice(7, 15)), 50);
    setTimeout(() => c.end(`${body.slice(15)}in`), 100);
  });
  assert.equal(stream(split), `${body}\nin`);
  // No body at all: no options (readJson gives undefined), the stream is all stdin.
  assert.equal(stream(await raw(`${up}\r\n`, { endAfter: "x" })), "undefined\nx");
});

test("an upgraded request's body is bounded and must have a length", async () => {
  const up = "POST /exec-start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n";
  const big = (await raw(`${up}Content-Length: 65\r\n\r\n${"x".repeat(65)}`)).toString();
  assert.match(big, /^HTTP\/1.1 413 /);
  const chunked = (await raw(`${up}Transfer-Encoding: chunked\r\n\r\n5\r\n{}{}{\r\n0\r\n\r\n`)).toString();
  assert.match(chunked, /^HTTP\/1.1 400 /);
  assert.match(chunked, /chunked body on an upgraded connection/);
  const bad = (await raw(`${up}Content-Length: 9\r\n\r\n{not json`)).toString();
  assert.match(bad, /^HTTP\/1.1 400 /);
  assert.match(bad, /invalid JSON/);
  // A client that goes before its body is whole: nothing hangs, the server serves on.
  await raw(`${up}Content-Length: 40\r\n\r\n{"Detach"`, { endAfter: "" });
  assert.equal((await call("GET", "/_ping")).body, "OK");
});

test("a TTY attach is raw; a client that asked no upgrade gets the stream as a 200 body", async () => {
  const up = await raw("POST /attach?tty=1 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", {
    endAfter: "typed",
  });
  assert.match(
    up.toString(),
    /^HTTP\/1.1 101 UPGRADED\r\nContent-Type: application\/vnd.docker.raw-stream\r\n[\s\S]*\r\n\r\nhello\ntyped$/,
  );
  const plain = await call("POST", "/attach?tty=1");
  assert.equal(plain.status, 200);
  assert.equal(plain.headers["content-type"], RAW_STREAM);
  assert.equal(plain.body, "hello\n");
  // Frames without an upgrade: dockerd's plain 200 calls them raw-stream too; its 101 names them.
  const framed = await call("POST", "/attach");
  assert.equal(framed.headers["content-type"], RAW_STREAM);
  assert.equal(framed.body, "\u0001\u0000\u0000\u0000\u0000\u0000\u0000\u0006hello\n");
  const framedUp = await raw("POST /attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n", {
    endAfter: "",
  });
  assert.match(
    framedUp.toString(),
    /^HTTP\/1.1 101 UPGRADED\r\nContent-Type: application\/vnd.docker.multiplexed-stream\r\n/,
  );
});

test("an upgrade asked of a route that does not take connections over is answered as usual", async () => {
  const out = await raw("GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
  assert.match(out.toString(), /^HTTP\/1.1 200 OK\r\n[\s\S]*\r\n\r\nOK$/);
});

test("garbage that is not HTTP is answered 400 and closed", async () => {
  const out = await raw("\u0000\u0001 not http at all\r\n\r\n");
  assert.match(out.toString(), /^HTTP\/1.1 400 Bad Request/);
  const headers = await raw(`GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
  assert.match(headers.toString(), /^HTTP\/1.1 431 Request Header Fields Too Large\r\n/);
  const absolute = await call("GET", "http://evil.example/_ping");
  assert.equal(absolute.status, 404);
  assert.equal((await call("GET", "/_ping")).status, 200);
});

test("a client that vanishes from a hijacked stream costs the server nothing", async () => {
  for (const upgrade of [true, false]) {
    await new Promise<void>((resolve, reject) => {
      const c = connect(socketPath);
      c.on("error", () => {});
      c.write(`POST /firehose HTTP/1.1\r\nHost: x\r\n${upgrade ? "Connection: Upgrade\r\nUpgrade: tcp\r\n" : ""}\r\n`);
      let got = 0;
      c.on("data", (d: Buffer) => {
        got += d.length;
        // Gone abruptly in the middle of the stream.
        if (got > 256 << 10) {
          c.destroy();
          resolve();
        }
      });
      c.on("close", () => (got > 256 << 10 ? resolve() : reject(new Error("closed early"))));
    });
  }
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await call("GET", "/_ping")).body, "OK");
});
