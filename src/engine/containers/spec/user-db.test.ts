// The image's user database read from a rootfs that may be hostile: symlinks out of it, special
// files, huge files. Nothing outside the rootfs is ever read, and nothing blocks.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { resolveUser } from "./user.ts";
import { MAX_USER_FILE_BYTES, rootfsUserDb } from "./user-db.ts";

const base = mkdtempSync(join(tmpdir(), "berth-user-db-"));
after(() => rmSync(base, { recursive: true, force: true }));

/** A decoy "host" passwd and group outside every rootfs: whoever reads them resolves "hostuser". */
const HOST_ETC = join(base, "host-etc");
mkdirSync(HOST_ETC);
writeFileSync(join(HOST_ETC, "passwd"), "hostuser:x:4242:4242::/host:/bin/sh\n");
writeFileSync(join(HOST_ETC, "group"), "hostgroup:x:4343:hostuser\n");

let n = 0;
function rootfs(files: Record<string, string | { link: string } | "fifo" | "dir">): string {
  const root = join(base, `rootfs-${n++}`);
  mkdirSync(join(root, "etc"), { recursive: true });
  for (const [path, what] of Object.entries(files)) {
    const abs = join(root, path);
    mkdirSync(join(abs, ".."), { recursive: true });
    if (typeof what === "string" && what !== "fifo" && what !== "dir") writeFileSync(abs, what);
    else if (what === "fifo") execFileSync("mkfifo", [abs]);
    else if (what === "dir") mkdirSync(abs);
    else symlinkSync(what.link, abs);
  }
  return root;
}

test("names resolve from the rootfs's own files", () => {
  const db = rootfsUserDb(
    rootfs({
      "etc/passwd": "root:x:0:0::/root:/bin/sh\napp:x:1001:1002::/srv:/bin/sh\n",
      "etc/group": "g:x:1002:\nextra:x:7:app\n",
    }),
  );
  assert.deepEqual(resolveUser("app", ["extra"], db), {
    uid: 1001,
    gid: 1002,
    additionalGids: [1002, 7, 7],
    home: "/srv",
  });
});

test("an absolute symlink to a host file resolves inside the rootfs, never on the host", () => {
  const db = rootfsUserDb(
    rootfs({ "etc/passwd": { link: join(HOST_ETC, "passwd") }, "etc/group": { link: join(HOST_ETC, "group") } }),
  );
  assert.throws(() => resolveUser("hostuser", [], db), /unable to find user hostuser/);
  assert.throws(() => resolveUser("0:hostgroup", [], db), /unable to find group hostgroup/);
  // /etc/passwd -> /etc/shadow names the image's shadow (here: none), not the host's.
  const shadow = rootfsUserDb(rootfs({ "etc/passwd": { link: "/etc/shadow" } }));
  assert.deepEqual(shadow.passwd(), []);
});

test("a relative symlink climbing out stops at the rootfs", () => {
  const depth = "../".repeat(20);
  const db = rootfsUserDb(rootfs({ "etc/passwd": { link: `${depth}${HOST_ETC.slice(1)}/passwd` } }));
  assert.throws(() => resolveUser("hostuser", [], db), /unable to find user hostuser/);
  // The same walk that stays inside finds the rootfs's own file.
  const inside = rootfsUserDb(
    rootfs({ "etc/passwd": { link: `${depth}data/passwd` }, "data/passwd": "inside:x:5:5::/:/bin/sh\n" }),
  );
  assert.equal(resolveUser("inside", [], inside).uid, 5);
});

test("/etc itself a symlink to the host's /etc is followed inside the rootfs", () => {
  const root = join(base, `rootfs-${n++}`);
  mkdirSync(root);
  symlinkSync(HOST_ETC, join(root, "etc"));
  const db = rootfsUserDb(root);
  assert.deepEqual(db.passwd(), []);
  assert.deepEqual(db.groups(), []);
});

test("a FIFO, a directory or a file past the bound is not read (and nothing blocks)", () => {
  const fifo = rootfsUserDb(rootfs({ "etc/passwd": "fifo", "etc/group": "dir" }));
  assert.deepEqual(fifo.passwd(), []);
  assert.deepEqual(fifo.groups(), []);
  // A huge /etc/group: no supplementary groups are added from it; numeric ids still work.
  const huge = `${"x:x:9:user\n".repeat(Math.ceil((MAX_USER_FILE_BYTES + 1) / 11))}`;
  const db = rootfsUserDb(rootfs({ "etc/passwd": "user:x:1000:1000::/home:/bin/sh\n", "etc/group": huge }));
  assert.deepEqual(resolveUser("user", ["55"], db), {
    uid: 1000,
    gid: 1000,
    additionalGids: [1000, 55],
    home: "/home",
  });
  assert.throws(() => resolveUser("user:x", [], db), /unable to find group x/);
});

test("malformed lines are skipped; numbers that are not ids read as 0, as runc reads them", () => {
  const db = rootfsUserDb(
    rootfs({ "etc/passwd": "# comment\n\nshort:x\nodd:x:abc:def::/:/bin/sh\nok:x:3:4::/h:/bin/sh\n" }),
  );
  assert.deepEqual(
    db.passwd().map((p) => [p.name, p.uid, p.gid]),
    [
      ["odd", 0, 0],
      ["ok", 3, 4],
    ],
  );
});

test("the files are read once per database", () => {
  const root = rootfs({ "etc/passwd": "a:x:1:1::/:/bin/sh\n" });
  const db = rootfsUserDb(root);
  assert.equal(db.passwd().length, 1);
  writeFileSync(join(root, "etc/passwd"), "");
  assert.equal(db.passwd().length, 1);
});
