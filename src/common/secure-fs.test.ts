// Modes that do not depend on the umask, against the real filesystem: directories made under
// umask 077 and 000 get exactly the mode asked for, an owned directory with looser modes is
// tightened, and a socket is served at its path with exactly its mode, nothing left beside it.
// (A directory another user owns is refused: test/integration/common/secure-fs.test.ts, as root.)
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { listenUnix, makeDir, ownDir } from "./secure-fs.ts";

const modeOf = (p: string) => statSync(p).mode & 0o7777;

/** Runs `f` under `mask` (the umask is the process's: restored at once). */
function withUmask<T>(mask: number, f: () => T): T {
  const old = process.umask(mask);
  try {
    return f();
  } finally {
    process.umask(old);
  }
}

describe("secure-fs", () => {
  const base = mkdtempSync(join(tmpdir(), "berth-secure-fs-"));
  after(() => rmSync(base, { recursive: true, force: true }));

  test("makeDir gives every directory it makes exactly the mode, whatever the umask", () => {
    withUmask(0o077, () => makeDir(join(base, "a", "b", "c"), 0o711));
    for (const p of ["a", "a/b", "a/b/c"]) assert.equal(modeOf(join(base, p)), 0o711, p);
    withUmask(0o000, () => makeDir(join(base, "d", "e"), 0o700));
    for (const p of ["d", "d/e"]) assert.equal(modeOf(join(base, p)), 0o700, p);
    // An existing directory is left alone (it may be shared, like /run).
    mkdirSync(join(base, "shared"), { mode: 0o755 });
    chmodSync(join(base, "shared"), 0o1777);
    makeDir(join(base, "shared"), 0o711);
    assert.equal(modeOf(join(base, "shared")), 0o1777);
  });

  test("ownDir tightens looser modes, keeps tighter ones", () => {
    const loose = join(base, "loose");
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    assert.equal(ownDir(loose, 0o711), 0o777);
    assert.equal(modeOf(loose), 0o711);
    const tight = join(base, "tight");
    mkdirSync(tight, { mode: 0o700 });
    assert.equal(ownDir(tight, 0o711), undefined);
    assert.equal(modeOf(tight), 0o700);
  });

  test("listenUnix serves at the path with exactly the mode and leaves nothing beside it", async () => {
    const dir = join(base, "sock");
    mkdirSync(dir);
    const path = join(dir, "x.sock");
    const srv = net.createServer((c) => c.end("hi"));
    const old = process.umask(0);
    try {
      await listenUnix(path, 0o660, (at) => new Promise((r) => srv.listen(at, () => r())));
    } finally {
      process.umask(old);
    }
    try {
      assert.ok(statSync(path).isSocket());
      assert.equal(modeOf(path), 0o660);
      assert.deepEqual(readdirSync(dir), ["x.sock"]);
      const got = await new Promise<string>((resolve, reject) => {
        let s = "";
        net
          .connect(path)
          .on("data", (d) => {
            s += d;
          })
          .on("end", () => resolve(s))
          .on("error", reject);
      });
      assert.equal(got, "hi");
    } finally {
      await new Promise((r) => srv.close(r));
    }
  });
});
