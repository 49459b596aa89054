import assert from "node:assert/strict";
import { test } from "node:test";
import { cleanPath, Router } from "./router.ts";

const router = () =>
  new Router<string>()
    .add("GET", "/_ping", "ping-get")
    .add("HEAD", "/_ping", "ping-head")
    .add("GET", "/containers/json", "list")
    .add("GET", "/containers/{name}/json", "inspect")
    .add("POST", "/containers/{name}/attach", "attach")
    .add("GET", "/images/{name:*}/json", "image-inspect");

test("paths match with and without a version prefix, and the version is given", () => {
  const r = router();
  assert.deepEqual(r.match("GET", "/containers/json"), {
    kind: "match",
    handler: "list",
    params: {},
    version: undefined,
    pattern: "/containers/json",
  });
  const v = r.match("GET", "/v1.41/containers/json");
  assert.equal(v.kind, "match");
  assert.equal(v.kind === "match" && v.version, "1.41");
  const odd = r.match("GET", "/v1.99.3/_ping");
  assert.equal(odd.kind === "match" && odd.version, "1.99.3");
});

test("path parameters: one segment, or the rest of the path; percent-escapes decoded", () => {
  const r = router();
  const m = r.match("GET", "/v1.45/containers/web-1/json");
  assert.ok(m.kind === "match");
  assert.equal(m.handler, "inspect");
  assert.deepEqual(m.params, { name: "web-1" });
  const img = r.match("GET", "/images/docker.io/library/busybox:latest/json");
  assert.ok(img.kind === "match");
  assert.deepEqual(img.params, { name: "docker.io/library/busybox:latest" });
  const esc = r.match("GET", "/containers/a%20b/json");
  assert.ok(esc.kind === "match");
  assert.deepEqual(esc.params, { name: "a b" });
  // A name that holds a slash does not match a one-segment parameter, written or escaped.
  assert.deepEqual(r.match("GET", "/containers/a/b/json"), { kind: "not-found" });
  assert.deepEqual(r.match("GET", "/containers/a%2Fb/json"), { kind: "not-found" });
  // Escaped dot segments never reach a handler as a name (dockerd decodes, then cleans).
  for (const path of [
    "/containers/%2e%2e/json",
    "/containers/%2E/json",
    "/images/a/%2e%2e/b/json",
    "/images/%2e%2e/json",
  ]) {
    assert.deepEqual(r.match("GET", path), { kind: "not-found" }, path);
  }
  const slashed = r.match("GET", "/images/localhost%3A5000%2Fa%2Fb/json");
  assert.ok(slashed.kind === "match");
  assert.deepEqual(slashed.params, { name: "localhost:5000/a/b" });
  assert.throws(() => r.match("GET", "/containers/%zz/json"), { kind: "invalid-argument", message: /invalid escape/ });
});

test("an unknown path, a bad version prefix or another method is not found (dockerd answers no 405)", () => {
  const r = router();
  for (const [method, path] of [
    ["GET", "/nope"],
    ["GET", "/v1.41/nope"],
    ["GET", "/v1.41x/_ping"],
    ["GET", "/V1.41/_ping"],
    ["GET", "/v/_ping"],
    ["POST", "/_ping"],
    ["DELETE", "/containers/json"],
    ["GET", "/containers/attach"],
    ["GET", "/containers/x/y/json"],
  ] as const) {
    assert.deepEqual(r.match(method, path), { kind: "not-found" }, `${method} ${path}`);
  }
  const head = r.match("HEAD", "/_ping");
  assert.ok(head.kind === "match" && head.handler === "ping-head");
});

test("paths that are not clean are redirected to their clean form, so '..' never reaches a handler", () => {
  const r = router();
  assert.deepEqual(r.match("GET", "/v1.41//containers/json"), { kind: "redirect", location: "/v1.41/containers/json" });
  assert.deepEqual(r.match("GET", "/containers/../_ping"), { kind: "redirect", location: "/_ping" });
  assert.deepEqual(r.match("GET", "/containers/./x/json"), { kind: "redirect", location: "/containers/x/json" });
  assert.deepEqual(r.match("GET", "/../../etc/passwd"), { kind: "redirect", location: "/etc/passwd" });
  assert.equal(cleanPath("/a/b/"), "/a/b/");
  assert.equal(cleanPath("/a/.."), "/");
  assert.equal(cleanPath("/"), "/");
  assert.equal(cleanPath("/a//b/./c/../d"), "/a/b/d");
});

test("registering a route twice or a malformed pattern is a programming error", () => {
  assert.throws(() => router().add("GET", "/_ping", "again"), /registered twice/);
  assert.throws(() => new Router<string>().add("GET", "/x/{a", "x"), /unclosed/);
  assert.throws(() => new Router<string>().add("GET", "/x/{a}/{a}", "x"), /bad name/);
  assert.throws(() => new Router<string>().add("GET", "x", "x"), /must start with/);
});
