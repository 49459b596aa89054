// Hole: host directory metadata leaked into images. A directory a layer needs but does not carry
// (`a` and `a/hostdir` for an entry `a/hostdir/x`) is made with the owner, mode and times it has
// in the nearest lower layer. That lookup was an lstat of `<lower>/a/hostdir`, which follows the
// lower layer's own symlinks: with `a -> /some/host/dir` in the layer below, the host directory's
// owner, mode and mtime were copied into the new snapshot. Now each lower is walked component by
// component without following symlinks (a symlink there means "no such directory in that lower"),
// both when the layer is applied onto its parents (the diff service's overlay fast path) and when
// it is staged ahead of its chain and given its parents' metadata afterwards (the transfer path).
// Host-side check: the snapshot's directories carry none of the host directory's distinctive
// owner, mode or mtime, and the host directory itself is unchanged.
import assert from "node:assert/strict";
import type { Stats } from "node:fs";
import { chmod, chown, lstat, mkdir, mkdtemp, rm, symlink, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { test } from "node:test";
import { adoptParentMetadata, applyLayer } from "../../src/containerd/archive/apply.ts";
import { gzipLayer } from "../fixtures/layer-tar.ts";

const skip = process.getuid?.() !== 0 ? "needs root (owners, chown)" : undefined;
const HOST_UID = 2345;
const HOST_MODE = 0o741;
const HOST_MTIME = 1_111_111_111;

interface Scene {
  /** Stands for a host directory (`/some/host/dir`): it holds `hostdir`. */
  host: string;
  /** The lower layer: `a` is a symlink to the host directory. */
  lower: string;
  /** The new layer's directory (an overlay upper, or a staging directory). */
  upper: string;
}

async function scene(t: import("node:test").TestContext, link: (s: Scene) => string): Promise<Scene> {
  const base = await mkdtemp(`${tmpdir()}/berth-sec-parent-leak-`);
  t.after(() => rm(base, { recursive: true, force: true }));
  const s = { host: `${base}/host`, lower: `${base}/layers/lower`, upper: `${base}/layers/upper` };
  for (const d of [s.host, `${s.host}/hostdir`, s.lower, s.upper]) await mkdir(d, { recursive: true });
  for (const d of [`${s.host}/hostdir`, s.host]) {
    await chown(d, HOST_UID, HOST_UID);
    await chmod(d, HOST_MODE);
    await utimes(d, HOST_MTIME, HOST_MTIME);
  }
  await symlink(link(s), `${s.lower}/a`);
  return s;
}

function fingerprint(st: Stats) {
  return { mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtimeMs, ctime: st.ctimeMs };
}

/** The directories made for the layer carry nothing of the host's, and the host is unchanged. */
async function assertNoLeak(s: Scene, hostBefore: unknown[]): Promise<void> {
  for (const rel of ["a", "a/hostdir"]) {
    const st = await lstat(`${s.upper}/${rel}`);
    assert.ok(st.isDirectory(), `${rel} is a directory`);
    assert.notEqual(st.uid, HOST_UID, `${rel}: owner ${st.uid} is the host directory's`);
    assert.notEqual(st.mode & 0o7777, HOST_MODE, `${rel}: mode ${(st.mode & 0o7777).toString(8)} is the host's`);
    assert.notEqual(Math.trunc(st.mtimeMs / 1000), HOST_MTIME, `${rel}: mtime is the host directory's`);
  }
  assert.deepEqual(
    [fingerprint(await lstat(s.host)), fingerprint(await lstat(`${s.host}/hostdir`))],
    hostBefore,
    "the host directories are unchanged",
  );
}

async function hostState(s: Scene) {
  return [fingerprint(await lstat(s.host)), fingerprint(await lstat(`${s.host}/hostdir`))];
}

const links: [string, (s: Scene) => string][] = [
  ["absolute symlink", (s) => s.host],
  ["relative symlink climbing out of it", () => "../../host"],
];

for (const [what, link] of links) {
  test(`applied onto its parents: the host's metadata is not copied through the lower's ${what}`, {
    skip,
  }, async (t) => {
    const s = await scene(t, link);
    const before = await hostState(s);
    const { blob } = await gzipLayer([{ name: "a/hostdir/x", body: "x" }]);
    await applyLayer(Readable.from([blob]), s.upper, { whiteouts: "overlay", parents: [s.lower] });
    await assertNoLeak(s, before);
  });

  test(`staged, then given its parents' metadata: nothing is copied through the lower's ${what}`, {
    skip,
  }, async (t) => {
    const s = await scene(t, link);
    const before = await hostState(s);
    const { blob } = await gzipLayer([{ name: "a/hostdir/x", body: "x" }]);
    const r = await applyLayer(Readable.from([blob]), s.upper, { whiteouts: "overlay" });
    assert.deepEqual(r.implicitDirs, ["a", "a/hostdir"]);
    await adoptParentMetadata(s.upper, r.implicitDirs, [s.lower]);
    await assertNoLeak(s, before);
  });
}
