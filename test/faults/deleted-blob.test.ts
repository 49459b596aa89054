// A blob file deleted under the content store while its row stays (issue 11, item 9): a disk
// error, a careless clean-up or an operator's rm. Before, the daemon answered a writer of that
// digest "already exists" from the row alone, so the client skipped the download and a re-pull
// failed forever with "not found" (or left the image incomplete). Now the daemon claims a blob only
// when its file is there; otherwise the writer writes it again and the pull puts the file back.
// Fault: pull an image, delete its manifest, config and layer files, pull again.
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeTempDir } from "../fixtures/busybox.ts";
import { type BerthContainerd, CTR, startBerthContainerd } from "../helpers/berth-containerd.ts";
import {
  assertCleanAfterStop,
  assertReferences,
  type LayeredImage,
  writeLayeredArchive,
} from "../helpers/fault-loop.ts";
import { checkReferences } from "../helpers/invariants.ts";
import { type LocalRegistry, REGISTRY_BINARY, seedImage, startRegistry } from "../helpers/local-registry.ts";

const NS = "faults";
const skip =
  process.getuid?.() !== 0
    ? "fault tests run as root"
    : !existsSync(CTR)
      ? "ctr not installed"
      : !existsSync(REGISTRY_BINARY)
        ? "docker-registry not installed"
        : undefined;

describe("a blob file deleted while its row stays", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: LocalRegistry;
  let work: string;
  let image: LayeredImage;
  before(async () => {
    work = await makeTempDir("berth-deleted-blob-");
    reg = await startRegistry();
    const archive = join(work, "layered.tar");
    image = await writeLayeredArchive(archive, { name: "faults/deleted:1", extraLayers: 2, layerBytes: 256 << 10 });
    await seedImage(reg, archive, "faults/deleted:1");
    d = await startBerthContainerd();
  });
  after(async () => {
    await d?.cleanup();
    await reg?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const blobFile = (digest: string) =>
    join(d.root, "io.containerd.content.v1.content", "blobs", "sha256", digest.slice("sha256:".length));

  test("a re-pull writes the missing files again", { timeout: 120_000 }, async (t) => {
    const ref = `${reg.host}/faults/deleted:1`;
    const pull = ["images", "pull", "--plain-http", ref];
    const first = await d.ctrAsync(pull, { namespace: NS });
    assert.equal(first.status, 0, first.stderr);
    assertReferences(d, "after the first pull");

    const deleted = [image.manifestDigest, image.configDigest, ...image.layerDigests];
    for (const digest of deleted) rmSync(blobFile(digest));
    const { problems } = checkReferences(d.root);
    t.diagnostic(`deleted ${deleted.length} blob files; the metadata now references ${problems.length} missing files`);
    assert.ok(problems.length >= deleted.length, "the fault took effect");

    const again = await d.ctrAsync(pull, { namespace: NS });
    assert.equal(again.status, 0, `pulling again: ${again.stderr}`);
    for (const digest of deleted) assert.ok(existsSync(blobFile(digest)), `${digest} is on disk again`);
    const check = await d.ctrAsync(["images", "check"], { namespace: NS });
    assert.match(check.stdout, /complete \((\d+)\/\1\)/, `images check: ${check.stdout}${check.stderr}`);
    assert.doesNotMatch(check.stdout, /incomplete|missing/, check.stdout);
    assertReferences(d, "after the re-pull");

    // The blobs read back whole.
    const get = await d.ctrAsync(["content", "get", image.configDigest], { namespace: NS });
    assert.equal(get.status, 0, get.stderr);
    assert.match(get.stdout, /"rootfs"/);
    const rmi = await d.ctrAsync(["images", "rm", "--sync", ref], { namespace: NS });
    assert.equal(rmi.status, 0, rmi.stderr);
    await assertCleanAfterStop(d, { namespace: NS, ids: [] });
  });
});
