import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import type { Fsops } from "../../../common/archive/fsops.ts";
import { containerPath, encodePathStat, GO_MODE, goFileMode, goTime } from "../../../common/archive/path-stat.ts";
import { bareEntry } from "../../../common/archive/tar-entry.ts";
import { END_OF_ARCHIVE, encodeHeader, type TarEntry } from "../../../common/archive/tar-format.ts";
import { initPaths, overlayLayers } from "./changes.ts";
import { mountPointsIn } from "./container-root.ts";
import { checkTar, spool } from "./extract.ts";
import { MAX_TREE_DEPTH, resolvePinned } from "./pinned.ts";
import { leftoverMounts, sweepSpooledBodies } from "./sweep.ts";
import { tarTree } from "./tar-out.ts";

const noXattrs = { lgetxattr: async () => null } as unknown as Fsops;

function tree(): { dir: string; fd: number; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), "berth-archive-unit-"));
  mkdirSync(join(dir, "a/b"), { recursive: true });
  writeFileSync(join(dir, "a/b/file"), "inside\n");
  symlinkSync("/a", join(dir, "abs")); // absolute: the root's /a
  symlinkSync("../../../../..", join(dir, "a/up")); // climbs past the root
  symlinkSync("/etc/passwd", join(dir, "passwd")); // the host's, if it were followed
  symlinkSync("loop", join(dir, "loop"));
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  return {
    dir,
    fd,
    done: () => {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function relOf(rootFd: number, path: string, followLast = true): string[] | string {
  const r = resolvePinned(rootFd, path, followLast);
  if (typeof r === "string") return r;
  closeSync(r.fd);
  return r.rel;
}

test("resolvePinned resolves symlinks inside the root: absolute targets from the root, '..' stops there", (t) => {
  const root = tree();
  t.after(root.done);
  assert.deepEqual(relOf(root.fd, "/abs/b/file"), ["a", "b", "file"]);
  assert.deepEqual(relOf(root.fd, "a/up/a/b"), ["a", "b"]);
  assert.deepEqual(relOf(root.fd, "../../a/b/.."), ["a"]);
  assert.deepEqual(relOf(root.fd, "/"), []);
  // The host's /etc/passwd is never reached: the root has no etc/.
  assert.equal(relOf(root.fd, "/passwd"), "missing");
  assert.deepEqual(relOf(root.fd, "/passwd", false), ["passwd"]);
  assert.equal(relOf(root.fd, "/loop"), "missing"); // ELOOP
  assert.equal(relOf(root.fd, "/a/b/file/x"), "not-a-directory");
  assert.equal(relOf(root.fd, "/nope/x"), "missing");
});

test("tarTree writes a symlink as a symlink and never reads through it", async (t) => {
  const root = tree();
  t.after(root.done);
  const chunks: Buffer[] = [];
  const top = resolvePinned(root.fd, "/", true);
  assert.ok(typeof top !== "string");
  for await (const c of tarTree(top, { base: "", skipTop: true, fsops: noXattrs })) chunks.push(c);
  closeSync(top.fd);
  const listing = spawnSync("tar", ["-tv"], { input: Buffer.concat(chunks), encoding: "utf8" });
  assert.equal(listing.status, 0, listing.stderr);
  assert.match(listing.stdout, /passwd -> \/etc\/passwd/);
  assert.match(listing.stdout, / a\/b\/file\n/);
  assert.ok(!listing.stdout.includes("root:x:0:0"), "the host's passwd is not in the archive");
  // The top named: docker cp's rebasing ("d/." -> "./...").
  const named: Buffer[] = [];
  const a = resolvePinned(root.fd, "/a/.", true);
  assert.ok(typeof a !== "string");
  for await (const c of tarTree(a, { base: ".", fsops: noXattrs })) named.push(c);
  closeSync(a.fd);
  // A symlink named as the top: written as a symlink, from its directory.
  const link = resolvePinned(root.fd, "/passwd", false, true);
  assert.ok(typeof link !== "string" && link.parent !== undefined);
  const linkTar: Buffer[] = [];
  for await (const c of tarTree(link, { base: "passwd", fsops: noXattrs })) linkTar.push(c);
  closeSync(link.fd);
  closeSync(link.parent);
  assert.match(
    spawnSync("tar", ["-tv"], { input: Buffer.concat(linkTar), encoding: "utf8" }).stdout,
    /passwd -> \/etc\/passwd/,
  );
  const names = spawnSync("tar", ["-t"], { input: Buffer.concat(named), encoding: "utf8" }).stdout.split("\n");
  assert.deepEqual(names.slice(0, 3), ["./", "./b/", "./b/file"]);
});

test("path stat: Go's FileMode bits, Go's time text, the name dockerd gives", () => {
  assert.equal(goFileMode(constants.S_IFDIR | 0o755), GO_MODE.dir + 0o755);
  assert.equal(goFileMode(constants.S_IFDIR | 0o1777), 2148532735); // /tmp as dockerd 20.10 stats it
  assert.equal(goFileMode(constants.S_IFLNK | 0o777), 134218239);
  assert.equal(goFileMode(constants.S_IFCHR | 0o666), GO_MODE.device + GO_MODE.charDevice + 0o666);
  assert.equal(goFileMode(constants.S_IFREG | 0o4755), GO_MODE.setuid + 0o755);
  assert.equal(goTime(1_764_948_148_859_355_903n), "2025-12-05T15:22:28.859355903Z");
  assert.equal(goTime(0n), "1970-01-01T00:00:00Z");
  assert.equal(goTime(1_500_000_000n), "1970-01-01T00:00:01.5Z");
  assert.deepEqual(containerPath("/etc/."), { abs: "/etc", base: ".", contents: true, mustBeDir: true });
  assert.deepEqual(containerPath("etc/"), { abs: "/etc", base: "etc", contents: false, mustBeDir: true });
  assert.deepEqual(containerPath("/../../x/../"), { abs: "/", base: "/", contents: false, mustBeDir: true });
  const stat = { name: "x", size: 1, mode: 420, mtime: "1970-01-01T00:00:00Z", linkTarget: "" };
  assert.deepEqual(JSON.parse(Buffer.from(encodePathStat(stat), "base64").toString()), stat);
});

test("spool stops past its limit and leaves no file; checkTar refuses escaping names and links before anything is written", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "berth-archive-spool-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await assert.rejects(
    spool(Readable.from([Buffer.alloc(600), Buffer.alloc(600)]), dir, 1000, () => new Error("too large")),
    /too large/,
  );
  assert.deepEqual(readdirSync(dir), []);
  const tar = (...entries: Partial<TarEntry>[]) =>
    Buffer.concat([
      ...entries.map((e) => encodeHeader(bareEntry({ name: "x", type: "dir", mode: 0o755, ...e }))),
      END_OF_ARCHIVE,
    ]);
  const check = async (body: Buffer) => {
    const file = await spool(Readable.from([body]), dir, 1 << 20, () => new Error("too large"));
    try {
      return await checkTar(file);
    } finally {
      rmSync(file);
    }
  };
  assert.equal(await check(tar({ name: "a/" }, { name: "/abs/" }, { name: "a/../b/" })), 3);
  await assert.rejects(check(tar({ name: "../out/" })), /escapes the destination/);
  await assert.rejects(
    check(tar({ name: "ok/" }, { name: "l", type: "hardlink", linkname: "../../etc/passwd" })),
    /outside/,
  );
  await assert.rejects(check(tar({ name: ".", type: "file" })), /non-directory entry for the destination/);
  assert.equal(await check(Buffer.alloc(0)), 0);
});

test("diff's pieces: the overlay's layers from the snapshot's mount, the mount points taken as the image's", () => {
  assert.deepEqual(
    overlayLayers([{ type: "overlay", source: "overlay", options: ["workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2"] }]),
    { upper: "/u", lowers: ["/l1", "/l2"] },
  );
  assert.throws(() => overlayLayers([{ type: "bind", source: "/x", options: ["rbind"] }]), /overlayfs/);
  const init = initPaths(["/proc", "/etc/hostname", "/dev/shm", "relative/../x"]);
  assert.deepEqual([...init.points].sort(), ["/dev/shm", "/etc/hostname", "/proc"]);
  assert.deepEqual([...init.parents].sort(), ["/dev", "/etc"]);
  const info =
    "22 1 0:21 / / rw - overlay overlay rw\n23 22 0:5 / /proc rw - proc proc rw\n24 22 0:6 / /my\\040dir rw - tmpfs t rw\n";
  assert.deepEqual([...mountPointsIn(info)], ["/proc", "/my dir"]);
});

test("a tree nested deeper than MAX_TREE_DEPTH is refused, not walked with an fd per level without end", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "berth-archive-deep-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  t.after(() => closeSync(fd));
  mkdirSync(join(dir, "d/".repeat(MAX_TREE_DEPTH + 2)), { recursive: true });
  const top = resolvePinned(fd, "/", true);
  assert.ok(typeof top !== "string");
  t.after(() => closeSync(top.fd));
  // Nor is it resolved to the bottom (each level an fd held).
  assert.throws(() => resolvePinned(fd, `/${"d/".repeat(MAX_TREE_DEPTH + 1)}`, true), /directories deep/);
  await assert.rejects(async () => {
    for await (const _ of tarTree(top, { base: "", skipTop: true, fsops: noXattrs })) {
      // drained
    }
  }, /more than 512 directories deep/);
});

test("leftover temp mounts: only withTempMount's, and only over this data root's snapshots", () => {
  const line = (id: number, point: string, options: string) =>
    `${id} 1 0:${id} / ${point} rw - overlay overlay ${options}`;
  const info = [
    line(
      1,
      "/tmp/berth-mount-aaa",
      "rw,lowerdir=/var/lib/berth/containerd/s/1/fs,upperdir=/var/lib/berth/containerd/s/2/fs",
    ),
    line(2, "/tmp/berth-mount-bbb", "rw,lowerdir=/var/lib/berth2/containerd/s/1/fs,upperdir=/var/lib/berth2/s/2/fs"),
    line(3, "/tmp/berth-mount-ccc", "rw,lowerdir=/var/lib/containerd/snapshots/1/fs"),
    line(4, "/tmp/elsewhere", "rw,upperdir=/var/lib/berth/containerd/s/9/fs"),
    line(5, "/tmp/berth-mount-aaa/data", "rw,upperdir=/var/lib/berth/x"),
    line(6, "/tmp/berth-mount-ddd", "ro,lowerdir=/var/lib/berth/a:/var/lib/berth/b"),
  ].join("\n");
  assert.deepEqual(leftoverMounts(info, "/var/lib/berth", "/tmp"), ["/tmp/berth-mount-aaa", "/tmp/berth-mount-ddd"]);
});

test("spooled docker cp bodies a killed berthd left are removed, nothing else", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "berth-archive-spool-sweep-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const n of ["put-12-1764948148859-k3j2h.tar", "image-load-1.tar", "put-notours"])
    writeFileSync(join(dir, n), "");
  assert.equal(sweepSpooledBodies(dir), 1);
  assert.deepEqual(readdirSync(dir).sort(), ["image-load-1.tar", "put-notours"]);
});
