// Bulk content read out of berth-containerd by the real `ctr` (containerd 1.6's client), the way it
// reads everything through its ReaderAt: one Read stream per 32 KiB chunk, cancelled (an HTTP/2
// RST_STREAM) as soon as the chunk is in. A ~200 MB image is exported ten times in a row and a
// 50 MB layer is read with `ctr content get` ten times; each copy is checked blob by blob against
// the digests the image was made with. Before the daemon allowed that many stream resets, Node's
// HTTP/2 session (nghttp2's rapid-reset guard: 1000 resets, then 33 a second) closed the
// connection after about 40 MB: "transport is closing".
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LargeImage, writeLargeImageArchive } from "../fixtures/large-image.ts";
import { type BerthContainerd, CTR, startBerthContainerd } from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "interop tests run as root" : !existsSync(CTR) && `${CTR} is missing`;
const ROUNDS = Number(process.env.BERTH_LARGE_CONTENT_ROUNDS ?? 10);
const LAYERS = 4;
const LAYER_BYTES = 50 << 20;
const NAME = "docker.io/berth/large:latest";

/** What one read of ctr's stdout held: its size and digest, and the digest of each tar member. */
interface Copy {
  status: number;
  stderr: string;
  bytes: number;
  digest: string;
  members: Map<string, string>;
}

/**
 * Hashes a tar stream member by member as it goes by (ustar headers; names fit the 100-byte
 * field, as ctr's blobs/sha256/<hex> do), so nothing of the 200 MB is kept.
 */
class TarHasher {
  readonly members = new Map<string, string>();
  #pending = Buffer.alloc(0);
  #name = "";
  #left = 0; // bytes of the current member still to come
  #pad = 0; // padding after it
  #hash: ReturnType<typeof createHash> | undefined;

  push(chunk: Buffer): void {
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (;;) {
      if (this.#left > 0) {
        const n = Math.min(this.#left, buf.length);
        this.#hash?.update(buf.subarray(0, n));
        this.#left -= n;
        buf = buf.subarray(n);
        if (this.#left > 0) break;
        this.members.set(this.#name, `sha256:${this.#hash?.digest("hex")}`);
        this.#hash = undefined;
      }
      if (this.#pad > 0) {
        const n = Math.min(this.#pad, buf.length);
        this.#pad -= n;
        buf = buf.subarray(n);
        if (this.#pad > 0) break;
      }
      if (buf.length < 512) break;
      const header = buf.subarray(0, 512);
      buf = buf.subarray(512);
      if (header.every((b) => b === 0)) continue;
      const field = (at: number, len: number) =>
        header
          .subarray(at, at + len)
          .toString("latin1")
          .replace(/\0.*$/s, "");
      const size = Number.parseInt(field(124, 12).trim(), 8);
      const type = field(156, 1);
      this.#name = [field(345, 155), field(0, 100)].filter(Boolean).join("/");
      this.#hash = type === "0" || type === "" ? createHash("sha256") : undefined;
      this.#left = size;
      this.#pad = (512 - (size % 512)) % 512;
      if (size === 0 && this.#hash) {
        this.members.set(this.#name, `sha256:${this.#hash.digest("hex")}`);
        this.#hash = undefined;
      }
    }
    this.#pending = Buffer.from(buf);
  }
}

/** Runs ctr and hashes its stdout as it streams (as a tar when `tar`). */
function ctrRead(d: BerthContainerd, args: string[], tar: boolean): Promise<Copy> {
  return new Promise((resolve) => {
    const child = spawn(CTR, ["--address", d.address, "--namespace", "default", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 180_000,
    });
    const whole = createHash("sha256");
    const hasher = new TarHasher();
    let bytes = 0;
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      bytes += c.length;
      whole.update(c);
      if (tar) hasher.push(c);
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.on("close", (code) =>
      resolve({
        status: code ?? -1,
        stderr,
        bytes,
        digest: `sha256:${whole.digest("hex")}`,
        members: hasher.members,
      }),
    );
  });
}

describe("ctr reads large content out of berth-containerd", { skip, timeout: 600_000 }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let image: LargeImage;

  before(async () => {
    d = await startBerthContainerd();
    const archive = join(d.dir, "large.tar");
    const t0 = Date.now();
    image = await writeLargeImageArchive(archive, { name: NAME, layers: LAYERS, layerBytes: LAYER_BYTES });
    const r = await d.ctrAsync(["images", "import", "--no-unpack", archive], { timeoutMs: 300_000 });
    assert.equal(r.status, 0, `ctr images import: ${r.stderr}`);
    await rm(archive);
    console.log(
      `# ${(image.totalBytes / 2 ** 20).toFixed(0)} MiB image made and imported in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
  });

  after(async () => {
    await d?.cleanup();
  });

  test(`ctr images export of a ${LAYERS * (LAYER_BYTES >> 20)} MiB image, ${ROUNDS} times in a row`, async (t) => {
    let first: string | undefined;
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = Date.now();
      const r = await ctrRead(d, ["images", "export", "-", NAME], true);
      const ms = Date.now() - t0;
      assert.equal(r.status, 0, `export ${i + 1} of ${ROUNDS} failed after ${r.bytes} bytes: ${r.stderr}`);
      // Every blob of the image is in the archive, under its own digest, with its content.
      for (const digest of image.blobs.keys()) {
        const name = `blobs/sha256/${digest.slice(7)}`;
        assert.equal(r.members.get(name), digest, `export ${i + 1}: ${name}`);
      }
      // The same image gives the same archive every time.
      first ??= r.digest;
      assert.equal(r.digest, first, `export ${i + 1} differs from the first`);
      t.diagnostic(`export ${i + 1}: ${(r.bytes / 2 ** 20).toFixed(0)} MiB in ${ms} ms`);
    }
    t.diagnostic(`${ROUNDS} exports`);
  });

  test(`ctr content get of a ${LAYER_BYTES >> 20} MiB blob, ${ROUNDS} times in a row`, async (t) => {
    const layer = image.layerDigests[0]!;
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = Date.now();
      const r = await ctrRead(d, ["content", "get", layer], false);
      assert.equal(r.status, 0, `content get ${i + 1} of ${ROUNDS} failed after ${r.bytes} bytes: ${r.stderr}`);
      assert.equal(r.bytes, image.blobs.get(layer));
      assert.equal(r.digest, layer, `content get ${i + 1}`);
      t.diagnostic(`content get ${i + 1}: ${(r.bytes / 2 ** 20).toFixed(0)} MiB in ${Date.now() - t0} ms`);
    }
    t.diagnostic(`${ROUNDS} reads`);
  });
});
