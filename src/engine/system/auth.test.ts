import assert from "node:assert/strict";
import { test } from "node:test";
import { BerthError } from "../../common/errors.ts";
import { decodeLogin, registryDomain } from "./auth.ts";

const invalid = (e: unknown) => e instanceof BerthError && e.kind === "invalid-argument";

test("the registry a server address names: scheme and path dropped, Docker Hub's names folded", () => {
  assert.equal(registryDomain(""), "docker.io");
  assert.equal(registryDomain("https://index.docker.io/v1/"), "docker.io");
  assert.equal(registryDomain("index.docker.io"), "docker.io");
  assert.equal(registryDomain("127.0.0.1:5000"), "127.0.0.1:5000");
  assert.equal(registryDomain("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
  assert.equal(registryDomain("Registry.Example.com"), "registry.example.com");
  assert.equal(registryDomain("[::1]:5000"), "[::1]:5000");
  for (const bad of ["a b", "host:port", "-x.com", "x".repeat(300), "user@host", "host:123456"]) {
    assert.throws(() => registryDomain(bad), invalid, bad);
  }
});

test("POST /auth's body: credentials typed, the server address checked; a wrong body is a 400", () => {
  assert.deepEqual(decodeLogin({ username: "u", password: "p", serveraddress: "127.0.0.1:5000" }), {
    auth: { username: "u", password: "p", identityToken: "", serverAddress: "127.0.0.1:5000" },
    domain: "127.0.0.1:5000",
  });
  assert.deepEqual(decodeLogin({ serveraddress: "127.0.0.1:5000" }), { auth: undefined, domain: "127.0.0.1:5000" });
  for (const bad of [undefined, null, [], "x", 5, { username: 5 }, { password: ["a"] }, { serveraddress: {} }]) {
    assert.throws(() => decodeLogin(bad), invalid, JSON.stringify(bad));
  }
});
