// berth's client library against Debian's docker-registry: pull into berth-containerd (over its gRPC
// API, and through its transfer service), push back under a new name and check the registry holds
// the same bytes (digests equal), over plain HTTP, htpasswd (credentials from a docker
// config.json), token auth (a token service this test runs) and TLS with a test CA; and a
// multi-platform index from which each platform is chosen.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { RemoteContainerd } from "../../src/client/remote.ts";
import { transferPull } from "../../src/client/transfer.ts";
import { decodeManifest } from "../../src/oci/image/manifest.ts";
import { MediaType } from "../../src/oci/image/media-types.ts";
import { credentialsFromDockerConfig } from "../../src/oci/registry/credentials.ts";
import { parseReference } from "../../src/oci/registry/reference.ts";
import { RegistryClient } from "../../src/oci/registry/registry-client.ts";
import { pull } from "../../src/oci/transfer/pull.ts";
import { push } from "../../src/oci/transfer/push.ts";
import { writeImageArchive, writeOciLayout } from "../fixtures/oci-image.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { type LocalRegistry, REGISTRY_BINARY, seedImage, startRegistry } from "../helpers/local-registry.ts";

const skip =
  process.getuid?.() !== 0
    ? "interop tests run as root"
    : [REGISTRY_BINARY, "/usr/bin/skopeo", "/usr/bin/htpasswd", "/usr/bin/openssl"].find((b) => !existsSync(b));

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

describe("berth's client library with a real registry", { skip }, () => {
  let d: Daemon;
  let archive: string;
  const registries: LocalRegistry[] = [];
  const clients: RegistryClient[] = [];

  before(async () => {
    d = await startBerthContainerd();
    archive = join(d.dir, "busybox-oci.tar");
    await writeImageArchive(archive, { name: "berth/busybox:latest" });
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const r of registries) await r.stop();
    await d?.cleanup();
  });

  const registry = async (opts: Parameters<typeof startRegistry>[0]) => {
    const r = await startRegistry(opts);
    registries.push(r);
    await seedImage(r, archive, "berth/busybox:1");
    return r;
  };
  const client = (opts: ConstructorParameters<typeof RegistryClient>[0]) => {
    const c = new RegistryClient(opts);
    clients.push(c);
    return c;
  };
  const daemon = (ns: string) => new RemoteContainerd(d.address, { namespace: ns });

  /** Pull with the library, push under another tag, and compare what the registry then holds. */
  async function roundTrip(reg: LocalRegistry, rc: RegistryClient, ns: string): Promise<void> {
    const src = `${reg.host}/berth/busybox:1`;
    const dst = `${reg.host}/berth/copy:${ns}`;
    const remote = daemon(ns);
    try {
      const image = await pull(remote.ports(), rc, src, { snapshotter: "overlayfs" });
      assert.equal(image.unpacked.length, 1, "unpacked one platform");
      const listed = d.ctr(["images", "ls", "-q"], { namespace: ns }).stdout;
      assert.match(listed, /berth\/busybox:1/);
      assert.match(
        d.ctr(["snapshots", "ls"], { namespace: ns }).stdout,
        new RegExp(`${image.unpacked[0]!.chainId}\\s+Committed`),
      );
      await remote.ports().images.put({ ...image, name: dst, labels: {} });
      const pushed = await push(remote.ports(), rc, dst);
      const original = await rc.resolve(parseReference(src));
      const copy = await rc.resolve(parseReference(dst));
      assert.equal(copy.descriptor.digest, original.descriptor.digest, "the manifest came back byte for byte");
      assert.equal(pushed.digest, original.descriptor.digest);
      const manifest = decodeManifest(
        await rc.fetchManifest(parseReference(dst), copy.descriptor),
        copy.descriptor.mediaType,
      );
      for (const blob of [manifest.config, ...manifest.layers]) {
        const body = await rc.fetchBlob("berth/copy", blob, { domain: reg.host });
        const h = createHash("sha256");
        for await (const c of body) h.update(c as Buffer);
        assert.equal(`sha256:${h.digest("hex")}`, blob.digest, `blob ${blob.digest} intact`);
      }
    } finally {
      remote.close();
    }
  }

  test("plain HTTP: pull, unpack, push, same digests", { timeout: 120_000 }, async () => {
    const reg = await registry({});
    await roundTrip(reg, client({ credentials: () => undefined }), "plain");
  });

  test("htpasswd: credentials from a docker config.json; a wrong password is refused", {
    timeout: 120_000,
  }, async () => {
    const reg = await registry({ auth: "htpasswd" });
    const config = (user: string, pass: string) =>
      credentialsFromDockerConfig(
        JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${user}:${pass}`).toString("base64") } } }),
      );
    const bad = client({ credentials: config(reg.username, "wrong") });
    await assert.rejects(
      pull(daemon("basic-bad").ports(), bad, `${reg.host}/berth/busybox:1`, {}),
      (err: Error & { kind?: string }) => {
        assert.equal(err.kind, "permission-denied");
        assert.match(err.message, /401/);
        return true;
      },
    );
    assert.equal(d.ctr(["images", "ls", "-q"], { namespace: "basic-bad" }).stdout.trim(), "", "no partial image");
    await roundTrip(reg, client({ credentials: config(reg.username, reg.password) }), "basic");
  });

  test("token auth: the Bearer challenge flow, for pull and push", { timeout: 120_000 }, async () => {
    const reg = await registry({ auth: "token" });
    const bad = client({ credentials: () => ({ username: reg.username, password: "wrong" }) });
    await assert.rejects(
      pull(daemon("token-bad").ports(), bad, `${reg.host}/berth/busybox:1`, {}),
      /token service .* refused \(401\)/,
    );
    await roundTrip(reg, client({ credentials: () => ({ username: reg.username, password: reg.password }) }), "token");
    assert.ok(
      reg.tokens!.issued.some((s) => s.includes("push")),
      "a push scope was asked for",
    );
  });

  test("TLS with a test CA; refused without it", { timeout: 120_000 }, async () => {
    const reg = await registry({ tls: true });
    const untrusted = client({ credentials: () => undefined });
    await assert.rejects(untrusted.resolve(parseReference(`${reg.host}/berth/busybox:1`)), /certificate/i);
    await roundTrip(reg, client({ credentials: () => undefined, ca: readFileSync(reg.caPath!) }), "tls");
  });

  test("the daemon's transfer service pulls the same image", { timeout: 120_000 }, async () => {
    const reg = await registry({ auth: "htpasswd" });
    const events: string[] = [];
    const r = await transferPull(d.address, `${reg.host}/berth/busybox:1`, {
      namespace: "transfer",
      username: reg.username,
      password: reg.password,
      progress: (e) => events.push(e.phase),
    });
    assert.match(r.digest, /^sha256:/);
    assert.ok(events.includes("extracted") && events.at(-1) === "done", events.join(","));
    assert.match(d.ctr(["images", "ls", "-q"], { namespace: "transfer" }).stdout, /berth\/busybox:1/);
    assert.match(d.ctr(["snapshots", "ls"], { namespace: "transfer" }).stdout, /Committed/);
  });

  test("a multi-platform index: each platform gets its own manifest", { timeout: 120_000 }, async () => {
    const reg = await registry({});
    // An index of the busybox image for amd64 and a second, one-file image declared arm64.
    const layout = join(d.dir, "multi");
    const amd64 = await writeOciLayout(layout, { name: "multi" });
    const blobs = join(layout, "blobs", "sha256");
    const put = (b: Buffer) => {
      const h = createHash("sha256").update(b).digest("hex");
      writeFileSync(join(blobs, h), b);
      return { digest: `sha256:${h}`, size: b.length };
    };
    const tar = Buffer.alloc(1024); // an empty layer: two zero blocks
    const layer = put(gzipSync(tar));
    const diffId = `sha256:${createHash("sha256").update(tar).digest("hex")}`;
    const config = put(
      Buffer.from(
        JSON.stringify({ architecture: "arm64", os: "linux", rootfs: { type: "layers", diff_ids: [diffId] } }),
      ),
    );
    const armManifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociManifest,
          config: { mediaType: MediaType.ociConfig, ...config },
          layers: [{ mediaType: MediaType.ociLayerGzip, ...layer }],
        }),
      ),
    );
    const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as {
      manifests: Record<string, unknown>[];
    };
    const amdEntry = { ...index.manifests[0]!, platform: { os: "linux", architecture: "amd64" } };
    delete (amdEntry as { annotations?: unknown }).annotations;
    const imageIndex = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociIndex,
          manifests: [
            amdEntry,
            { mediaType: MediaType.ociManifest, ...armManifest, platform: { os: "linux", architecture: "arm64" } },
          ],
        }),
      ),
    );
    writeFileSync(
      join(layout, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: MediaType.ociIndex,
            ...imageIndex,
            annotations: { "org.opencontainers.image.ref.name": "multi" },
          },
        ],
      }),
    );
    const { execFileSync } = await import("node:child_process");
    execFileSync("skopeo", [
      "copy",
      "--quiet",
      "--all",
      "--dest-tls-verify=false",
      `oci:${layout}:multi`,
      `docker://${reg.host}/berth/multi:1`,
    ]);
    assert.ok(amd64.manifestDigest);

    const rc = client({ credentials: () => undefined });
    const ref = `${reg.host}/berth/multi:1`;
    const remote = daemon("multi");
    try {
      const host = await pull(remote.ports(), rc, ref, { snapshotter: "overlayfs", platforms: ["linux/amd64"] });
      assert.equal(host.target.digest, imageIndex.digest, "the image is the index");
      assert.deepEqual(
        host.unpacked.map((u) => u.platform),
        ["linux/amd64"],
      );
      const arm = await pull(remote.ports(), rc, ref, { snapshotter: "native", platforms: ["linux/arm64/v8"] });
      assert.deepEqual(arm.unpacked, [{ platform: "linux/arm64", chainId: diffId }]);
      const info = await remote.ports().content.info(imageIndex.digest);
      assert.ok(info, "the index is in the store");
      assert.ok(Object.values(info.labels).includes(armManifest.digest), "the index names the arm64 manifest for GC");
      assert.equal(info.labels["containerd.io/gc.ref.content.m.0"], amd64.manifestDigest, "and still the amd64 one");
      assert.equal(info.labels["containerd.io/gc.ref.content.m.1"], armManifest.digest);
      await assert.rejects(
        pull(remote.ports(), rc, ref, { platforms: ["linux/s390x"] }),
        /no manifest for platform linux\/s390x/,
      );
    } finally {
      remote.close();
    }
  });
});
