import assert from "node:assert/strict";
import { test } from "node:test";
import { parseChallenge } from "./auth.ts";
import { credentialsFromDockerConfig } from "./credentials.ts";
import { formatReference, parseReference } from "./reference.ts";

test("references normalise like docker's", () => {
  assert.deepEqual(parseReference("busybox"), {
    domain: "docker.io",
    repository: "library/busybox",
    tag: "latest",
    digest: undefined,
  });
  assert.equal(formatReference(parseReference("user/app:1.2")), "docker.io/user/app:1.2");
  assert.deepEqual(parseReference("localhost:5000/a/b"), {
    domain: "localhost:5000",
    repository: "a/b",
    tag: "latest",
    digest: undefined,
  });
  const d = `sha256:${"a".repeat(64)}`;
  assert.deepEqual(parseReference(`127.0.0.1:5000/x:t@${d}`), {
    domain: "127.0.0.1:5000",
    repository: "x",
    tag: "t",
    digest: d,
  });
  assert.equal(parseReference(`x@${d}`).tag, undefined);
});

test("bad references are refused with a reason", () => {
  assert.throws(() => parseReference("UPPER/case"), /lowercase/);
  assert.throws(() => parseReference("x@sha256:123"), /bad digest/);
  assert.throws(() => parseReference("x:bad tag"), /bad tag/);
  assert.throws(() => parseReference(""), /invalid reference/);
});

test("WWW-Authenticate challenges", () => {
  assert.deepEqual(
    parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'),
    {
      scheme: "bearer",
      params: { realm: "https://auth.example/token", service: "registry.example", scope: "repository:a/b:pull" },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="berth"'), { scheme: "basic", params: { realm: "berth" } });
  assert.throws(() => parseChallenge("Negotiate abc"), /unsupported auth scheme/);
});

test("docker config.json credentials", () => {
  const store = credentialsFromDockerConfig(
    JSON.stringify({
      auths: {
        "https://index.docker.io/v1/": { auth: Buffer.from("hub:secret").toString("base64") },
        "registry.example:5000": { username: "u", password: "p:with:colons" },
      },
    }),
  );
  assert.deepEqual(store("docker.io"), { username: "hub", password: "secret", identityToken: undefined });
  assert.deepEqual(store("registry.example:5000"), {
    username: "u",
    password: "p:with:colons",
    identityToken: undefined,
  });
  assert.equal(store("other.example"), undefined);
  assert.throws(() => credentialsFromDockerConfig("{"), /docker config.json/);
  assert.throws(
    () =>
      credentialsFromDockerConfig(
        JSON.stringify({ auths: { h: { auth: Buffer.from("nocolon").toString("base64") } } }),
      )("h"),
    /not base64/,
  );
});
