import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { BerthError } from "../../common/errors.ts";
import { BUSYBOX_CONFIG, imageOf } from "../images/fixture.test-helper.ts";
import { dfBody, dfTypes } from "./df.ts";
import { sizeFields } from "./sizes.ts";

const digest = (s: string) => `sha256:${createHash("sha256").update(s).digest("hex")}`;

// Two images sharing their first layer (100 bytes); each has a layer of its own.
const base = imageOf(["docker.io/library/busybox:latest"], BUSYBOX_CONFIG, [100, 20]);
const child = imageOf(
  ["docker.io/library/app:1"],
  { ...BUSYBOX_CONFIG, rootfs: { type: "layers", diff_ids: [BUSYBOX_CONFIG.rootfs.diff_ids[0], digest("other")] } },
  [100, 7],
);
const all = dfTypes([]);

test("images: Size, SharedSize (layers another image holds too), Containers; LayersSize counts each layer once", () => {
  const body = dfBody(
    {
      images: [base, child],
      containers: [{ entry: { Id: "c1" }, imageId: base.id, sizes: {} }],
      types: all,
    },
    "1.50",
  );
  assert.equal(body.LayersSize, 100 + 20 + 7);
  const images = body.Images as Record<string, unknown>[];
  assert.deepEqual(
    images.map((i) => [i.Size, i.SharedSize, i.Containers]),
    [
      [120, 100, 1],
      [107, 100, 0],
    ],
  );
  assert.equal("VirtualSize" in images[0]!, false);
  assert.deepEqual(body.Volumes, []);
  assert.deepEqual(body.BuildCache, []);
  assert.equal("BuilderSize" in body, false);
});

test("containers: their entries with their sizes; SizeRw and SizeRootFs left out when 0", () => {
  const body = dfBody(
    {
      images: [base],
      containers: [
        { entry: { Id: "running" }, imageId: base.id, sizes: sizeFields(3, 120) },
        { entry: { Id: "created" }, imageId: base.id, sizes: sizeFields(0, 120) },
        { entry: { Id: "orphan" }, imageId: "sha256:gone", sizes: sizeFields(0, 0) },
      ],
      types: all,
    },
    "1.41",
  );
  assert.deepEqual(body.Containers, [
    { Id: "running", SizeRw: 3, SizeRootFs: 123 },
    { Id: "created", SizeRootFs: 120 },
    { Id: "orphan" },
  ]);
  assert.equal(body.BuilderSize, 0);
  assert.equal((body.Images as Record<string, unknown>[])[0]!.VirtualSize, 120);
});

test("type picks what is answered; an unknown type is a 400", () => {
  const body = dfBody({ images: [base], containers: [], types: dfTypes(["volume"]) }, "1.50");
  assert.deepEqual(body, { LayersSize: 0, Images: null, Containers: null, Volumes: [], BuildCache: null });
  assert.throws(
    () => dfTypes(["container", "bogus"]),
    (e: unknown) =>
      e instanceof BerthError && e.kind === "invalid-argument" && e.message === "unknown object type: bogus",
  );
});
