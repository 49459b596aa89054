// The --help ping: a daemon's headers read, a hanging or missing one given up on (no facts), and
// the facts gate.ts decides on, bounded against a hostile daemon's headers.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pingHeaders, serverFacts } from "./ping.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-ping-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a daemon's /_ping headers: its version negotiated down to berth's, its OS type and experimental", async () => {
  const path = join(dir, "ok.sock");
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "Api-Version": "1.51", Ostype: "linux", "Docker-Experimental": "true" });
    res.end();
  });
  await new Promise<void>((r) => server.listen(path, r));
  try {
    const facts = serverFacts(await pingHeaders({ kind: "unix", path }), undefined);
    assert.deepEqual(facts, { apiVersion: "1.50", osType: "linux", experimental: true });
    assert.deepEqual(seen, ["HEAD /_ping"]);
  } finally {
    server.close();
  }
});

test("no daemon, or one that never answers: no headers, within the timeout; docker's assumptions", async () => {
  assert.equal(await pingHeaders({ kind: "unix", path: join(dir, "none.sock") }), undefined);
  const path = join(dir, "hang.sock");
  const server = createNetServer((c) => c.on("data", () => {}));
  await new Promise<void>((r) => server.listen(path, r));
  try {
    const t0 = Date.now();
    assert.equal(await pingHeaders({ kind: "unix", path }, 200), undefined);
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    server.close();
  }
  assert.deepEqual(serverFacts(undefined, undefined), { apiVersion: "1.50", osType: "", experimental: true });
  assert.equal(serverFacts(undefined, "1.41").apiVersion, "1.41");
});

test("hostile headers: no version is docker's 1.24, a huge one is cut, a pinned version wins", () => {
  assert.equal(serverFacts({}, undefined).apiVersion, "1.24");
  assert.equal(serverFacts({ "api-version": "banana" }, undefined).apiVersion, "1.24");
  const huge = serverFacts({ "api-version": "1.4", ostype: "x".repeat(1 << 20) }, undefined);
  assert.equal(huge.osType.length, 64);
  assert.equal(huge.apiVersion, "1.4");
  assert.equal(serverFacts({ "api-version": "1.50" }, "1.41").apiVersion, "1.41");
});
