import assert from "node:assert/strict";
import { test } from "node:test";
import type { TarEntry } from "../../common/archive/tar-format.ts";
import { cleanPath, planEntry } from "./layer-entry.ts";

const entry = (name: string, type: TarEntry["type"] = "file", linkname = ""): TarEntry => ({
  name,
  type,
  mode: 0o644,
  uid: 0,
  gid: 0,
  size: 0,
  mtime: 0,
  linkname,
  devmajor: 0,
  devminor: 0,
  xattrs: new Map(),
});

test("cleanPath: absolute becomes relative, dots fold, escapes are null", () => {
  assert.deepEqual(cleanPath("/etc/passwd"), ["etc", "passwd"]);
  assert.deepEqual(cleanPath("./a//b/./c/"), ["a", "b", "c"]);
  assert.deepEqual(cleanPath("a/../b"), ["b"]);
  assert.deepEqual(cleanPath("/../etc"), null);
  assert.deepEqual(cleanPath("//x"), ["x"]);
  assert.deepEqual(cleanPath("./"), []);
  for (const bad of ["..", "../x", "a/../../x", "a/b/../../.."]) assert.equal(cleanPath(bad), null, bad);
});

test("planEntry: whiteouts, opaque markers, metadata files, the root", () => {
  assert.deepEqual(planEntry(entry("a/.wh.b")), { kind: "whiteout", dir: ["a"], name: "b" });
  assert.deepEqual(planEntry(entry("a/.wh..wh..opq")), { kind: "opaque", dir: ["a"] });
  assert.deepEqual(planEntry(entry(".wh..wh..opq")), { kind: "opaque", dir: [] });
  assert.equal(planEntry(entry(".wh..wh.plnk")).kind, "skip");
  assert.equal(planEntry(entry("./", "dir")).kind, "skip");
  assert.deepEqual(planEntry(entry("x/y")), { kind: "create", dir: ["x"], name: "y" });
  assert.deepEqual(planEntry(entry("h", "hardlink", "/a/b")), {
    kind: "create",
    dir: [],
    name: "h",
    target: ["a", "b"],
  });
});

test("planEntry refuses escapes, naming the entry", () => {
  for (const [name, type, link] of [
    ["../x", "file", ""],
    [".wh..", "file", ""],
    ["d/.wh...", "file", ""],
    [".wh.", "file", ""],
    ["/", "file", ""],
    ["h", "hardlink", "../../etc/shadow"],
    ["h", "hardlink", "."],
  ] as const) {
    assert.throws(
      () => planEntry(entry(name, type, link)),
      (err: Error) => {
        assert.equal(err.name, "InvalidArgumentError");
        assert.ok(err.message.includes(JSON.stringify(name)), err.message);
        return true;
      },
    );
  }
});
