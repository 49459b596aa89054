import assert from "node:assert/strict";
import { test } from "node:test";
import { BUSYBOX_CONFIG, imageOf } from "./fixture.test-helper.ts";
import { historyBody, inspectBody, listEntry, repoDigests } from "./views.ts";

const NAMES = ["docker.io/library/busybox:latest", "localhost:5000/tools/bb:1"];

test("list entry: id, familiar tags, repo digests, created seconds, size, labels; VirtualSize before 1.44", () => {
  const image = imageOf(NAMES);
  const e = listEntry(image, "1.50");
  assert.equal(e.Id, image.id);
  assert.match(String(e.Id), /^sha256:[a-f0-9]{64}$/);
  assert.deepEqual(e.RepoTags, ["busybox:latest", "localhost:5000/tools/bb:1"]);
  assert.deepEqual(e.RepoDigests, [
    `busybox@${image.manifestDigest}`,
    `localhost:5000/tools/bb@${image.manifestDigest}`,
  ]);
  assert.equal(e.Created, Date.parse("2024-09-26T21:31:42Z") / 1000);
  assert.equal(e.Size, 120);
  assert.equal(e.Containers, -1);
  assert.equal(e.ParentId, "");
  assert.deepEqual(e.Labels, { "org.example.kind": "shell" });
  assert.ok(!("VirtualSize" in e));
  assert.equal(listEntry(image, "1.41").VirtualSize, 120);
  // A dangling image: no tags, no digests.
  const dangling = listEntry(imageOf([`moby-dangling@sha256:${"c".repeat(64)}`]), "1.50");
  assert.deepEqual([dangling.RepoTags, dangling.RepoDigests], [[], []]);
});

test("list entry under a reference filter: only the names it matches, as tags and as digests", () => {
  const image = imageOf(NAMES);
  const e = listEntry(image, "1.50", -1, (name) => name.startsWith("localhost:5000/"));
  assert.deepEqual(e.RepoTags, ["localhost:5000/tools/bb:1"]);
  assert.deepEqual(e.RepoDigests, [`localhost:5000/tools/bb@${image.manifestDigest}`]);
});

test("inspect: dockerd's fields from the config, per API version", () => {
  const image = imageOf(NAMES);
  const v150 = inspectBody(image, "1.50");
  assert.equal(v150.Id, image.id);
  assert.equal(v150.Created, "2024-09-26T21:31:42Z");
  assert.equal(v150.Author, "someone");
  assert.equal(v150.Architecture, "amd64");
  assert.equal(v150.Os, "linux");
  assert.equal(v150.Parent, "");
  assert.equal(v150.Size, 120);
  assert.deepEqual(v150.RootFS, { Type: "layers", Layers: BUSYBOX_CONFIG.rootfs.diff_ids });
  assert.deepEqual(v150.GraphDriver, { Data: null, Name: "overlayfs" });
  assert.deepEqual(v150.Metadata, { LastTagTime: "2026-12-05T12:00:00.000Z" });
  const c150 = v150.Config as Record<string, unknown>;
  assert.deepEqual(
    [c150.Env, c150.Cmd, c150.Labels, c150.StopSignal, c150.Hostname],
    [BUSYBOX_CONFIG.config.Env, ["sh"], { "org.example.kind": "shell" }, "SIGQUIT", ""],
  );
  assert.deepEqual((v150.Descriptor as { digest: string }).digest, image.manifestDigest);
  assert.ok(!("VirtualSize" in v150) && !("ContainerConfig" in v150) && !("Variant" in v150));
  const v141 = inspectBody(image, "1.41");
  const c = v141.Config as Record<string, unknown>;
  // 1.41: the whole container.Config shape, empties included.
  assert.equal(c.Hostname, "");
  assert.equal(c.Tty, false);
  assert.deepEqual(c.Cmd, ["sh"]);
  assert.equal(c.Entrypoint, null);
  assert.equal(c.Volumes, null);
  assert.equal(c.WorkingDir, "");
  assert.equal(v141.VirtualSize, 120);
  assert.equal(v141.Container, "");
  assert.ok(!("Descriptor" in v141));
});

test("inspect reads a hostile config's fields by type: wrong types are absent, never trusted", () => {
  const doc = {
    ...BUSYBOX_CONFIG,
    created: 12,
    author: { x: 1 },
    variant: "v8",
    config: { Env: "PATH=/x", Cmd: [1, 2], Entrypoint: ["/bin/sh", "-c"], Labels: ["a"], User: 0, WorkingDir: "/w" },
    history: "nope",
  };
  const image = imageOf(["docker.io/library/odd:1"], doc, [5, 6]);
  const v = inspectBody(image, "1.41");
  assert.equal(v.Created, "0001-01-01T00:00:00Z");
  assert.equal(v.Author, "");
  assert.equal(v.Variant, "v8");
  const c = v.Config as Record<string, unknown>;
  assert.equal(c.Env, null);
  assert.equal(c.Cmd, null);
  assert.deepEqual(c.Entrypoint, ["/bin/sh", "-c"]);
  assert.equal(c.Labels, null);
  assert.equal(c.User, "");
  assert.equal(c.WorkingDir, "/w");
  // No history: one entry per layer, newest first.
  const h = historyBody(image);
  assert.equal(h.length, 2);
  assert.deepEqual(
    h.map((e) => [e.Id, e.Size]),
    [
      [image.id, 6],
      ["<missing>", 5],
    ],
  );
  assert.equal(listEntry(image, "1.50").Created, 0);
});

test("history: newest first, layer sizes on the entries that made layers, empty layers 0, tags on the top", () => {
  const image = imageOf(NAMES);
  const h = historyBody(image);
  assert.deepEqual(
    h.map((e) => [e.Id, e.CreatedBy, e.Size, e.Comment]),
    [
      [image.id, "RUN touch /x", 20, "buildkit"],
      ["<missing>", 'CMD ["sh"]', 0, ""],
      ["<missing>", "ADD file:abc in / ", 100, ""],
    ],
  );
  assert.deepEqual(h[0]!.Tags, ["busybox:latest", "localhost:5000/tools/bb:1"]);
  assert.equal(h[1]!.Tags, null);
  assert.equal(h[2]!.Created, Date.parse("2024-09-26T21:31:40Z") / 1000);
});

test("repo digests: one per repository, name@digest names shown as they are", () => {
  const d = `sha256:${"b".repeat(64)}`;
  const image = imageOf([
    "docker.io/library/busybox:1",
    "docker.io/library/busybox:latest",
    `docker.io/library/busybox@${d}`,
  ]);
  assert.deepEqual(repoDigests(image), [`busybox@${d}`, `busybox@${image.manifestDigest}`].sort());
});

test("a hostile config's deeply nested values never reach the answer: docker's types only", () => {
  const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  const text = JSON.stringify({ ...BUSYBOX_CONFIG, config: {} }).replace(
    '"config":{}',
    `"config":{"ExposedPorts":{"80/tcp":${deep}},"Volumes":{"/data":${deep}},"Labels":{"a":"b","c":${deep}},"Healthcheck":{"Test":["CMD","true"],"Interval":${deep},"Retries":3}}`,
  );
  const image = imageOf(["docker.io/library/deep:1"], text);
  const body = inspectBody(image, "1.41");
  const c = JSON.parse(JSON.stringify(body)).Config;
  assert.deepEqual(c.ExposedPorts, { "80/tcp": {} });
  assert.deepEqual(c.Volumes, { "/data": {} });
  assert.deepEqual(c.Labels, { a: "b" });
  assert.deepEqual(c.Healthcheck, { Test: ["CMD", "true"], Retries: 3 });
  assert.deepEqual(listEntry(image, "1.50").Labels, { a: "b" });
});
