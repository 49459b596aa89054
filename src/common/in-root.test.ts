import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, fstatSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { InvalidArgumentError } from "./errors.ts";
import {
  chmodNoFollow,
  components,
  InRootWalk,
  openDirBeneath,
  readFileInRoot,
  resolveInRoot,
  statDirBeneath,
} from "./in-root.ts";

let base: string;
let root: string;
let outside: string;
before(() => {
  base = mkdtempSync(join(tmpdir(), "berth-in-root-"));
  root = join(base, "root");
  outside = join(base, "outside");
  mkdirSync(join(root, "etc"), { recursive: true });
  mkdirSync(join(root, "data"));
  mkdirSync(outside);
  writeFileSync(join(outside, "secret"), "host secret\n");
  writeFileSync(join(root, "data/file"), "inside\n");
  writeFileSync(join(root, "secret"), "the root's own\n");
  symlinkSync("/data/file", join(root, "etc/abs")); // absolute: restarts at the root
  symlinkSync("../../../../data/file", join(root, "etc/climb")); // ".." stops at the root
  symlinkSync(join(outside, "secret"), join(root, "etc/host")); // a host path, read in the root
  symlinkSync("loop", join(root, "etc/loop"));
  symlinkSync("/data", join(root, "dirlink"));
});
after(() => rmSync(base, { recursive: true, force: true }));

const read = (p: string, maxBytes = 1024) => readFileInRoot(root, p, { maxBytes })?.toString();

test("symlinks resolve inside the root, never outside it", () => {
  assert.deepEqual(resolveInRoot(root, "/etc/abs"), ["data", "file"]);
  assert.deepEqual(resolveInRoot(root, "/etc/climb"), ["data", "file"]);
  assert.deepEqual(resolveInRoot(root, "/../../dirlink/./file"), ["data", "file"]);
  assert.equal(read("/etc/abs"), "inside\n");
  assert.equal(read("/etc/climb"), "inside\n");
  assert.equal(read("/dirlink/file"), "inside\n");
  // The host path names nothing inside the root.
  assert.equal(resolveInRoot(root, "/etc/host"), undefined);
  assert.equal(read("/etc/host"), undefined);
});

test("missing, looping, not-a-directory and empty paths read as nothing", () => {
  assert.equal(read("/nope"), undefined);
  assert.equal(read("/etc/loop"), undefined);
  assert.equal(read("/data/file/x"), undefined);
  assert.equal(read("/data/file/.."), undefined);
  assert.equal(read("/"), undefined);
  assert.equal(read("/data"), undefined, "a directory is not a regular file");
});

// Devices too: test/integration/common/in-root.test.ts (mknod needs root).
test("only regular files of bounded size are read; FIFOs are never opened", () => {
  execFileSync("mkfifo", [join(root, "fifo")]);
  // Reading a FIFO with nobody writing would block forever.
  assert.equal(read("/fifo"), undefined);
  assert.equal(read("/data/file", 7), "inside\n");
  assert.equal(read("/data/file", 6), undefined);
});

test("a root given through a symlink is resolved first", () => {
  const link = join(base, "rootlink");
  symlinkSync(root, link);
  assert.equal(readFileInRoot(link, "/etc/abs", { maxBytes: 100 })?.toString(), "inside\n");
});

test("the walk stops '..' at the root, restarts absolute targets there, and counts symlinks", () => {
  const walk = new InRootWalk("/../a/./b/../c");
  const seen: string[] = [];
  while (walk.next()) seen.push(walk.resolved.join("/"));
  assert.deepEqual(seen, ["a", "a/b", "a/c"]);
  const linked = new InRootWalk(["x", "y"]);
  assert.ok(linked.next());
  assert.equal(linked.more, true);
  assert.ok(linked.follow("/t/u"), "x is a symlink to /t/u");
  assert.ok(linked.next());
  assert.deepEqual(linked.resolved, ["t"]);
  const loop = new InRootWalk("l");
  let follows = 0;
  while (loop.next()) {
    if (!loop.follow("l")) break;
    follows++;
  }
  assert.equal(follows, 40, "the kernel's ELOOP limit");
});

test("beneath the root nothing is followed: a symlinked directory is not reached", () => {
  assert.deepEqual(components("a/b"), ["a", "b"]);
  assert.deepEqual(components(""), []);
  for (const bad of ["a//b", "./a", "a/..", "/a"]) assert.throws(() => components(bad), InvalidArgumentError);
  const st = statDirBeneath(root, ["data"]);
  assert.ok(st?.isDirectory());
  // dirlink -> /data inside the root, and etc/host -> a host file: neither is a directory here.
  assert.equal(statDirBeneath(root, ["dirlink"]), null);
  assert.equal(openDirBeneath(root, ["etc", "host"]), null);
  assert.equal(openDirBeneath(root, ["nope"]), null);
  const fd = openDirBeneath(root, ["etc"]);
  assert.ok(fd !== null);
  assert.ok(fstatSync(fd).isDirectory());
  closeSync(fd);
});

test("chmodNoFollow changes the entry itself and refuses a symlink", () => {
  chmodNoFollow(join(root, "data/file"), 0o640);
  assert.equal(statSync(join(root, "data/file")).mode & 0o777, 0o640);
  const before = statSync(join(outside, "secret")).mode;
  assert.throws(() => chmodNoFollow(join(root, "etc/host"), 0o777), /ELOOP/);
  assert.equal(statSync(join(outside, "secret")).mode, before, "the host file is unchanged");
});
