import assert from "node:assert/strict";
import { lstatSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { bareEntry, entryFromStat } from "./tar-entry.ts";
import { entryTypeOf } from "./tar-format.ts";

test("entryFromStat: type, permission bits, owner, size (files only), whole-second mtime, device numbers", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "berth-tar-entry-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "f");
  writeFileSync(file, "hello", { mode: 0o4755 });
  utimesSync(file, 1_700_000_000.9, 1_700_000_000.9);
  const st = lstatSync(file, { bigint: true });
  const e = entryFromStat("f", st, entryTypeOf(st)!, "");
  assert.deepEqual(
    { ...e, xattrs: [...e.xattrs] },
    {
      name: "f",
      type: "file",
      mode: Number(st.mode) & 0o7777,
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: 5,
      mtime: 1_700_000_000,
      linkname: "",
      devmajor: 0,
      devminor: 0,
      xattrs: [],
    },
  );
  symlinkSync("f", join(dir, "l"));
  const lst = lstatSync(join(dir, "l"), { bigint: true });
  assert.deepEqual(
    [entryFromStat("l", lst, "symlink", "f").size, entryFromStat("l", lst, "symlink", "f").linkname],
    [0, "f"],
  );
  const dev = lstatSync("/dev/null", { bigint: true });
  const d = entryFromStat("null", dev, entryTypeOf(dev)!, "", new Map([["user.x", Buffer.from("y")]]));
  assert.deepEqual(
    [d.type, d.devmajor, d.devminor, d.size, d.xattrs.get("user.x")?.toString()],
    ["char", 1, 3, 0, "y"],
  );
});

test("bareEntry: every field zero or empty but those given", () => {
  const { name, type, linkname, xattrs, ...numbers } = bareEntry({ name: ".wh.x", type: "file" });
  assert.deepEqual([name, type, linkname, xattrs.size], [".wh.x", "file", "", 0]);
  assert.ok(
    Object.values(numbers).length === 7 && Object.values(numbers).every((v) => v === 0),
    JSON.stringify(numbers),
  );
  assert.equal(bareEntry({ name: "d", type: "dir", mode: 0o755 }).mode, 0o755);
});
