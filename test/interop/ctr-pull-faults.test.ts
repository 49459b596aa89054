// Bad input on the pull path, driven by the real ctr against berth-containerd, with a scriptable
// registry serving the faults: a blob with the wrong digest, a connection dropped mid-blob, a
// truncated blob, hostile layer tars (path traversal, a whiteout outside the layer) and an unknown
// manifest media type. Each fails with a clear error, leaves no image and no snapshot behind, and a
// retry succeeds once the fault is gone. Also: kill -9 of the daemon in the middle of a pull.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipLayer } from "../fixtures/layer-tar.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { type FakeRegistry, publishImage, startFakeRegistry } from "../helpers/fake-registry.ts";

const skip =
  process.getuid?.() !== 0
    ? "interop tests run as root"
    : !existsSync("/usr/bin/ctr")
      ? "ctr not installed"
      : undefined;
type Daemon = BerthContainerd & { cleanup(): Promise<void> };

describe("pull faults through ctr and berth-containerd", { skip }, () => {
  let d: Daemon;
  let reg: FakeRegistry;

  before(async () => {
    d = await startBerthContainerd();
    reg = await startFakeRegistry();
  });
  after(async () => {
    await reg?.stop();
    await d?.cleanup();
  });

  // Async: this process serves the registry, so a blocking spawn would deadlock.
  const pull = (ref: string, ns: string) =>
    d.ctrAsync(["images", "pull", "--plain-http", `${reg.host}/${ref}`], { namespace: ns, timeoutMs: 60_000 });
  /** No image record (when the failure is in the fetch) and no snapshot (ever). */
  const nothingLeft = (ns: string, opts: { imageRecord?: boolean } = {}) => {
    // ctr records the image after fetching and before unpacking (containerd's client does the
    // same), so an unpack failure leaves the record; the daemon's part is that no snapshot remains.
    if (!opts.imageRecord) assert.equal(d.ctr(["images", "ls", "-q"], { namespace: ns }).stdout.trim(), "", "no image");
    const snaps = d.ctr(["snapshots", "ls"], { namespace: ns }).stdout.trim().split("\n").slice(1);
    assert.deepEqual(snaps, [], "no snapshot");
  };
  const pulled = async (ref: string, ns: string) => {
    const r = await pull(ref, ns);
    assert.equal(r.status, 0, r.stderr);
    assert.match(d.ctr(["images", "ls", "-q"], { namespace: ns }).stdout, new RegExp(ref.replace(":", ".")));
  };

  test("a blob with the wrong digest is refused; the retry succeeds", { timeout: 90_000 }, async () => {
    const l = await gzipLayer([{ name: "hello", body: Buffer.from("hi\n") }]);
    const img = publishImage(reg, "faults/digest", "1", [l]);
    reg.faults.set(img.layers[0]!.digest, { replaceWith: randomBytes(l.blob.length), times: 1 });
    const r = await pull("faults/digest:1", "digest");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unexpected digest|digest mismatch|failed precondition/i);
    assert.doesNotMatch(
      d.ctr(["content", "ls", "-q"], { namespace: "digest" }).stdout,
      new RegExp(img.layers[0]!.digest),
    );
    nothingLeft("digest");
    await pulled("faults/digest:1", "digest");
  });

  test("a connection dropped mid-blob resumes from the ingest's offset", { timeout: 90_000 }, async () => {
    const l = await gzipLayer([{ name: "big", body: randomBytes(3 << 20) }]);
    const img = publishImage(reg, "faults/drop", "1", [l]);
    reg.faults.set(img.layers[0]!.digest, { dropAfter: 1 << 20, times: 1 });
    const first = await pull("faults/drop:1", "drop");
    if (first.status !== 0) {
      // ctr gave up on the short read: the ingest keeps what arrived and the next pull resumes it.
      assert.match(first.stderr, /unexpected EOF|short|closed|reset|failed/i);
      nothingLeft("drop");
      await pulled("faults/drop:1", "drop");
      const resumed = reg.requests.filter((q) => q.includes(img.layers[0]!.digest)).length;
      assert.ok(resumed >= 2, "the blob was asked for again");
    }
    assert.match(d.ctr(["images", "ls", "-q"], { namespace: "drop" }).stdout, /faults\/drop:1/);
  });

  test("a truncated blob fails clearly", { timeout: 90_000 }, async () => {
    const l = await gzipLayer([{ name: "file", body: randomBytes(256 << 10) }]);
    const img = publishImage(reg, "faults/trunc", "1", [l]);
    reg.faults.set(img.layers[0]!.digest, { dropAfter: 1000 });
    const r = await pull("faults/trunc:1", "trunc");
    assert.notEqual(r.status, 0);
    nothingLeft("trunc");
    reg.faults.delete(img.layers[0]!.digest);
    await pulled("faults/trunc:1", "trunc");
  });

  test("a layer with path traversal is refused and writes nothing outside", { timeout: 90_000 }, async () => {
    const marker = `berth-escape-${process.pid}-${Date.now()}`;
    const l = await gzipLayer([
      { name: "ok", body: Buffer.from("fine") },
      { name: `../../../../../../tmp/${marker}`, body: Buffer.from("escaped") },
    ]);
    publishImage(reg, "faults/traversal", "1", [l]);
    const r = await pull("faults/traversal:1", "traversal");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /traversal|outside|escapes|\.\./i);
    assert.equal(existsSync(join("/tmp", marker)), false);
    nothingLeft("traversal", { imageRecord: true });
  });

  test("a whiteout that points outside the layer is refused", { timeout: 90_000 }, async () => {
    const l = await gzipLayer([{ name: "a/../../.wh.etc" }]);
    publishImage(reg, "faults/whiteout", "1", [l]);
    const r = await pull("faults/whiteout:1", "whiteout");
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /outside|escapes|\.\.|whiteout/i);
    nothingLeft("whiteout", { imageRecord: true });
  });

  test("an unknown manifest media type fails and leaves nothing", { timeout: 90_000 }, async () => {
    const l = await gzipLayer([{ name: "x", body: Buffer.from("x") }]);
    publishImage(reg, "faults/mediatype", "1", [l], { manifestMediaType: "application/vnd.example.unknown+json" });
    const r = await pull("faults/mediatype:1", "mediatype");
    assert.notEqual(r.status, 0);
    nothingLeft("mediatype");
  });

  test("kill -9 of the daemon mid-pull leaves a consistent store; the pull then completes", {
    timeout: 120_000,
  }, async () => {
    const layers = [
      await gzipLayer([{ name: "one", body: randomBytes(2 << 20) }]),
      await gzipLayer([{ name: "two", body: randomBytes(2 << 20) }]),
    ];
    const img = publishImage(reg, "faults/crash", "1", layers);
    reg.throttle = 2 << 20; // ~2 s for the image: time to crash in the middle
    const { spawn } = await import("node:child_process");
    const ctr = spawn(
      "/usr/bin/ctr",
      ["--address", d.address, "-n", "crash", "images", "pull", "--plain-http", `${reg.host}/faults/crash:1`],
      {
        stdio: "ignore",
      },
    );
    const exited = new Promise((r) => ctr.once("exit", r));
    for (let i = 0; i < 100 && !reg.requests.some((q) => q.includes(img.layers[0]!.digest)); i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    await d.kill9();
    await exited;
    reg.throttle = 0;
    await d.start();
    // The store answers, holds no image, and a new pull completes (resuming or restarting ingests).
    assert.equal(d.ctr(["images", "ls", "-q"], { namespace: "crash" }).stdout.trim(), "");
    await pulled("faults/crash:1", "crash");
    const content = d.ctr(["content", "ls", "-q"], { namespace: "crash" }).stdout;
    for (const l of img.layers) assert.ok(content.includes(l.digest), `layer ${l.digest} present`);
    assert.match(d.ctr(["snapshots", "ls"], { namespace: "crash" }).stdout, /Committed/);
  });
});
