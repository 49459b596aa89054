import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { bareEntry } from "../../common/archive/tar-entry.ts";
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type TarEntry } from "../../common/archive/tar-format.ts";
import { untar } from "./untar.ts";

function member(e: Partial<TarEntry> & Pick<TarEntry, "name" | "type">, data = ""): Buffer {
  const body = Buffer.from(data);
  return Buffer.concat([
    encodeHeader(bareEntry({ mode: 0o644, mtime: 1_000_000, ...e, size: e.type === "file" ? body.length : 0 })),
    body,
    Buffer.alloc(paddingFor(body.length)),
  ]);
}
async function* source(...parts: Buffer[]): AsyncGenerator<Buffer> {
  yield Buffer.concat([...parts, END_OF_ARCHIVE]);
}

test("extracts files, directories, symlinks and hard links with the archive's modes and times; renames the first name", async () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-untar-"));
  try {
    await untar(
      source(
        member({ name: "d/", type: "dir", mode: 0o750 }),
        member({ name: "d/f", type: "file", mode: 0o600 }, "data"),
        member({ name: "d/l", type: "symlink", linkname: "/etc/passwd" }),
        member({ name: "d/h", type: "hardlink", linkname: "d/f" }),
      ),
      dir,
      { rename: (n) => n.replace("d", () => "renamed") },
    );
    assert.deepEqual(readdirSync(join(dir, "renamed")).sort(), ["f", "h", "l"]);
    assert.equal(statSync(join(dir, "renamed")).mode & 0o7777, 0o750);
    assert.equal(statSync(join(dir, "renamed", "f")).mode & 0o7777, 0o600);
    assert.equal(statSync(join(dir, "renamed", "f")).mtimeMs, 1_000_000_000);
    assert.equal(statSync(join(dir, "renamed")).mtimeMs, 1_000_000_000);
    assert.equal(statSync(join(dir, "renamed", "h")).ino, statSync(join(dir, "renamed", "f")).ino);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("hostile archives: nothing is written outside the destination, docker's refusals kept", async () => {
  const base = mkdtempSync(join(tmpdir(), "berth-untar-hostile-"));
  const outside = join(base, "outside");
  mkdirSync(outside);
  writeFileSync(join(outside, "target"), "keep");
  const cases: [string, Buffer[], RegExp, ((dest: string) => void)?][] = [
    ["../ name", [member({ name: "../escaped", type: "file" }, "x")], /is outside of/],
    [
      "symlink then through it",
      [member({ name: "l", type: "symlink", linkname: outside }), member({ name: "l/pwned", type: "file" }, "x")],
      /symlink is not followed/,
    ],
    ["relative symlink out", [member({ name: "up", type: "symlink", linkname: "../../x" })], /invalid symlink/],
    ["hard link out", [member({ name: "h", type: "hardlink", linkname: "../outside/target" })], /invalid hardlink/],
    [
      "a symlink already there",
      [member({ name: "pre/pwned", type: "file" }, "x")],
      /symlink is not followed/,
      (dest) => symlinkSync(outside, join(dest, "pre")),
    ],
    [
      "a directory over a file (NoOverwriteDirNonDir)",
      [member({ name: "f", type: "dir" })],
      /cannot overwrite non-directory/,
      (dest) => writeFileSync(join(dest, "f"), ""),
    ],
  ];
  try {
    for (const [name, parts, refusal, pre] of cases) {
      const dest = join(base, `d${cases.findIndex((c) => c[0] === name)}`);
      mkdirSync(dest);
      pre?.(dest);
      await assert.rejects(untar(source(...parts), dest), refusal, name);
      assert.deepEqual(readdirSync(outside), ["target"], name);
      assert.equal(readFileSync(join(outside, "target"), "utf8"), "keep", name);
      assert.equal(existsSync(join(base, "escaped")), false, name);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
