// A real registry for tests: Debian's docker-registry (distribution 2.8) on a free loopback port,
// with its storage, config and logs in a private temp dir. Optional htpasswd (basic) auth and TLS
// with a CA made for this run. stop() kills it and removes the dir; it never throws.
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { mkdirSync, openSync, writeFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeTempDir } from "../fixtures/busybox.ts";
import { startTokenService, type TokenService } from "./token-auth.ts";

export const REGISTRY_BINARY = "/usr/bin/docker-registry";
const execFileP = promisify(execFile);

export interface RegistryOptions {
  auth?: "htpasswd" | "token";
  tls?: boolean;
}

export interface LocalRegistry {
  dir: string;
  /** "127.0.0.1:PORT" */
  host: string;
  url: string;
  username: string;
  password: string;
  /** PEM of the CA that signed the registry's certificate (TLS only). */
  caPath?: string;
  /** The token service (auth: "token"): it runs in the test process. */
  tokens?: TokenService;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

const ossl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });

/** A CA and a server certificate for 127.0.0.1 / localhost, signed by it (the CA's key stays in `dir`). */
export function makeTlsFiles(dir: string): { ca: string; cert: string; key: string } {
  // skopeo's --cert-dir reads CAs from *.crt files; ctr's --tlscacert takes the file itself.
  mkdirSync(join(dir, "certs"));
  const ca = join(dir, "certs", "ca.crt");
  ossl(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "ca-key.pem"), "-out", ca].concat([
      "-days",
      "2",
      "-subj",
      "/CN=berth test CA",
    ]),
  );
  const server = signedCert(dir, "server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost");
  return { ca, ...server };
}

/** A client certificate signed by makeTlsFiles(dir)'s CA (mutual TLS), named `name`. */
export function makeClientCert(dir: string, name: string): { cert: string; key: string } {
  return signedCert(dir, name, `/CN=${name}`, "extendedKeyUsage=clientAuth");
}

/** A key and a certificate for `subject` with one extension, signed by the CA in `dir`. */
function signedCert(dir: string, name: string, subject: string, extension: string): { cert: string; key: string } {
  const key = join(dir, `${name}-key.pem`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  ossl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", subject]);
  writeFileSync(ext, `${extension}\n`);
  ossl(
    ["x509", "-req", "-in", csr, "-CA", join(dir, "certs", "ca.crt"), "-CAkey", join(dir, "ca-key.pem")].concat([
      "-CAcreateserial",
      "-out",
      cert,
      "-days",
      "2",
      "-extfile",
      ext,
    ]),
  );
  return { cert, key };
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<LocalRegistry> {
  const dir = await makeTempDir("berth-registry-");
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const username = "berth";
  const password = `pw-${Math.random().toString(36).slice(2, 10)}`;
  const lines = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
  ];
  let caPath: string | undefined;
  if (opts.tls) {
    const t = makeTlsFiles(dir);
    caPath = t.ca;
    lines.push("  tls:", `    certificate: ${t.cert}`, `    key: ${t.key}`);
  }
  let tokens: TokenService | undefined;
  if (opts.auth === "token") {
    tokens = await startTokenService(dir, username, password);
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${tokens.realm}`,
      `    service: ${tokens.service}`,
      `    issuer: ${tokens.issuer}`,
      `    rootcertbundle: ${tokens.certPath}`,
    );
  }
  if (opts.auth === "htpasswd") {
    const file = join(dir, "htpasswd");
    execFileSync("htpasswd", ["-Bbc", file, username, password], { stdio: "pipe" });
    lines.push("auth:", "  htpasswd:", "    realm: berth-test", `    path: ${file}`);
  }
  await writeFile(join(dir, "config.yml"), `${lines.join("\n")}\n`);
  const log = openSync(join(dir, "registry.log"), "a");
  const child: ChildProcess = spawn(REGISTRY_BINARY, ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", log, log],
  });
  const url = `${opts.tls ? "https" : "http"}://${host}`;
  const stop = async () => {
    await tokens?.stop();
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGKILL");
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  // Ready once the port accepts connections.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = await readFile(join(dir, "registry.log"), "utf8").catch(() => "");
      await stop();
      throw new Error(`docker-registry did not start: ${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { dir, host, url, username, password, caPath, tokens, stop };
}

/**
 * Seeds the registry with an OCI archive through skopeo (a reference client, so the tests of our
 * pull do not depend on our push).
 */
export async function seedImage(reg: LocalRegistry, archive: string, repoTag: string): Promise<void> {
  const args = ["copy", "--quiet", "--all"];
  if (reg.caPath) args.push("--dest-cert-dir", dirnameOf(reg.caPath));
  else args.push("--dest-tls-verify=false");
  if (reg.caPath) args.push("--dest-tls-verify=true");
  args.push("--dest-creds", `${reg.username}:${reg.password}`);
  args.push(`oci-archive:${archive}`, `docker://${reg.host}/${repoTag}`);
  // Async: a token service may be answering from this very process.
  await execFileP("skopeo", args, { timeout: 60_000 });
}

function dirnameOf(p: string): string {
  return p.slice(0, p.lastIndexOf("/"));
}
