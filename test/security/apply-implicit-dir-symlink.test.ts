// Hole: a pulled layer could chmod (chown, utimes) any host directory. A layer that creates `x/f`
// makes `x` implicitly; when the layer is staged ahead of its chain (the transfer service does this
// for every overlay layer), adoptParentMetadata later gives `x` the lower layer's owner, mode and
// times. If a later entry of the same layer replaced `x` with a symlink to a host directory, that
// chmod followed the symlink (a host directory became 0777), and with `a/b` implicit and `a`
// replaced by a symlink, lchown/lutimes of `a/b` followed `a`. The directory times applied at the
// end of every apply had the same flaw. Host-side check: the host directories' mode, owner, times
// and ctime (which any chmod/chown/utimes moves) are what they were.
import assert from "node:assert/strict";
import type { Stats } from "node:fs";
import { chmod, chown, lstat, mkdir, mkdtemp, readlink, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { test } from "node:test";
import { adoptParentMetadata, applyLayer } from "../../src/containerd/archive/apply.ts";
import { gzipLayer, type LayerEntry } from "../fixtures/layer-tar.ts";

const skip = process.getuid?.() !== 0 ? "needs root (owners, chown)" : undefined;
const HOST_TIME = 1_000_000_000;

interface Scene {
  /** Stands for the host: nothing under it may change. */
  host: string;
  /** The lower layer's tree (the parent snapshot). */
  lower: string;
  /** Where the hostile layer is applied (a staging dir or an overlay upper). */
  target: string;
}

async function scene(t: import("node:test").TestContext): Promise<Scene> {
  const base = await mkdtemp(`${tmpdir()}/berth-sec-implicit-`);
  t.after(() => rm(base, { recursive: true, force: true }));
  const s = { host: `${base}/host`, lower: `${base}/lower`, target: `${base}/target` };
  for (const d of [s.host, `${s.host}/b`, s.lower, `${s.lower}/x`, `${s.lower}/a`, `${s.lower}/a/b`, s.target]) {
    await mkdir(d);
  }
  await writeFile(`${s.host}/b/secret`, "s");
  // The lower layer's directories: a mode and owner no host directory has.
  for (const d of [`${s.lower}/x`, `${s.lower}/a`, `${s.lower}/a/b`]) {
    await chown(d, 4321, 4321);
    await chmod(d, 0o777);
    await utimes(d, 5, 5);
  }
  for (const d of [`${s.host}/b`, s.host]) {
    await chmod(d, 0o700);
    await utimes(d, HOST_TIME, HOST_TIME);
  }
  return s;
}

/** What a metadata change would move: mode, owner, times and ctime. */
function fingerprint(st: Stats) {
  return { mode: st.mode, uid: st.uid, gid: st.gid, atime: st.atimeMs, mtime: st.mtimeMs, ctime: st.ctimeMs };
}

async function hostState(s: Scene) {
  return {
    host: fingerprint(await lstat(s.host)),
    b: fingerprint(await lstat(`${s.host}/b`)),
    secret: fingerprint(await lstat(`${s.host}/b/secret`)),
  };
}

async function apply(entries: LayerEntry[], s: Scene, parents?: string[]) {
  const { blob } = await gzipLayer(entries);
  return applyLayer(Readable.from([blob]), s.target, {
    whiteouts: "overlay",
    ...(parents ? { parents } : {}),
  });
}

test("staged layer: implicit dirs replaced by symlinks to the host are not chmodded through", { skip }, async (t) => {
  const s = await scene(t);
  const before = await hostState(s);
  // `x` and `a/b` are made implicitly, then `x` and `a` become symlinks out of the layer.
  const r = await apply(
    [
      { name: "x/f", body: "f" },
      { name: "a/b/f", body: "f" },
      { name: "x", type: "symlink", linkname: s.host },
      { name: "a", type: "symlink", linkname: s.host },
    ],
    s,
  );
  await adoptParentMetadata(s.target, r.implicitDirs, [s.lower]);
  assert.deepEqual(await hostState(s), before);
  // The layer's own last word stands: the symlinks themselves, untouched.
  assert.equal(await readlink(`${s.target}/x`), s.host);
  assert.equal(await readlink(`${s.target}/a`), s.host);
});

test("adoptParentMetadata never follows a symlink, whatever list of dirs it is given", { skip }, async (t) => {
  const s = await scene(t);
  const before = await hostState(s);
  const r = await apply(
    [
      { name: "x/f", body: "f" },
      { name: "x", type: "symlink", linkname: s.host },
      { name: "a", type: "symlink", linkname: s.host },
    ],
    s,
  );
  // A stale or hostile list: the paths named are now symlinks (x) or lie beneath one (a/b).
  await adoptParentMetadata(s.target, [...r.implicitDirs, "x", "a", "a/b"], [s.lower]);
  assert.deepEqual(await hostState(s), before);
});

test("apply with parents: directory times set at the end do not follow a later symlink", { skip }, async (t) => {
  const s = await scene(t);
  const before = await hostState(s);
  // `a/b` is explicit (its times are set last), `c/b` implicit (lower metadata); then `a` and `c`
  // become symlinks to the host before the end of the layer.
  await mkdir(`${s.lower}/c/b`, { recursive: true });
  await utimes(`${s.lower}/c/b`, 5, 5);
  await apply(
    [
      { name: "a/", type: "directory", mode: 0o755 },
      { name: "a/b/", type: "directory", mode: 0o777, uid: 4321 },
      { name: "c/b/f", body: "f" },
      { name: "a", type: "symlink", linkname: s.host },
      { name: "c", type: "symlink", linkname: s.host },
    ],
    s,
    [s.lower],
  );
  assert.deepEqual(await hostState(s), before);
});

test("implicit dirs still take the lower's owner, mode and times (staged and direct)", { skip }, async (t) => {
  const staged = await scene(t);
  const r = await apply([{ name: "a/b/f", body: "f" }], staged);
  assert.deepEqual(r.implicitDirs, ["a", "a/b"]);
  await adoptParentMetadata(staged.target, r.implicitDirs, [staged.lower]);
  const direct = await scene(t);
  await apply([{ name: "a/b/f", body: "f" }], direct, [direct.lower]);
  for (const root of [staged.target, direct.target]) {
    for (const d of ["a", "a/b"]) {
      const st = await lstat(`${root}/${d}`);
      assert.deepEqual([st.uid, st.gid, st.mode & 0o7777, st.mtimeMs], [4321, 4321, 0o777, 5000], `${root}/${d}`);
    }
  }
  // A directory the layer names itself after making it implicitly keeps the layer's metadata.
  const named = await scene(t);
  const r2 = await apply(
    [
      { name: "a/b/f", body: "f" },
      { name: "a/", type: "directory", mode: 0o750, uid: 9 },
    ],
    named,
  );
  assert.deepEqual(r2.implicitDirs, ["a/b"]);
  await adoptParentMetadata(named.target, r2.implicitDirs, [named.lower]);
  const a = await lstat(`${named.target}/a`);
  assert.deepEqual([a.uid, a.mode & 0o7777], [9, 0o750]);
});
