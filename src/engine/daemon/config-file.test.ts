import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CONFIG_FILE_MAX_BYTES, readConfigFile } from "./config-file.ts";

const dir = mkdtempSync(join(realpathSync(tmpdir()), "berth-daemon-json-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string, mode = 0o644) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
};

test("a regular file is read and parsed", () => {
  assert.deepEqual(readConfigFile(file("ok.json", '{"data-root":"/x"}'), true), { "data-root": "/x" });
});

test("the default file may be absent; a named one must exist", () => {
  assert.equal(readConfigFile(join(dir, "absent.json"), false), undefined);
  assert.equal(readConfigFile(join(dir, "no-dir", "daemon.json"), false), undefined);
  assert.throws(() => readConfigFile(join(dir, "absent.json"), true), {
    message: new RegExp(`^unable to configure the berth daemon with file ${dir}/absent.json: .*no such file`),
  });
});

test("symlinks are refused: the file itself, or a directory on its way", () => {
  const real = file("real.json", "{}");
  symlinkSync(real, join(dir, "link.json"));
  assert.throws(() => readConfigFile(join(dir, "link.json"), true), /it is a symlink: name the file itself/);
  mkdirSync(join(dir, "realdir"));
  file("realdir/daemon.json", "{}");
  symlinkSync(join(dir, "realdir"), join(dir, "linkdir"));
  assert.throws(() => readConfigFile(join(dir, "linkdir", "daemon.json"), true), /reached through a symlink/);
  // A missing default file behind a symlinked directory is still refused, not skipped.
  assert.throws(() => readConfigFile(join(dir, "linkdir", "absent.json"), false), /reached through a symlink/);
});

test("files others may write, non-regular files, large files and bad JSON are refused", () => {
  assert.throws(() => readConfigFile(file("gw.json", "{}", 0o664), true), /writable by group or others \(mode 0664\)/);
  assert.throws(() => readConfigFile(file("ow.json", "{}", 0o646), true), /writable by group or others/);
  assert.throws(() => readConfigFile(dir, true), /not a regular file/);
  // A FIFO would block a plain open; it is refused at once.
  execFileSync("mkfifo", ["-m", "0644", join(dir, "fifo.json")]);
  assert.throws(() => readConfigFile(join(dir, "fifo.json"), true), /not a regular file/);
  assert.throws(
    () => readConfigFile(file("big.json", " ".repeat(CONFIG_FILE_MAX_BYTES + 1)), true),
    /larger than 1048576 bytes/,
  );
  assert.throws(() => readConfigFile(file("bad.json", "{bad"), true), /invalid JSON: /);
});
