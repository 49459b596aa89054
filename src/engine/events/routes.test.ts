import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { DaemonLogger } from "../../common/log.ts";
import { ApiServer } from "../api/server.ts";
import { EventBus } from "./bus.ts";
import { busEvents } from "./emit.ts";
import { addEventRoutes } from "./routes.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-events-"));
const socketPath = join(dir, "api.sock");
const api = new ApiServer(new DaemonLogger("error", {}, () => {}), {
  server: "Berth/test (linux)",
  experimental: false,
});
const bus = new EventBus();
const events = busEvents(bus);
addEventRoutes(api, bus);
const server = api.createHttpServer();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const subject = (name: string) => ({ ID: `id-${name}`, Name: `/${name}`, Config: { Image: "busybox", Labels: {} } });

before(async () => {
  await new Promise<void>((r) => server.listen(socketPath, r));
});
after(async () => {
  await api.close(100);
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** GET `path`; the status and body once the answer ends (or `stopAfterMs` passes). */
function get(path: string, stopAfterMs?: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path }, (res) => {
      let body = "";
      res.on("data", (b: Buffer) => {
        body += b.toString();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, body });
      res.on("end", done);
      if (stopAfterMs !== undefined)
        setTimeout(() => {
          done();
          req.destroy();
        }, stopAfterMs);
    });
    req.on("error", reject);
    req.end();
  });
}

const actions = (body: string) =>
  body
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Action: string; Actor: { Attributes: { name: string } } })
    .map((e) => `${e.Action} ${e.Actor.Attributes.name}`);

test("a past window is replayed and the answer ends; filters apply", async () => {
  const since = (Date.now() / 1000).toFixed(9);
  events.container(subject("a"), "create");
  events.container(subject("b"), "create");
  events.container(subject("a"), "start");
  await sleep(5);
  const until = (Date.now() / 1000).toFixed(9);
  const all = await get(`/events?since=${since}&until=${until}`);
  assert.equal(all.status, 200);
  assert.deepEqual(actions(all.body), ["create a", "create b", "start a"]);
  const onlyA = await get(`/events?since=${since}&until=${until}&filters=${encodeURIComponent('{"container":["a"]}')}`);
  assert.deepEqual(actions(onlyA.body), ["create a", "start a"]);
});

test("without since or until only live events come", async () => {
  events.container(subject("old"), "create");
  const live = get("/events", 400);
  await sleep(150);
  events.container(subject("new"), "start");
  assert.deepEqual(actions((await live).body), ["start new"]);
});

test("a client that reads nothing is cut off once its backlog passes the bound; others go on", async () => {
  const sock = connect(socketPath);
  await new Promise<void>((r) => sock.once("connect", () => r()));
  let closed = false;
  sock.once("close", () => {
    closed = true;
  });
  sock.on("error", () => {});
  sock.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  sock.pause();
  await sleep(100);
  assert.equal(bus.listeners, 1);
  const big = { ID: "id-big", Name: "/big", Config: { Image: "busybox", Labels: { pad: "x".repeat(64 << 10) } } };
  // 4 MiB of backlog plus what the kernel's socket buffers take.
  for (let i = 0; i < 400 && bus.listeners > 0; i++) {
    events.container(big, "rename");
    await sleep(1);
  }
  assert.equal(bus.listeners, 0, "the stuck client is still subscribed");
  // Its connection is gone too (seen once it reads again).
  sock.resume();
  for (let i = 0; i < 100 && !closed; i++) await sleep(20);
  assert.ok(closed, "the stuck client's connection is still open");
  const other = get("/events", 200);
  await sleep(50);
  events.container(subject("after"), "start");
  assert.deepEqual(actions((await other).body), ["start after"]);
});

test("bad filters and times are 400s", async () => {
  for (const path of [
    "/events?filters=%7Bbad",
    "/events?filters=%7B%22x%22%3A%5B%5D%7D",
    "/events?since=x",
    "/events?since=5&until=1",
  ]) {
    assert.equal((await get(path)).status, 400, path);
  }
});
