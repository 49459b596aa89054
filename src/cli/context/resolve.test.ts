// Context resolution against temp config dirs laid out as the docker CLI lays them out.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CliError } from "../errors.ts";
import { contextDirName, DEFAULT_HOST, MAX_CONFIG_BYTES, normalizeHost, resolveContext } from "./resolve.ts";

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function home(): string {
  const d = mkdtempSync(join(tmpdir(), "berth-ctx-"));
  dirs.push(d);
  return d;
}
function addContext(configDir: string, name: string, host: string): void {
  const dir = join(configDir, "contexts", "meta", contextDirName(name));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "meta.json"),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
  );
}

test("the context directory is the SHA-256 of the name (docker's: foo -> 2c26b4...)", () => {
  assert.equal(contextDirName("foo"), "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae");
});

test("nothing set: berthd's socket, context default, ~/.docker", () => {
  const h = home();
  const r = resolveContext({ env: {}, home: h });
  assert.equal(r.host, DEFAULT_HOST);
  assert.equal(r.context, "default");
  assert.equal(r.configDir, join(h, ".docker"));
  assert.deepEqual(r.warnings, []);
});

test("-H wins over everything; -H with --context is docker's conflict", () => {
  const h = home();
  const env = { DOCKER_HOST: "unix:///env.sock", BERTH_HOST: "unix:///berth.sock", DOCKER_CONTEXT: "x" };
  assert.equal(resolveContext({ host: "unix:///flag.sock", env, home: h }).host, "unix:///flag.sock");
  assert.throws(
    () => resolveContext({ host: "unix:///a", context: "default", env: {}, home: h }),
    (e: unknown) =>
      e instanceof CliError && e.message === "conflicting options: cannot specify both --host and --context",
  );
});

test("BERTH_HOST before DOCKER_HOST, both before DOCKER_CONTEXT and the current context", () => {
  const h = home();
  const cfg = join(h, ".docker");
  addContext(cfg, "foo", "unix:///foo.sock");
  writeFileSync(join(cfg, "config.json"), JSON.stringify({ currentContext: "foo" }));
  assert.equal(
    resolveContext({ env: { BERTH_HOST: "unix:///b", DOCKER_HOST: "unix:///d" }, home: h }).host,
    "unix:///b",
  );
  assert.equal(resolveContext({ env: { DOCKER_HOST: "unix:///d", DOCKER_CONTEXT: "foo" }, home: h }).host, "unix:///d");
  assert.equal(resolveContext({ env: {}, home: h }).host, "unix:///foo.sock");
  assert.equal(resolveContext({ env: {}, home: h }).context, "foo");
  // --context beats DOCKER_HOST, as in docker.
  assert.equal(resolveContext({ context: "foo", env: { DOCKER_HOST: "unix:///d" }, home: h }).host, "unix:///foo.sock");
  assert.equal(resolveContext({ context: "default", env: {}, home: h }).host, DEFAULT_HOST);
  // The default context is DOCKER_HOST's daemon when it is set (docker's getServerHost).
  assert.equal(resolveContext({ context: "default", env: { DOCKER_HOST: "unix:///d" }, home: h }).host, "unix:///d");
  assert.equal(resolveContext({ context: "default", env: { BERTH_HOST: "unix:///b" }, home: h }).host, "unix:///b");
});

test("DOCKER_CONFIG and --config move the config dir", () => {
  const h = home();
  const other = join(h, "elsewhere");
  addContext(other, "bar", "tcp://127.0.0.1:2375");
  assert.equal(
    resolveContext({ env: { DOCKER_CONFIG: other, DOCKER_CONTEXT: "bar" }, home: h }).host,
    "tcp://127.0.0.1:2375",
  );
  assert.equal(resolveContext({ config: other, context: "bar", env: {}, home: h }).host, "tcp://127.0.0.1:2375");
});

test("a missing context is docker's error naming the meta.json", () => {
  const h = home();
  const path = join(h, ".docker", "contexts", "meta", contextDirName("nosuch"), "meta.json");
  assert.throws(
    () => resolveContext({ context: "nosuch", env: {}, home: h }),
    (e: unknown) =>
      e instanceof CliError &&
      e.message ===
        `Failed to initialize: unable to resolve docker endpoint: context "nosuch": context not found: open ${path}: no such file or directory`,
  );
});

test("a context with TLS material is refused clearly; a meta.json without a docker host too", () => {
  const h = home();
  const cfg = join(h, ".docker");
  addContext(cfg, "secure", "tcp://10.0.0.1:2376");
  mkdirSync(join(cfg, "contexts", "tls", contextDirName("secure"), "docker"), { recursive: true });
  assert.throws(
    () => resolveContext({ context: "secure", env: {}, home: h }),
    /uses TLS, which berth does not support/,
  );
  const dir = join(cfg, "contexts", "meta", contextDirName("empty"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "meta.json"), '{"Endpoints":{"docker":{"Host":42}}}');
  assert.throws(() => resolveContext({ context: "empty", env: {}, home: h }), /names no docker endpoint/);
});

test("hostile config files: not JSON, not an object, too large, a directory: warned, ignored", () => {
  const h = home();
  const cfg = join(h, ".docker");
  mkdirSync(cfg, { recursive: true });
  for (const content of ["{not json", "[1,2]", `{"x":"${"a".repeat(MAX_CONFIG_BYTES)}"}`]) {
    writeFileSync(join(cfg, "config.json"), content);
    const r = resolveContext({ env: {}, home: h });
    assert.equal(r.host, DEFAULT_HOST);
    assert.equal(r.warnings.length, 1, content.slice(0, 20));
    assert.match(r.warnings[0] as string, /^WARNING: Error loading config file: /);
  }
  rmSync(join(cfg, "config.json"));
  mkdirSync(join(cfg, "config.json"));
  assert.match(resolveContext({ env: {}, home: h }).warnings[0] as string, /not a regular file/);
});

test("hosts: a bare host:port is tcp, schemes pass through", () => {
  assert.equal(normalizeHost("foo"), "tcp://foo");
  assert.equal(normalizeHost("10.0.0.1:2375"), "tcp://10.0.0.1:2375");
  assert.equal(normalizeHost("unix:///x.sock"), "unix:///x.sock");
  assert.equal(normalizeHost(""), DEFAULT_HOST);
});
