import assert from "node:assert/strict";
import { test } from "node:test";
import { applyChanges } from "./changes.ts";
import { commitConfig, imageConfigOf, mergeCommitConfig } from "./commit.ts";

const CONTAINER = {
  Hostname: "abc",
  AttachStdout: true,
  Image: "busybox:latest",
  Cmd: ["sh", "-c", "echo hi > /made"],
  Entrypoint: null,
  Env: ["PATH=/usr/bin:/bin", "GREETING=hi"],
  Labels: { suite: "x", tier: "web" },
  WorkingDir: "/srv",
  User: "",
  ExposedPorts: { "80/tcp": {} },
};

test("an image config keeps the image fields of a container's config, nothing empty", () => {
  assert.deepEqual(imageConfigOf(CONTAINER), {
    Cmd: ["sh", "-c", "echo hi > /made"],
    Env: ["PATH=/usr/bin:/bin", "GREETING=hi"],
    Labels: { suite: "x", tier: "web" },
    WorkingDir: "/srv",
    ExposedPorts: { "80/tcp": {} },
  });
});

test("commit's config: the request and --change first, the container's fills what they leave unset", () => {
  assert.deepEqual(mergeCommitConfig({}, CONTAINER), imageConfigOf(CONTAINER));
  const requested = applyChanges({}, ['CMD ["cat", "/made"]', "ENV GREETING=bye", "LABEL tier=db", "WORKDIR /tmp"]);
  const merged = mergeCommitConfig(requested, CONTAINER);
  assert.deepEqual(merged.Cmd, ["cat", "/made"]);
  assert.deepEqual(merged.Env, ["GREETING=bye", "PATH=/usr/bin:/bin"]);
  assert.deepEqual(merged.Labels, { suite: "x", tier: "db" });
  assert.equal(merged.WorkingDir, "/tmp");
  assert.deepEqual(merged.ExposedPorts, { "80/tcp": {} });
  // An Entrypoint from the container only when the request gives neither Cmd nor Entrypoint.
  const withEntry = { ...CONTAINER, Entrypoint: ["/bin/sh"] };
  assert.deepEqual(mergeCommitConfig({}, withEntry).Entrypoint, ["/bin/sh"]);
  assert.equal(mergeCommitConfig({ Cmd: ["true"] }, withEntry).Entrypoint, undefined);
  // Hostile types in a request are dropped, not passed on.
  assert.deepEqual(mergeCommitConfig({ Env: "PATH=x", Labels: ["a"], Cmd: [1], User: 7 }, {}), {});
});

test("the new image config: the parent's, one diff_id and one history entry more, its own times", () => {
  const parent = {
    architecture: "amd64",
    os: "linux",
    created: "2020-01-01T00:00:00Z",
    author: "someone",
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: ["sha256:aa"] },
    history: [{ created: "2020-01-01T00:00:00Z", created_by: "ADD rootfs" }],
  };
  const doc = commitConfig(parent, {
    diffId: "sha256:bb",
    created: "2026-01-01T00:00:00Z",
    author: "",
    comment: "snapshot",
    containerId: "c".repeat(64),
    config: { Cmd: ["cat"] },
    createdBy: "sh -c echo hi > /made",
  });
  assert.deepEqual(doc, {
    architecture: "amd64",
    os: "linux",
    created: "2026-01-01T00:00:00Z",
    comment: "snapshot",
    container: "c".repeat(64),
    config: { Cmd: ["cat"] },
    rootfs: { type: "layers", diff_ids: ["sha256:aa", "sha256:bb"] },
    history: [
      { created: "2020-01-01T00:00:00Z", created_by: "ADD rootfs" },
      { created: "2026-01-01T00:00:00Z", created_by: "sh -c echo hi > /made", comment: "snapshot" },
    ],
  });
});
