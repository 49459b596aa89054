// Credentials where docker keeps them: config.json written whole, atomically, 0600, through a
// symlink; a config that does not parse or is huge left alone; credential helpers through their
// protocol, and helpers that print garbage, flood, hang or are missing.
import assert from "node:assert/strict";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { HelperFailure, runHelper } from "./credential-helper.ts";
import {
  eraseCredentials,
  getCredentials,
  hostnameOf,
  INDEX_SERVER,
  registryAuthHeader,
  serverKey,
  storeCredentials,
} from "./credentials.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-creds-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh config dir holding `config` (text) as config.json, or nothing. */
function configDir(name: string, config?: string): string {
  const d = join(dir, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  if (config !== undefined) writeFileSync(join(d, "config.json"), config);
  return d;
}
const read = (d: string) => JSON.parse(readFileSync(join(d, "config.json"), "utf8"));

test("server addresses as docker names them", () => {
  assert.equal(hostnameOf("http://127.0.0.1:5000/v2/x"), "127.0.0.1:5000");
  assert.equal(hostnameOf("registry.example:443"), "registry.example:443");
  assert.equal(serverKey("docker.io"), INDEX_SERVER);
  assert.equal(serverKey("localhost:5000"), "localhost:5000");
});

test("config.json: auths written atomically, 0600, unknown keys kept, a symlink followed", async () => {
  const d = configDir("file", JSON.stringify({ "x-unknown": { a: [1, 2] }, auths: { other: { auth: "eDp5" } } }));
  const config = read(d);
  const r = await storeCredentials(d, config, { username: "me", password: "p:w", serveraddress: "r:5000" }, {});
  assert.deepEqual(r, { inFile: true, changed: true });
  const after1 = read(d);
  assert.deepEqual(after1["x-unknown"], { a: [1, 2] });
  assert.equal(after1.auths.other.auth, "eDp5");
  assert.equal(Buffer.from(after1.auths["r:5000"].auth, "base64").toString(), "me:p:w");
  assert.equal(statSync(join(d, "config.json")).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(d), ["config.json"], "no temp file left");
  // The same credentials again: unchanged (docker's cue to stay quiet).
  assert.equal(
    (await storeCredentials(d, read(d), { username: "me", password: "p:w", serveraddress: "r:5000" }, {})).changed,
    false,
  );
  assert.deepEqual(await getCredentials(read(d), "r:5000", {}), {
    serveraddress: "r:5000",
    username: "me",
    password: "p:w",
  });
  // config.json a symlink (dotfiles): the target is rewritten, the link stays.
  const real = join(dir, "real-config.json");
  writeFileSync(real, "{}");
  const linked = configDir("linked");
  symlinkSync(real, join(linked, "config.json"));
  await storeCredentials(linked, {}, { username: "u", password: "p", serveraddress: "h" }, {});
  assert.ok(JSON.parse(readFileSync(real, "utf8")).auths.h);
  assert.ok(statSync(join(linked, "config.json")).isFile());
  const { present } = await eraseCredentials(d, read(d), ["r:5000", "http://r:5000"], {});
  assert.equal(present, 1);
  assert.deepEqual(Object.keys(read(d).auths), ["other"]);
});

test("a config.json that is not JSON, or huge, is never overwritten", async () => {
  for (const [name, text] of [
    ["notjson", "{ this is not json"],
    ["array", "[1]"],
    ["huge", `{"pad":"${"x".repeat(5 * 1024 * 1024)}"}`],
  ] as const) {
    const d = configDir(name, text);
    await assert.rejects(
      storeCredentials(d, {}, { username: "u", password: "p", serveraddress: "h" }, {}),
      /not overwritten/,
      name,
    );
    assert.equal(readFileSync(join(d, "config.json"), "utf8"), text, name);
  }
});

/** A helper script named docker-credential-<name> in a PATH dir of its own. */
function helper(name: string, body: string): Record<string, string> {
  const bin = join(dir, `bin-${name}`);
  mkdirSync(bin, { recursive: true });
  const path = join(bin, `docker-credential-${name}`);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return { PATH: `${bin}:${process.env.PATH}`, BERTH_CREDENTIAL_HELPER_TIMEOUT: "1500" };
}

test("credential helper: store, get and erase through its protocol; identity tokens", async () => {
  const store = join(dir, "helper-store");
  const env = helper(
    "file",
    `case "$1" in
store) cat > ${store};;
get) read s; if [ -f ${store} ]; then cat ${store}; else echo "credentials not found in native keychain"; exit 1; fi;;
erase) read s; echo "$s" > ${store}.erased; rm -f ${store};;
esac`,
  );
  const d = configDir("helper", JSON.stringify({ credsStore: "file", keep: true }));
  const r = await storeCredentials(d, read(d), { username: "me", password: "pw", serveraddress: "r:1" }, env);
  assert.deepEqual(r, { inFile: false, changed: true });
  assert.deepEqual(JSON.parse(readFileSync(store, "utf8")), { ServerURL: "r:1", Username: "me", Secret: "pw" });
  assert.deepEqual(read(d), { credsStore: "file", keep: true, auths: { "r:1": {} } });
  assert.deepEqual(await getCredentials(read(d), "r:1", env), { serveraddress: "r:1", username: "me", password: "pw" });
  const header = await registryAuthHeader(read(d), "r:1", env);
  assert.deepEqual(JSON.parse(Buffer.from(header as string, "base64url").toString()), {
    username: "me",
    password: "pw",
    serveraddress: "r:1",
  });
  writeFileSync(store, JSON.stringify({ ServerURL: "r:1", Username: "<token>", Secret: "tok" }));
  assert.deepEqual(await getCredentials(read(d), "r:1", env), { serveraddress: "r:1", identitytoken: "tok" });
  const erased = await eraseCredentials(d, read(d), ["r:1"], env);
  assert.equal(erased.failed.size, 0);
  assert.equal(readFileSync(`${store}.erased`, "utf8"), "r:1\n");
  assert.equal(await getCredentials(read(d), "r:1", env), undefined, "not found is no error");
  // credHelpers names a helper for one registry; others stay in the file.
  assert.equal(await getCredentials({ credHelpers: { "r:2": "file" }, auths: {} }, "r:3", env), undefined);
});

test("hostile helpers: garbage, a flood, a hang, a failure, a missing one, a path for a name", async () => {
  const garbage = helper("garbage", 'echo "<html>not json"');
  await assert.rejects(
    getCredentials({ credsStore: "garbage" }, "r", garbage),
    /error getting credentials - err: .*out: `<html>not json`/,
  );
  const wrongShape = helper("shape", "echo '{\"Username\": 5}'");
  await assert.rejects(getCredentials({ credsStore: "shape" }, "r", wrongShape), /has no Username and Secret/);
  const flood = helper("flood", "yes xxxxxxxxxxxxxxxx | head -c 10000000");
  await assert.rejects(getCredentials({ credsStore: "flood" }, "r", flood), /more than 65536 bytes/);
  const hang = helper("hang", "sleep 30");
  const t0 = Date.now();
  await assert.rejects(getCredentials({ credsStore: "hang" }, "r", hang), /did not answer in 1.5 s/);
  assert.ok(Date.now() - t0 < 10_000);
  const fails = helper("fails", 'echo "keychain locked"; exit 3');
  await assert.rejects(
    getCredentials({ credsStore: "fails" }, "r", fails),
    /err: exit status 3, out: `keychain locked`/,
  );
  await assert.rejects(
    storeCredentials(
      configDir("missing"),
      { credsStore: "nosuch" },
      { username: "u", password: "p", serveraddress: "r" },
      {
        PATH: dir,
      },
    ),
    /error storing credentials - err: exec: "docker-credential-nosuch": executable file not found in \$PATH, out: ``/,
  );
  await assert.rejects(runHelper("../../bin/sh", "get", "r", {}), /invalid credential helper name/);
  await assert.rejects(runHelper("nosuch", "get", "r", { PATH: dir }), HelperFailure);
});
