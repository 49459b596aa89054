import assert from "node:assert/strict";
import { test } from "node:test";
import { humanSize, PullMessages, PushMessages, progressBar } from "./pull-progress.ts";
import { parseImageRef } from "./reference.ts";

const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const L1 = `sha256:${"1".repeat(64)}`;
const L2 = `sha256:${"2".repeat(64)}`;
const CFG = `sha256:${"3".repeat(64)}`;

test("a pull's events become dockerd's JSON messages", () => {
  const m = new PullMessages(parseImageRef("busybox"));
  assert.deepEqual(m.start(), { status: "Pulling from library/busybox", id: "latest" });
  const out = [
    ...m.on({
      phase: "downloading",
      digest: CFG,
      mediaType: "application/vnd.oci.image.config.v1+json",
      current: 1,
      total: 2,
    }),
    ...m.on({ phase: "waiting", digest: L1, mediaType: LAYER, total: 2_000_000 }),
    ...m.on({ phase: "exists", digest: L2, mediaType: LAYER, total: 10 }),
    ...m.on({ phase: "downloading", digest: L1, mediaType: LAYER, current: 1_000_000, total: 2_000_000 }),
    ...m.on({ phase: "downloaded", digest: L1, mediaType: LAYER }),
    ...m.on({ phase: "extracting", digest: L1, mediaType: LAYER }),
    ...m.on({ phase: "extracted", digest: L1, mediaType: LAYER }),
    ...m.on({ phase: "extracted", digest: L2, mediaType: LAYER }),
  ];
  assert.deepEqual(
    out.map((x) => [x.status, x.id]),
    [
      ["Pulling fs layer", "111111111111"],
      ["Already exists", "222222222222"],
      ["Downloading", "111111111111"],
      ["Verifying Checksum", "111111111111"],
      ["Download complete", "111111111111"],
      ["Extracting", "111111111111"],
      ["Pull complete", "111111111111"],
    ],
  );
  assert.deepEqual(out[2]!.progressDetail, { current: 1_000_000, total: 2_000_000 });
  assert.match(out[2]!.progress!, /^\[=+> +\] 1MB\/2MB$/);
  assert.deepEqual(
    m.finish(L1, false).map((x) => x.status),
    [`Digest: ${L1}`, "Status: Downloaded newer image for busybox:latest"],
  );
  assert.equal(
    new PullMessages(parseImageRef("127.0.0.1:5000/a/b:2")).finish(L1, true)[1]!.status,
    "Status: Image is up to date for 127.0.0.1:5000/a/b:2",
  );
});

test("a layer already unpacked is 'Already exists' once, whichever of its events comes first", () => {
  // The unpacker finds the layer's snapshot before the download task finds its blob: "extracted"
  // comes first, "exists" after (dockerode's followProgress saw Pull complete, then Already exists).
  const m = new PullMessages(parseImageRef("127.0.0.1:5000/clients/bb:1"));
  const seen = [
    ...m.on({ phase: "waiting", digest: L1, mediaType: LAYER, total: 10 }),
    ...m.on({ phase: "extracted", digest: L1, mediaType: LAYER }),
    ...m.on({ phase: "exists", digest: L1, mediaType: LAYER, total: 10 }),
    ...m.on({ phase: "waiting", digest: L2, mediaType: LAYER, total: 10 }),
    ...m.on({ phase: "exists", digest: L2, mediaType: LAYER, total: 10 }),
    ...m.on({ phase: "extracted", digest: L2, mediaType: LAYER }),
  ].map((x) => [x.status, x.id]);
  assert.deepEqual(seen, [
    ["Pulling fs layer", "111111111111"],
    ["Already exists", "111111111111"],
    ["Pulling fs layer", "222222222222"],
    ["Already exists", "222222222222"],
  ]);
});

test("sizes and bars as go-units and docker draw them", () => {
  assert.equal(humanSize(0), "0B");
  assert.equal(humanSize(999), "999B");
  assert.equal(humanSize(2_150_000), "2.15MB");
  assert.equal(humanSize(1_000), "1kB");
  assert.equal(progressBar(0, 10).length, 52 + " 0B/10B".length);
  assert.match(progressBar(10, 10), /^\[=+>\] /);
  assert.match(progressBar(20, 10), /^\[=+>\] /);
  assert.equal(progressBar(5, 0), "5B");
});

test("a push's events become dockerd's JSON messages", () => {
  const m = new PushMessages(parseImageRef("127.0.0.1:5000/tools/bb:2"));
  assert.deepEqual(m.start(), { status: "The push refers to repository [127.0.0.1:5000/tools/bb]" });
  assert.deepEqual(
    new PushMessages(parseImageRef("user/app")).start().status,
    "The push refers to repository [user/app]",
  );
  const out = [
    ...m.on({ phase: "uploading", digest: CFG, mediaType: "application/vnd.oci.image.config.v1+json", total: 5 }),
    ...m.on({ phase: "uploading", digest: L1, mediaType: LAYER, total: 2_000_000 }),
    ...m.on({ phase: "uploaded", digest: L1, mediaType: LAYER, current: 2_000_000, total: 2_000_000 }),
    ...m.on({ phase: "uploaded", digest: CFG, mediaType: "application/vnd.oci.image.manifest.v1+json" }),
  ];
  assert.deepEqual(
    out.map((x) => [x.status, x.id]),
    [
      ["Preparing", "111111111111"],
      ["Pushing", "111111111111"],
      ["Pushed", "111111111111"],
    ],
  );
  assert.deepEqual(m.finish("2", L2, 527), [
    { status: `2: digest: ${L2} size: 527` },
    { progressDetail: {}, aux: { Tag: "2", Digest: L2, Size: 527 } },
  ]);
});
