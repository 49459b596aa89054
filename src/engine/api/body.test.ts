import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { test } from "node:test";
import { checkJsonContentType, parseJsonBody, readBody, readJson } from "./body.ts";

/** A request-shaped stream: headers and a body in chunks. */
function request(chunks: (string | Buffer)[], headers: Record<string, string> = {}): IncomingMessage {
  const r = Readable.from(chunks.map((c) => Buffer.from(c))) as unknown as IncomingMessage;
  (r as { headers: Record<string, string> }).headers = headers;
  return r;
}

test("a body within its limit is read whole", async () => {
  assert.equal((await readBody(request(["ab", "cd"]), 4)).toString(), "abcd");
  assert.deepEqual(await readJson(request(['{"Image":', '"busybox"}'], { "content-type": "application/json" })), {
    Image: "busybox",
  });
  assert.deepEqual(await readJson(request(['{"a":1}'], { "content-type": "application/json; charset=utf-8" })), {
    a: 1,
  });
});

test("a body past its limit is refused 413, by its declared length before a byte is read", async () => {
  let read = false;
  const declared = new Readable({
    read() {
      read = true;
      this.push(null);
    },
  }) as unknown as IncomingMessage;
  (declared as { headers: Record<string, string> }).headers = { "content-length": "5000000" };
  await assert.rejects(readBody(declared, 1 << 20), { status: 413, message: /too large: the limit is 1048576 bytes/ });
  assert.equal(read, false);
  // Chunked (no length): refused as soon as it passes the limit, an endless one too.
  await assert.rejects(readBody(request(["abc", "de"]), 4), { status: 413 });
  let produced = 0;
  const endless = new Readable({
    read() {
      produced += 1 << 16;
      this.push(Buffer.alloc(1 << 16));
    },
  }) as unknown as IncomingMessage;
  (endless as { headers: Record<string, string> }).headers = {};
  await assert.rejects(readBody(endless, 1 << 20), { status: 413 });
  assert.ok(produced <= (1 << 20) + (1 << 20), `read ${produced} bytes before refusing`);
  endless.destroy();
});

test("no body, or only white space, is no document", async () => {
  assert.equal(await readJson(request([])), undefined);
  assert.equal(parseJsonBody(Buffer.from(" \n")), undefined);
});

test("malformed JSON and other content types are 400s that say so", async () => {
  for (const bad of ["{bad", '{"Image":"x"} {', "[1,", '{"a":1,}', "\u0000"]) {
    assert.throws(() => parseJsonBody(Buffer.from(bad)), { kind: "invalid-argument", message: /^invalid JSON: / }, bad);
  }
  // Nested far past the parser's stack: refused, not a crash.
  const deep = "[".repeat(1_000_000);
  assert.throws(() => parseJsonBody(Buffer.from(deep)), /invalid JSON/);
  assert.throws(() => checkJsonContentType("text/plain"), {
    kind: "invalid-argument",
    message: "unsupported Content-Type header (text/plain): must be 'application/json'",
  });
  await assert.rejects(
    readJson(request(["{}"], { "content-type": "application/x-www-form-urlencoded" })),
    /Content-Type/,
  );
  checkJsonContentType(undefined);
  checkJsonContentType("");
  checkJsonContentType("Application/JSON");
});
