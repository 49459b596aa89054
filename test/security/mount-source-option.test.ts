// Hole: a mount source was parsed by mount(8) as an option. When Diff.Apply's mounts fit no fast
// path, the diff service mounts them on a temporary directory with mount(8), passing the client's
// source with no `--` before it: a source of `--version` made mount(8) print its version and exit
// 0, so the layer was written into the unmounted temporary directory on the host and left there
// (the unmount then failed). Now mount(8) gets `--` before its operands, and the daemon refuses
// client mounts whose type, source or options start with '-', hold a NUL, or are too long
// (InvalidArgument naming the field), before anything is mounted or written.
// A writable bind's source was also used as a directory as given: `--version` was a path relative
// to the daemon's cwd. A bind source must now be absolute.
// Host-side check: the daemon's temporary directory (a private TMPDIR) holds nothing afterwards.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { RemoteContainerd } from "../../src/client/remote.ts";
import { type Mount, validateMounts } from "../../src/common/mount/mount.ts";
import { mountAll } from "../../src/common/mount/mounter.ts";
import { gzipLayer } from "../fixtures/layer-tar.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;
const LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

describe("client mounts are not options to mount(8)", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let remote: RemoteContainerd;
  let tmp: string;
  const savedTmp = process.env.TMPDIR;
  let layer: { mediaType: string; digest: string; size: number };

  before(async () => {
    // The daemon's own temporary directory, so what it leaves there is seen (and nobody else's).
    tmp = `${tmpdir()}/berth-sec-mount-src-${process.pid}`;
    await mkdir(tmp, { recursive: true });
    process.env.TMPDIR = tmp;
    try {
      d = await startBerthContainerd();
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = savedTmp;
    }
    remote = new RemoteContainerd(d.address, { namespace: "mnt" });
    const { blob } = await gzipLayer([{ name: "planted", body: "written by the layer" }]);
    const { createHash } = await import("node:crypto");
    layer = {
      mediaType: LAYER,
      digest: `sha256:${createHash("sha256").update(blob).digest("hex")}`,
      size: blob.length,
    };
    await remote.ports().content.write("layer", layer, async (off) => Readable.from([blob.subarray(off)]));
  });
  after(async () => {
    remote?.close();
    await d?.cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  /** What the daemon left in its temporary directory (its own --root/--state dir is there too). */
  const leftovers = async () => (await readdir(tmp)).filter((n) => join(tmp, n) !== d.dir);

  const apply = (mounts: Mount[]) =>
    remote.diff.apply({
      diff: { mediaType: layer.mediaType, digest: layer.digest, size: BigInt(layer.size), annotations: {} },
      mounts: mounts.map((m) => ({ type: m.type, source: m.source, target: "", options: m.options })),
    });

  const refused: [string, Mount][] = [
    // Read-only: no fast path, so mount(8) on a temporary directory (the reported case).
    ["a source that is mount(8)'s --version", { type: "bind", source: "--version", options: ["ro"] }],
    // Writable: the fast path applies straight into the source, here relative to the daemon's cwd.
    ["a bind source that is not absolute", { type: "bind", source: "--version", options: [] }],
    ["a source that is an option", { type: "bind", source: "-oremount", options: ["rbind", "ro"] }],
    ["a type that is an option", { type: "--help", source: "/", options: [] }],
    ["an option that is an option", { type: "tmpfs", source: "tmpfs", options: ["--version"] }],
    ["a NUL in the source", { type: "bind", source: "/tmp\0/x", options: ["rbind"] }],
    ["a source longer than PATH_MAX", { type: "bind", source: `/${"a".repeat(5000)}`, options: ["rbind"] }],
  ];
  for (const [what, m] of refused) {
    test(`Diff.Apply refuses ${what}, and writes nothing`, { timeout: 60_000 }, async () => {
      await assert.rejects(apply([m]), (e: Error & { kind?: string }) => {
        assert.equal(e.kind, "invalid-argument", e.message);
        assert.match(e.message, /mounts\[0\]\.(type|source|options)/);
        return true;
      });
      assert.deepEqual(await leftovers(), [], "nothing left in the daemon's temporary directory");
    });
  }

  test("a well-formed mount through mount(8) (a tmpfs) still applies, and leaves nothing", {
    timeout: 60_000,
  }, async () => {
    const r = await apply([{ type: "tmpfs", source: "tmpfs", options: ["size=1m"] }]);
    assert.match(r.applied?.digest ?? "", /^sha256:/);
    assert.deepEqual(await leftovers(), []);
  });
});

test("validateMounts: the bounds, by field", () => {
  assert.doesNotThrow(() =>
    validateMounts(
      [
        { type: "overlay", source: "overlay", options: ["lowerdir=/a:/b", "upperdir=/u", "workdir=/w"] },
        { type: "fuse.sshfs", source: "user@host:/dir", options: [] },
      ],
      "mounts",
    ),
  );
  assert.throws(() => validateMounts([{ type: "a/b", source: "x", options: [] }], "rootfs"), /rootfs\[0\]\.type/);
  assert.throws(
    () => validateMounts([{ type: "bind", source: "/x", options: ["ro", "a\0b"] }], "m"),
    /m\[0\]\.options\[1\]/,
  );
  const many = Array.from({ length: 1000 }, () => ({ type: "bind", source: "/x", options: [] }));
  assert.throws(() => validateMounts(many, "mounts"), /mounts: 1000 mounts/);
});

test("mount(8) is given its operands after --: a source like --version is mounted or fails, never run as an option", {
  skip,
}, async (t) => {
  const dir = await mkdtemp(`${tmpdir()}/berth-sec-mount-dashdash-`);
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Before: mount(8) printed its version and exited 0, so this "mounted" nothing and succeeded.
  await assert.rejects(mountAll([{ type: "bind", source: "--version", options: ["ro"] }], dir), /mount .*-- --version/);
  assert.equal((await readFile("/proc/self/mountinfo", "utf8")).includes(` ${dir} `), false);
});
