// RegistryClient.checkLogin against small registries on loopback (plain HTTP, reached after the
// client's HTTPS attempt fails as it does for a loopback registry that speaks no TLS): Basic and
// Bearer flows, refusals, and what a hostile token service sends.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { BerthError } from "../../common/errors.ts";
import { RegistryClient } from "./registry-client.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, host: string) => void;

async function withServer(handler: Handler, fn: (host: string) => Promise<void>): Promise<void> {
  let host = "";
  const server = createServer((req, res) => handler(req, res, host));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await fn(host);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;
const client = (username?: string, password = "") =>
  new RegistryClient({ credentials: () => (username === undefined ? undefined : { username, password }), retries: 0 });
const kind = (k: string, message?: RegExp) => (e: unknown) =>
  e instanceof BerthError && e.kind === k && (message === undefined || message.test(e.message));

async function check(c: RegistryClient, host: string): Promise<void> {
  try {
    await c.checkLogin(host);
  } finally {
    await c.close();
  }
}

const basicRegistry: Handler = (req, res) => {
  if (req.headers.authorization === basic("u", "right")) return res.end("{}");
  res.writeHead(401, { "www-authenticate": 'Basic realm="test"' }).end();
};

test("Basic: the right password passes; a wrong one and none are refused in dockerd's words", async () => {
  await withServer(basicRegistry, async (host) => {
    await check(client("u", "right"), host);
    await assert.rejects(
      check(client("u", "wrong"), host),
      kind(
        "permission-denied",
        new RegExp(`^login attempt to http://${host}/v2/ failed with status: 401 Unauthorized$`),
      ),
    );
    await assert.rejects(check(client(), host), kind("permission-denied", /no basic auth credentials/));
  });
});

test("Bearer: a token from the realm (credentials sent, no scope), then /v2/ with it", async () => {
  const seen: string[] = [];
  await withServer(
    (req, res, host) => {
      const url = new URL(req.url ?? "/", `http://${host}`);
      if (url.pathname === "/token") {
        seen.push(`${url.searchParams.get("service")} ${url.searchParams.has("scope")}`);
        if (req.headers.authorization !== basic("u", "right")) {
          return res
            .writeHead(401)
            .end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
        }
        return res.end(JSON.stringify({ token: "t0k", expires_in: 300 }));
      }
      if (req.headers.authorization === "Bearer t0k") return res.end("{}");
      res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="reg"` }).end();
    },
    async (host) => {
      await check(client("u", "right"), host);
      assert.deepEqual(seen, ["reg false"]);
      await assert.rejects(
        check(client("u", "wrong"), host),
        kind("permission-denied", new RegExp(`^Get "http://${host}/v2/": unauthorized: bad credentials$`)),
      );
    },
  );
});

test("a registry that needs no login passes; other statuses are not auth refusals", async () => {
  await withServer(
    (_req, res) => res.end("{}"),
    (host) => check(client(), host),
  );
  await withServer(
    (_req, res) => res.writeHead(404).end(),
    async (host) => assert.rejects(check(client("u", "p"), host), kind("failed-precondition", /404 Not Found/)),
  );
  await withServer(
    (_req, res) => res.writeHead(503).end(),
    async (host) => assert.rejects(check(client("u", "p"), host), kind("unavailable", /503 Service Unavailable/)),
  );
});

test("hostile token services: an answer over 1 MiB, no token, not JSON are refused", async () => {
  const answers = [Buffer.alloc(2 << 20, 0x20), Buffer.from("{}"), Buffer.from("<html>")];
  for (const answer of answers) {
    await withServer(
      (req, res, host) => {
        if (req.url?.startsWith("/token")) return res.end(answer);
        res.writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token"` }).end();
      },
      async (host) => assert.rejects(check(client("u", "p"), host), kind("permission-denied")),
    );
  }
});

test("nothing listening: unavailable, naming the URL", async () => {
  let host = "";
  await withServer(
    () => {},
    async (h) => {
      host = h;
    },
  );
  await assert.rejects(check(client("u", "p"), host), kind("unavailable", new RegExp(`Get "https?://${host}/v2/"`)));
});
