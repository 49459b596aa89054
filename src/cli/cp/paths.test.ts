import assert from "node:assert/strict";
import { test } from "node:test";
import {
  getRebaseName,
  goClean,
  prepareArchiveCopy,
  preserveTrailingDotOrSeparator,
  rebaseName,
  splitCpArg,
  splitPathDirEntry,
} from "./paths.ts";

test("which argument is the container's", () => {
  assert.deepEqual(splitCpArg("web:/d"), { container: "web", path: "/d" });
  assert.deepEqual(splitCpArg("/abs:x"), { container: "", path: "/abs:x" });
  assert.deepEqual(splitCpArg("./a:b"), { container: "", path: "./a:b" });
  assert.deepEqual(splitCpArg("plain"), { container: "", path: "plain" });
});

test("Go's path rules: clean, split, trailing / and /. kept", () => {
  assert.equal(goClean("/a/b/../c/"), "/a/c");
  assert.equal(goClean(""), ".");
  assert.deepEqual(splitPathDirEntry("/a/b/."), { dir: "/a/b", base: "." });
  assert.deepEqual(splitPathDirEntry("/a/b/"), { dir: "/a", base: "b" });
  assert.equal(preserveTrailingDotOrSeparator("/x/d", "d/."), "/x/d/.");
  assert.equal(preserveTrailingDotOrSeparator("/x/d", "d/"), "/x/d/");
  assert.deepEqual(getRebaseName("/d/link/", "/d/sub"), { resolved: "/d/sub/", rebaseName: "link" });
});

test("where an archive goes (moby's PrepareArchiveCopy)", () => {
  const file = { path: "/c/a", exists: true, isDir: false, rebaseName: "" };
  const dir = { path: "/c/d", exists: true, isDir: true, rebaseName: "" };
  assert.deepEqual(prepareArchiveCopy(file, { path: "/h/out", exists: true, isDir: true, rebaseName: "" }), {
    dstDir: "/h/out",
  });
  assert.deepEqual(prepareArchiveCopy(dir, { path: "/h/f", exists: true, isDir: false, rebaseName: "" }), {
    error: "cannot copy directory",
  });
  assert.deepEqual(prepareArchiveCopy(file, { path: "/h/new/", exists: false, isDir: false, rebaseName: "" }), {
    error: "no such directory",
  });
  assert.deepEqual(prepareArchiveCopy(dir, { path: "/h/new", exists: false, isDir: false, rebaseName: "" }), {
    dstDir: "/h",
    rebase: { from: "d", to: "new" },
  });
  assert.deepEqual(
    prepareArchiveCopy({ ...file, rebaseName: "ln" }, { path: "/h/x", exists: false, isDir: false, rebaseName: "" }),
    {
      dstDir: "/h",
      rebase: { from: "ln", to: "x" },
    },
  );
  // Go's strings.Replace(name, old, new, 1); "$&" in a name is not a pattern.
  assert.equal(rebaseName("d/sub/d", "d", "new"), "new/sub/d");
  assert.equal(rebaseName("d/x", "d", "$&y"), "$&y/x");
});
