// Hole: a layer read one way by berth and another by containerd, Docker and every image scanner
// built on Go's archive/tar. An image can then show a reviewer (or a scanner) one file tree and
// unpack another here. Each archive below is read as Go's reader reads it (reader.go: a later
// 'x' header replaces an earlier one; a GNU long name wins over a PAX path; an empty PAX value
// keeps the header's field; only regular files have data; only a NUL-typed name with a trailing
// slash is a directory; a zero block followed by a header is an error) and as containerd applies
// it (PAX global headers are ignored). Host-side check: the tree the layer leaves.
import assert from "node:assert/strict";
import { lstat, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { type TestContext, test } from "node:test";
import { applyLayer } from "../../src/containerd/archive/apply.ts";
import { END_OF_ARCHIVE, extended, member, pax, rawHeader } from "../fixtures/raw-tar.ts";

async function applied(t: TestContext, tar: Buffer): Promise<string> {
  const dir = await mkdtemp(`${tmpdir()}/berth-sec-differential-`);
  t.after(() => rm(dir, { recursive: true, force: true }));
  await applyLayer(Readable.from([tar]), dir, { whiteouts: "plain" });
  return dir;
}

test("two PAX headers in a row: only the last describes the entry", async (t) => {
  const dir = await applied(
    t,
    Buffer.concat([
      pax([["path", "evil"]]),
      pax([["mtime", "1600000000"]]),
      member({ name: "good" }, "x"),
      END_OF_ARCHIVE,
    ]),
  );
  assert.deepEqual(await readdir(dir), ["good"]);
});

test("a PAX global header changes no entry (containerd ignores them)", async (t) => {
  const dir = await applied(
    t,
    Buffer.concat([
      pax(
        [
          ["path", "renamed"],
          ["uid", "1234"],
        ],
        "g",
      ),
      member({ name: "a" }, "a"),
      member({ name: "b" }, "b"),
      END_OF_ARCHIVE,
    ]),
  );
  assert.deepEqual((await readdir(dir)).sort(), ["a", "b"]);
  assert.equal((await lstat(`${dir}/a`)).uid, 0);
});

test("a directory header's size hides nothing: the next header follows it at once", async (t) => {
  const dir = await applied(
    t,
    Buffer.concat([
      rawHeader({ name: "d/", typeflag: "5", size: 1024 }),
      member({ name: "hidden" }, "h"),
      member({ name: "after" }, "a"),
      END_OF_ARCHIVE,
    ]),
  );
  assert.deepEqual((await readdir(dir)).sort(), ["after", "d", "hidden"]);
});

test("a GNU long name wins over a PAX path; an empty PAX path keeps the header's name", async (t) => {
  const dir = await applied(
    t,
    Buffer.concat([
      extended("L", Buffer.from("long-name\0")),
      pax([["path", "pax-name"]]),
      member({ name: "short" }, "1"),
      pax([["path", ""]]),
      member({ name: "kept" }, "2"),
      END_OF_ARCHIVE,
    ]),
  );
  assert.deepEqual((await readdir(dir)).sort(), ["kept", "long-name"]);
});

test("a trailing slash makes a directory only of a NUL-typed entry", async (t) => {
  const dir = await applied(
    t,
    Buffer.concat([
      member({ name: "file/", typeflag: "0" }, "data"),
      member({ name: "dir/", typeflag: "\0" }),
      END_OF_ARCHIVE,
    ]),
  );
  assert.equal(await readFile(`${dir}/file`, "utf8"), "data");
  assert.ok((await lstat(`${dir}/dir`)).isDirectory());
});

test("a header after a single zero block is refused, not ignored", async (t) => {
  const dir = await mkdtemp(`${tmpdir()}/berth-sec-differential-`);
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tar = Buffer.concat([
    member({ name: "a" }, "a"),
    Buffer.alloc(512),
    member({ name: "b" }, "b"),
    END_OF_ARCHIVE,
  ]);
  await assert.rejects(applyLayer(Readable.from([tar]), dir, { whiteouts: "plain" }), {
    name: "InvalidArgumentError",
    message: /zero block followed by a header/,
  });
});
