// berthd as users start it (dist/berthd.mjs) with its own berth-containerd, in private dirs, driven
// by the real docker CLI 28 and by raw HTTP: negotiation, version and info, hostile requests, and
// start-up and shutdown leaving nothing behind.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { outputOf, startBerthContainerd } from "../../helpers/berth-containerd.ts";
import {
  BERTHD,
  type Berthd,
  DOCKER_CLI,
  DOCKER_CLI_20,
  DOCKER_CLI_28,
  NEEDS_CLI_28,
  newBerthd,
  pidsMentioning,
} from "../../helpers/berthd.ts";
import { freePort, makeClientCert, makeTlsFiles } from "../../helpers/local-registry.ts";
import { startContainerd } from "../../helpers/peers.ts";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const isRoot = process.getuid?.() === 0;

/** berthd run to its exit (a start-up that must be refused), with its output. */
function runBerthd(args: string[]) {
  return outputOf(spawn(BERTHD, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 }));
}

/** Raw bytes on a fresh connection to `socket`, and everything the daemon answers until it closes. */
function rawExchange(socket: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    const got: Buffer[] = [];
    c.on("data", (d: Buffer) => got.push(d));
    c.on("error", reject);
    c.on("close", () => resolve(Buffer.concat(got).toString()));
    c.end(bytes);
  });
}

describe("berthd serving", { skip: isRoot ? false : "berthd runs as root" }, () => {
  let d: Berthd;
  before(async () => {
    d = await newBerthd();
    await d.start();
  });
  after(async () => {
    await d?.cleanup();
  });

  test("docker version: the CLI keeps API 1.50 (no downgrade), the server says what it is", {
    skip: NEEDS_CLI_28,
  }, async () => {
    const r = await d.docker(["version", "--format", "{{json .}}"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const v = JSON.parse(r.stdout);
    assert.equal(v.Client.ApiVersion, "1.50");
    assert.equal(v.Client.DefaultAPIVersion, "1.50");
    assert.equal(v.Server.ApiVersion, "1.50");
    assert.equal(v.Server.MinAPIVersion, "1.24");
    assert.equal(v.Server.Os, "linux");
    assert.equal(v.Server.Version, "0.1.0");
    assert.match(v.Server.GoVersion, /^n\/a \(node v24\./);
    const names = v.Server.Components.map((c: { Name: string }) => c.Name);
    assert.deepEqual(names, ["Engine", "containerd"]);
    assert.equal(v.Server.Components[1].Version, "1.6.0-berth");
    // The plain form prints too (what users type).
    const plain = await d.docker(["version"]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /API version:\s+1.50 \(minimum version 1.24\)/);
    assert.doesNotMatch(plain.stdout, /downgraded/);
  });

  test("docker version with Debian's docker 20.10 client: it speaks 1.41 and is served at its own version", async () => {
    const old = await d.docker(
      ["version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}}"],
      DOCKER_CLI_20,
    );
    assert.equal(old.status, 0, old.stderr);
    assert.equal(old.stdout.trim(), "1.41 1.50 1.24");
  });

  test("a CLI pinned to a version (DOCKER_API_VERSION) is served at it, or told the daemon's range", async () => {
    const format = ["version", "--format", "{{.Client.APIVersion}} {{.Server.APIVersion}}"];
    const min = await d.docker(format, undefined, { DOCKER_API_VERSION: "1.24" });
    assert.equal(min.status, 0, min.stderr);
    assert.equal(min.stdout.trim(), "1.24 1.50");
    const old = await d.docker(format, undefined, { DOCKER_API_VERSION: "1.23" });
    assert.equal(old.status, 1);
    assert.match(
      old.stderr,
      // A 20.10 client pinned at 1.23 or below prints the error body as it came ({"message":...}).
      /Error response from daemon: (\{"message":")?client version 1.23 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version/,
    );
    const next = await d.docker(format, undefined, { DOCKER_API_VERSION: "1.51" });
    assert.equal(next.status, 1);
    assert.match(
      next.stderr,
      /Error response from daemon: client version 1.51 is too new. Maximum supported API version is 1.50/,
    );
  });

  test("docker info prints without errors and reports the daemon's configuration", async () => {
    const r = await d.docker(["info", "--format", "{{json .}}"]);
    assert.equal(r.status, 0, r.stderr);
    const i = JSON.parse(r.stdout);
    assert.equal(i.DockerRootDir, d.dataRoot);
    assert.equal(i.Driver, "overlayfs");
    assert.equal(i.CgroupDriver, "cgroupfs");
    assert.match(i.CgroupVersion, /^[12]$/);
    assert.equal(i.OSType, "linux");
    assert.equal(i.DefaultRuntime, "berth-runc");
    assert.ok(i.Runtimes["berth-runc"].path.endsWith("berth-runc.mjs"), i.Runtimes["berth-runc"].path);
    assert.equal(i.LiveRestoreEnabled, true);
    assert.equal(i.Containers, 0);
    assert.equal(i.ServerVersion, "0.1.0");
    assert.match(i.ID, /^[0-9a-f-]{36}$/);
    // Containerd's section is a field of docker CLI 28's info (API 1.46); the 20.10 client has none.
    if (DOCKER_CLI === DOCKER_CLI_28) assert.equal(i.Containerd.Namespaces.Containers, "berth");
    assert.equal(i.ServerErrors, undefined);
    const plain = await d.docker(["info"]);
    assert.equal(plain.status, 0, plain.stderr);
    // The only warnings: the 20.10 client's for host sysctls that are off, as berthd reports them
    // (one per sysctl off, none for one on; CLI 28 no longer prints these).
    const off = (path: string) => !existsSync(path) || readFileSync(path, "utf8").trim() !== "1";
    const expected = [
      ["/proc/sys/net/ipv4/ip_forward", "WARNING: IPv4 forwarding is disabled"],
      ["/proc/sys/net/bridge/bridge-nf-call-iptables", "WARNING: bridge-nf-call-iptables is disabled"],
      ["/proc/sys/net/bridge/bridge-nf-call-ip6tables", "WARNING: bridge-nf-call-ip6tables is disabled"],
    ]
      .filter(([path]) => DOCKER_CLI !== DOCKER_CLI_28 && off(path!))
      .map(([, line]) => line);
    assert.deepEqual(plain.stderr.split("\n").filter(Boolean), expected);
    assert.doesNotMatch(plain.stdout, /ERROR|WARNING/);
    assert.match(plain.stdout, /Default Runtime: berth-runc/);
    assert.match(plain.stdout, /Live Restore Enabled: true/);
  });

  test("/_ping answers GET and HEAD with dockerd's headers", async () => {
    for (const method of ["GET", "HEAD"]) {
      const r = await d.http(method, "/_ping");
      assert.equal(r.status, 200);
      assert.equal(r.body, method === "GET" ? "OK" : "");
      assert.equal(r.headers["api-version"], "1.50");
      assert.equal(r.headers.ostype, "linux");
      assert.equal(r.headers["docker-experimental"], "false");
      assert.equal(r.headers["builder-version"], "1");
      assert.equal(r.headers["cache-control"], "no-cache, no-store, must-revalidate");
      assert.equal(r.headers.pragma, "no-cache");
      assert.equal(r.headers.swarm, "inactive");
    }
  });

  test("hostile requests: dockerd's statuses and clear messages, and the daemon serves on", async () => {
    const cases: [string, string, number, RegExp][] = [
      ["GET", "/v1.99/version", 400, /^client version 1.99 is too new. Maximum supported API version is 1.50$/],
      ["GET", "/v1.12/version", 400, /^client version 1.12 is too old. Minimum supported API version is 1.24/],
      ["GET", "/v99999999999999999999999.1/_ping", 400, /too new/],
      ["GET", "/nope", 404, /^page not found$/],
      ["GET", "/v1.41/nope", 404, /^page not found$/],
      ["POST", "/_ping", 404, /^page not found$/],
      ["DELETE", "/version", 404, /^page not found$/],
      ["GET", "/v1.41x/version", 404, /^page not found$/],
    ];
    for (const [method, path, status, message] of cases) {
      const r = await d.http(method, path);
      assert.equal(r.status, status, `${method} ${path}`);
      assert.equal(r.headers["content-type"], "application/json");
      assert.match(JSON.parse(r.body).message, message, `${method} ${path}`);
    }
    // A traversal is redirected to the clean path, never served as a name.
    const dots = await d.http("GET", "/v1.50/containers/../../version");
    assert.equal(dots.status, 301);
    assert.equal(dots.headers.location, "/version");
    // A body sent where none is taken, large and chunked: answered, not buffered, not fatal.
    const big = await d.http("POST", "/v1.50/nope", Buffer.alloc(8 << 20, 0x7b), {
      "Content-Type": "application/json",
    });
    assert.equal(big.status, 404);
    // Headers past node's 16 KiB limit, and bytes that are not HTTP.
    assert.match(
      await rawExchange(d.socket, `GET /_ping HTTP/1.1\r\nX: ${"a".repeat(20_000)}\r\n\r\n`),
      /^HTTP\/1.1 431 /,
    );
    assert.match(await rawExchange(d.socket, "\x16\x03\x01 TLS hello to a plain socket\r\n\r\n"), /^HTTP\/1.1 400 /);
    assert.match(
      await rawExchange(d.socket, "GET http://example.com/_ping HTTP/1.1\r\nHost: x\r\n\r\n"),
      /^HTTP\/1.1 404 /,
    );
    // Fifty connections that send half a request and go away.
    await Promise.all(
      Array.from({ length: 50 }, () =>
        rawExchange(d.socket, "POST /v1.50/_ping HTTP/1.1\r\nContent-Length: 100\r\n\r\nab"),
      ),
    );
    const ping = await d.http("GET", "/_ping");
    assert.equal(ping.status, 200);
  });

  test("hostile create bodies: 413 past the limit, 400 for malformed or mistyped JSON, nothing created", async () => {
    const create = "/v1.50/containers/create";
    const json = { "Content-Type": "application/json" };
    const big = await d.http("POST", create, Buffer.alloc(3 << 20, 0x20), json);
    assert.equal(big.status, 413);
    assert.match(JSON.parse(big.body).message, /^request body too large: the limit is \d+ bytes$/);
    // The same without a length (chunked) and never finished: refused as it passes the limit.
    const chunk = " ".repeat(1 << 20);
    const chunked = await rawExchange(
      d.socket,
      `POST ${create} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${`100000\r\n${chunk}\r\n`.repeat(3)}`,
    );
    assert.match(chunked, /^HTTP\/1.1 413 /);
    const cases: [string, Record<string, string>, RegExp][] = [
      ["{bad", json, /^invalid JSON: /],
      ['{"Image":"busybox"} {', json, /^invalid JSON: /],
      ["[".repeat(200_000), json, /^invalid JSON: /],
      ['{"Image":"busybox"}', { "Content-Type": "text/plain" }, /must be 'application\/json'/],
      ['{"Image":5}', json, /cannot unmarshal number .*Image/],
      ['{"Image":"busybox","HostConfig":{"Memory":"x"}}', json, /cannot unmarshal string .*Memory/],
    ];
    for (const [body, headers, message] of cases) {
      const r = await d.http("POST", create, body, headers);
      assert.equal(r.status, 400, `${body.slice(0, 40)}: ${r.body}`);
      assert.equal(r.headers["content-type"], "application/json");
      assert.match(JSON.parse(r.body).message, message, body.slice(0, 40));
    }
    const list = await d.http("GET", "/v1.50/containers/json?all=1");
    assert.equal(list.status, 200);
    assert.deepEqual(JSON.parse(list.body), []);
  });

  test("the socket is 0660, root's, with the berth group when it exists", async () => {
    const st = statSync(d.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    const berth = /^berth:[^:]*:(\d+):/m.exec(readFileSync("/etc/group", "utf8"));
    assert.equal(st.gid, berth ? Number(berth[1]) : 0);
  });

  test("SIGHUP does not stop berthd (reload is not supported yet: it says so)", async () => {
    process.kill(d.pid!, "SIGHUP");
    await sleep(200);
    assert.equal((await d.http("GET", "/_ping")).status, 200);
    assert.match(await d.log(), /SIGHUP: reloading the configuration is not supported yet/);
  });

  test("a second berthd on the same pid file is refused, and the first serves on", async () => {
    const r = await runBerthd([...d.privateArgs()]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^berthd: pid file found, ensure berthd is not running or delete /);
    assert.equal((await d.http("GET", "/_ping")).status, 200);
  });
});

describe("berthd start-up and shutdown", { skip: isRoot ? false : "berthd runs as root" }, () => {
  test("SIGTERM: berthd exits 0 and leaves no process, socket or pid file", async () => {
    const d = await newBerthd();
    try {
      await d.start();
      const containerd = d.containerdPid();
      assert.ok(containerd && existsSync(`/proc/${containerd}`));
      // Laid out as dockerd lays out its containerd, apart from a default berth-containerd's root.
      const argv = readFileSync(`/proc/${containerd}/cmdline`, "utf8").split("\0");
      const flag = (name: string) => argv[argv.indexOf(name) + 1];
      assert.equal(flag("--root"), `${d.dataRoot}/containerd/daemon`);
      assert.equal(flag("--state"), `${d.execRoot}/containerd/daemon`);
      assert.equal(flag("--address"), `${d.execRoot}/containerd/containerd.sock`);
      assert.ok(pidsMentioning(d.dir).length >= 2);
      assert.equal(await d.stop(), 0);
      for (let i = 0; i < 50 && pidsMentioning(d.dir).length > 0; i++) await sleep(100);
      assert.deepEqual(pidsMentioning(d.dir), [], "processes left");
      for (const p of [
        d.socket,
        d.pidfile,
        `${d.execRoot}/containerd/containerd.sock`,
        `${d.execRoot}/containerd/containerd.sock.ttrpc`,
        `${d.execRoot}/containerd/berth-containerd.pid`,
      ]) {
        assert.equal(existsSync(p), false, `${p} is left`);
      }
    } finally {
      await d.cleanup();
    }
  });

  test("SIGTERM while berthd starts: it finishes starting, then stops, and leaves nothing", async () => {
    const d = await newBerthd();
    try {
      const child = spawn(BERTHD, d.privateArgs(), { stdio: "ignore" });
      const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
      // berth-containerd is started and not answering yet: the middle of start-up.
      const pidfile = `${d.execRoot}/containerd/berth-containerd.pid`;
      for (let i = 0; i < 300 && !existsSync(pidfile); i++) await sleep(10);
      assert.ok(existsSync(pidfile), "berth-containerd was not started");
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
      for (let i = 0; i < 50 && pidsMentioning(d.dir).length > 0; i++) await sleep(100);
      assert.deepEqual(pidsMentioning(d.dir), [], "processes left");
      assert.equal(existsSync(d.pidfile), false);
      assert.equal(existsSync(d.socket), false);
    } finally {
      await d.cleanup();
    }
  });

  test("kill -9 of berthd leaves berth-containerd running; the next berthd adopts it, with the same engine id", async () => {
    const d = await newBerthd();
    try {
      await d.start();
      const id = JSON.parse((await d.http("GET", "/info")).body).ID;
      const containerd = d.containerdPid();
      await d.kill9();
      assert.ok(containerd && existsSync(`/proc/${containerd}`), "berth-containerd died with berthd");
      await d.start();
      assert.equal(d.containerdPid(), containerd);
      assert.match(await d.log(), /adopting the running berth-containerd/);
      assert.equal(JSON.parse((await d.http("GET", "/info")).body).ID, id);
      assert.equal(await d.stop(), 0);
      for (let i = 0; i < 50 && existsSync(`/proc/${containerd}`); i++) await sleep(100);
      assert.equal(existsSync(`/proc/${containerd}`), false);
    } finally {
      await d.cleanup();
    }
  });

  test("a berth-containerd that dies is started again", async () => {
    const d = await newBerthd();
    try {
      await d.start();
      const first = d.containerdPid()!;
      process.kill(first, "SIGKILL");
      let second: number | undefined;
      for (let i = 0; i < 100; i++) {
        await sleep(100);
        second = d.containerdPid();
        if (second !== first && second !== undefined) {
          const v = await d.docker(["version", "--format", "{{json .Server.Components}}"]);
          if (v.stdout.includes("containerd")) break;
        }
      }
      assert.notEqual(second, first);
      assert.ok(second && existsSync(`/proc/${second}`));
      assert.match(await d.log(), /berth-containerd is gone: starting it again/);
    } finally {
      await d.cleanup();
    }
  });

  test("configurations dockerd refuses are refused before anything starts, each with its message", async () => {
    const d = await newBerthd();
    try {
      const file = (doc: unknown) => {
        writeFileSync(d.configFile, JSON.stringify(doc));
        chmodSync(d.configFile, 0o644);
      };
      file({ "data-root": "/tmp/elsewhere" });
      let r = await runBerthd(d.privateArgs());
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /the following directives are specified both as a flag and in the configuration file: data-root: \(from flag: .*, from file: \/tmp\/elsewhere\)/,
      );
      file({ bogus: true });
      r = await runBerthd(d.privateArgs());
      assert.match(r.stderr, /the following directives don't match any configuration option: bogus/);
      file({ "live-restore": "yes" });
      r = await runBerthd(d.privateArgs());
      assert.match(r.stderr, /live-restore: must be true or false/);
      file({});
      chmodSync(d.configFile, 0o666);
      r = await runBerthd(d.privateArgs());
      assert.match(r.stderr, /writable by group or others/);
      chmodSync(d.configFile, 0o644);
      r = await runBerthd([...d.privateArgs(), "-H", "tcp://127.0.0.1:2375"]);
      assert.match(r.stderr, /listening on TCP needs mutual TLS/);
      r = await runBerthd([...d.privateArgs(), "--containerd", `${d.dir}/no.sock`]);
      assert.match(r.stderr, /containerd: .*no.sock is not a socket/);
      r = await runBerthd([...d.privateArgs(), "--validate"]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, "configuration OK\n");
      assert.deepEqual(pidsMentioning(d.dir), []);
      assert.equal(existsSync(d.socket), false);
      assert.equal(existsSync(d.pidfile), false);
    } finally {
      await d.cleanup();
    }
  });

  test("a socket another daemon answers on is refused, and what start-up began is undone", async () => {
    const first = await newBerthd();
    const second = await newBerthd();
    try {
      await first.start();
      const r = await runBerthd([
        "-H",
        `unix://${first.socket}`,
        "--data-root",
        second.dataRoot,
        "--exec-root",
        second.execRoot,
        "--pidfile",
        second.pidfile,
        "--config-file",
        second.configFile,
      ]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /another daemon is listening on it/);
      for (let i = 0; i < 50 && pidsMentioning(second.dir).length > 0; i++) await sleep(100);
      assert.deepEqual(pidsMentioning(second.dir), [], "the second berthd's berth-containerd is left");
      assert.equal(existsSync(second.pidfile), false);
      assert.equal((await first.http("GET", "/_ping")).status, 200);
    } finally {
      await first.cleanup();
      await second.cleanup();
    }
  });
});

describe("berthd on an existing containerd (--containerd)", { skip: isRoot ? false : "berthd runs as root" }, () => {
  test("it starts none of its own, reports the one given, and leaves it running when it stops", async () => {
    const containerd = await startBerthContainerd();
    const d = await newBerthd();
    try {
      await d.start(["--containerd", `unix://${containerd.address}`, "--containerd-namespace", "e14"]);
      assert.equal(d.containerdPid(), undefined);
      assert.equal(existsSync(`${d.execRoot}/containerd`), false);
      const info = JSON.parse((await d.http("GET", "/info")).body);
      assert.deepEqual(info.Containerd, {
        Address: containerd.address,
        Namespaces: { Containers: "e14", Plugins: "plugins.e14" },
      });
      const v = JSON.parse((await d.http("GET", "/version")).body);
      assert.equal(v.Components[1].Name, "containerd");
      assert.equal(await d.stop(), 0);
      assert.equal(containerd.ctr(["version"]).status, 0, "berthd stopped the containerd it was given");
    } finally {
      await d.cleanup();
      await containerd.cleanup();
    }
  });
});

describe("berthd on Debian's containerd (--containerd)", {
  skip: !isRoot ? "berthd runs as root" : existsSync("/usr/bin/containerd") ? false : "/usr/bin/containerd not found",
}, () => {
  test("it reports containerd 1.6 as its containerd and leaves it running", async () => {
    const containerd = await startContainerd(join(import.meta.dirname, "..", "..", "..", "dist", "berth-runc.mjs"));
    const d = await newBerthd();
    try {
      await d.start(["--containerd", containerd.address]);
      const v = await d.docker(["version", "--format", "{{json .Server.Components}}"]);
      assert.equal(v.status, 0, v.stderr);
      const components = JSON.parse(v.stdout) as { Name: string; Version: string }[];
      assert.equal(components[1]?.Name, "containerd");
      assert.match(components[1]!.Version, /^1\.6\./);
      assert.equal(await d.stop(), 0);
      assert.equal((await containerd.ctr(["version"])).code, 0, "berthd stopped the containerd it was given");
    } finally {
      await d.cleanup();
      await containerd.stop();
    }
  });
});

describe("berthd on tcp:// with mutual TLS", { skip: isRoot ? false : "berthd runs as root" }, () => {
  test("docker with a client certificate signed by the CA is served; without one it is refused", async () => {
    const d = await newBerthd();
    try {
      const tls = makeTlsFiles(d.dir);
      const client = makeClientCert(d.dir, "client");
      const port = await freePort();
      await d.start([
        "-H",
        `tcp://127.0.0.1:${port}`,
        "--tlsverify",
        "--tlscacert",
        tls.ca,
        "--tlscert",
        tls.cert,
        "--tlskey",
        tls.key,
      ]);
      const docker = (args: string[]) =>
        outputOf(
          spawn(DOCKER_CLI, ["-H", `tcp://127.0.0.1:${port}`, ...args], {
            stdio: ["ignore", "pipe", "pipe"],
            env: { ...process.env, DOCKER_CONFIG: join(d.dir, "client-config") },
            timeout: 60_000,
          }),
        );
      const ok = await docker([
        "--tlsverify",
        "--tlscacert",
        tls.ca,
        "--tlscert",
        client.cert,
        "--tlskey",
        client.key,
        "version",
        "--format",
        "{{.Server.APIVersion}}",
      ]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout.trim(), "1.50");
      // TLS without a client certificate, and plain HTTP: no answer from the API.
      const noCert = await docker([
        "--tlsverify",
        "--tlscacert",
        tls.ca,
        "version",
        "--format",
        "{{.Server.APIVersion}}",
      ]);
      assert.notEqual(noCert.status, 0);
      assert.doesNotMatch(noCert.stdout, /1\.50/);
      const plain = await docker(["version", "--format", "{{.Server.APIVersion}}"]);
      assert.notEqual(plain.status, 0);
      assert.doesNotMatch(plain.stdout, /1\.50/);
      // The unix socket serves beside it.
      assert.equal((await d.http("GET", "/_ping")).status, 200);
    } finally {
      await d.cleanup();
    }
  });
});
