// The real `ctr` (containerd 1.6's client) against berth-containerd: version, namespaces, pulls from
// Debian's docker-registry over plain HTTP, with htpasswd auth and over TLS with a test CA, then
// images ls/rm, content ls, snapshots ls, leases ls and an export/import round trip. The registry
// is seeded with skopeo, so nothing here depends on berth's own registry client.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { type LocalRegistry, REGISTRY_BINARY, seedImage, startRegistry } from "../helpers/local-registry.ts";

const skip =
  process.getuid?.() !== 0
    ? "interop tests run as root"
    : [REGISTRY_BINARY, "/usr/bin/ctr", "/usr/bin/skopeo", "/usr/bin/htpasswd"].find((b) => !existsSync(b));

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

describe("ctr drives berth-containerd's image services", { skip }, () => {
  let d: Daemon;
  let archive: string;
  const registries: LocalRegistry[] = [];

  before(async () => {
    d = await startBerthContainerd();
    archive = join(d.dir, "busybox-oci.tar");
    await writeImageArchive(archive, { name: "berth/busybox:latest" });
  });

  after(async () => {
    for (const r of registries) await r.stop();
    await d?.cleanup();
  });

  const ok = (r: { status: number; stdout: string; stderr: string }, what: string) => {
    assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const registry = async (opts: Parameters<typeof startRegistry>[0]) => {
    const r = await startRegistry(opts);
    registries.push(r);
    await seedImage(r, archive, "berth/busybox:1");
    return r;
  };

  test("version and namespaces", () => {
    const v = ok(d.ctr(["version"]), "version");
    assert.match(v, /Server:\s+Version:\s+1\.6\.0-berth/);
    ok(d.ctr(["namespaces", "create", "team-a", "owner=ci"]), "namespaces create");
    const ls = ok(d.ctr(["namespaces", "ls"]), "namespaces ls");
    assert.match(ls, /^team-a\s+owner=ci\s*$/m);
    const dup = d.ctr(["namespaces", "create", "team-a"]);
    assert.notEqual(dup.status, 0);
    assert.match(dup.stderr, /already exists/);
    ok(d.ctr(["namespaces", "rm", "team-a"]), "namespaces rm");
    assert.doesNotMatch(ok(d.ctr(["namespaces", "ls"]), "ls"), /team-a/);
  });

  test("pull over plain HTTP, list, export, remove (GC frees the blobs), import", { timeout: 120_000 }, async () => {
    const reg = await registry({});
    const ref = `${reg.host}/berth/busybox:1`;
    const ns = "plain";
    ok(d.ctr(["images", "pull", "--plain-http", ref], { namespace: ns }), "pull");
    const images = ok(d.ctr(["images", "ls"], { namespace: ns }), "images ls");
    assert.match(
      images,
      new RegExp(
        `^${ref.replaceAll(".", "\\.")}\\s+application/vnd\\.oci\\.image\\.manifest\\.v1\\+json\\s+sha256:`,
        "m",
      ),
    );
    const digest = /sha256:[a-f0-9]{64}/.exec(images)![0];
    const content = ok(d.ctr(["content", "ls"], { namespace: ns }), "content ls");
    assert.equal(content.trim().split("\n").length - 1, 3, `manifest, config, layer:\n${content}`);
    assert.match(content, /containerd\.io\/gc\.ref\.snapshot\.overlayfs=sha256:/);
    const snaps = ok(d.ctr(["snapshots", "ls"], { namespace: ns }), "snapshots ls");
    assert.match(snaps, /^sha256:[a-f0-9]{64}\s+Committed\s*$/m);
    // Usage per snapshot: the image layer's size (its "virtual size" share), and a container's
    // writable layer on top of it, which starts empty.
    const layerKey = /^(sha256:[a-f0-9]{64})\s+Committed/m.exec(snaps)![1]!;
    const usage = ok(d.ctr(["snapshots", "usage", layerKey], { namespace: ns }), "snapshots usage");
    assert.match(usage, /\d+(\.\d+)? MiB\s+\d{3,}/, usage);
    ok(d.ctr(["snapshots", "prepare", "rw-layer", layerKey], { namespace: ns }), "snapshots prepare");
    assert.match(
      ok(d.ctr(["snapshots", "usage", "rw-layer"], { namespace: ns }), "usage"),
      /rw-layer\s+\d+(\.\d+)? (B|KiB)\s+1\s/,
    );
    ok(d.ctr(["snapshots", "rm", "rw-layer"], { namespace: ns }), "snapshots rm");
    // The pull's lease is gone once the image holds everything.
    assert.equal(
      ok(d.ctr(["leases", "ls"], { namespace: ns }), "leases ls")
        .trim()
        .split("\n").length,
      1,
    );
    // Namespaces are isolated.
    assert.doesNotMatch(ok(d.ctr(["images", "ls", "-q"], { namespace: "other" }), "other ns"), /busybox/);

    const exported = join(d.dir, "exported.tar");
    ok(d.ctr(["images", "export", exported, ref], { namespace: ns }), "export");
    ok(d.ctr(["images", "rm", "--sync", ref], { namespace: ns }), "rm");
    assert.equal(ok(d.ctr(["content", "ls", "-q"], { namespace: ns }), "content ls").trim(), "");
    assert.equal(
      ok(d.ctr(["snapshots", "ls"], { namespace: ns }), "snapshots ls")
        .trim()
        .split("\n").length,
      1,
    );

    ok(d.ctr(["images", "import", exported], { namespace: ns }), "import");
    const again = ok(d.ctr(["images", "ls"], { namespace: ns }), "images ls");
    assert.ok(again.includes(digest), `same manifest digest after the round trip:\n${again}`);
    assert.match(ok(d.ctr(["snapshots", "ls"], { namespace: ns }), "snapshots"), /Committed/);
  });

  test("pull with htpasswd auth: refused without credentials, works with them", { timeout: 120_000 }, async () => {
    const reg = await registry({ auth: "htpasswd" });
    const ref = `${reg.host}/berth/busybox:1`;
    const denied = d.ctr(["images", "pull", "--plain-http", ref], { namespace: "auth" });
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /401|unauthorized|authorization/i);
    assert.equal(ok(d.ctr(["images", "ls", "-q"], { namespace: "auth" }), "ls").trim(), "", "no partial image");
    ok(
      d.ctr(["images", "pull", "--plain-http", "--user", `${reg.username}:${reg.password}`, ref], {
        namespace: "auth",
      }),
      "pull",
    );
    assert.match(ok(d.ctr(["images", "ls", "-q"], { namespace: "auth" }), "ls"), /berth\/busybox:1/);
  });

  test("pull over TLS with the registry's CA", { timeout: 120_000 }, async () => {
    const reg = await registry({ tls: true });
    const ref = `${reg.host}/berth/busybox:1`;
    // ctr treats loopback hosts as plain HTTP unless a hosts.toml says otherwise.
    const hostsDir = join(d.dir, "hosts.d");
    mkdirSync(join(hostsDir, reg.host), { recursive: true });
    const hostsToml = (ca: string) =>
      writeFileSync(
        join(hostsDir, reg.host, "hosts.toml"),
        `server = "https://${reg.host}"\n[host."https://${reg.host}"]\n${ca}`,
      );
    hostsToml("");
    const untrusted = d.ctr(["images", "pull", "--hosts-dir", hostsDir, ref], { namespace: "tls" });
    assert.notEqual(untrusted.status, 0, untrusted.stdout);
    assert.match(untrusted.stderr, /certificate/i);
    assert.equal(ok(d.ctr(["images", "ls", "-q"], { namespace: "tls" }), "ls").trim(), "", "no partial image");
    hostsToml(`  ca = "${reg.caPath}"\n`);
    ok(d.ctr(["images", "pull", "--hosts-dir", hostsDir, ref], { namespace: "tls" }), "pull");
    assert.match(ok(d.ctr(["images", "ls", "-q"], { namespace: "tls" }), "ls"), /berth\/busybox:1/);
  });
});
