// A Docker-style token service for tests: clients send Basic credentials to /token?service&scope
// and get a JWT (RS256) the registry trusts because its certificate is in the registry's
// rootcertbundle and rides in the token's x5c header. Listens on loopback in the test process.
import { execFileSync } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface TokenService {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  username: string;
  password: string;
  /** Requests seen, for asserting that the token flow ran. */
  issued: string[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

export async function startTokenService(dir: string, username: string, password: string): Promise<TokenService> {
  const keyPath = join(dir, "token-key.pem");
  const certPath = join(dir, "token-cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=berth token issuer",
    ],
    { stdio: "pipe" },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw;
  const service = "berth-test-registry";
  const issuer = "berth-test-issuer";
  const issued: string[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization ?? "";
    const [user, pass] = Buffer.from(auth.replace(/^Basic /, ""), "base64")
      .toString()
      .split(":");
    if (url.pathname !== "/token" || user !== username || pass !== password) {
      res.writeHead(401, { "content-type": "application/json" });
      return res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
    }
    const access = url.searchParams.getAll("scope").flatMap((s) => {
      const [type, name, actions] = s.split(":");
      return type && name && actions ? [{ type, name, actions: actions.split(",") }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [certDer.toString("base64")] };
    const claims = {
      iss: issuer,
      sub: user,
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign("RSA-SHA256", Buffer.from(input), key))}`;
    issued.push(url.searchParams.getAll("scope").join(" "));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    username,
    password,
    issued,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
