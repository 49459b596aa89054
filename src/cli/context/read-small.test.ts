// Hostile config directories: what is checked is what is read (one descriptor), nothing blocks,
// nothing past the bound is read.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readSmall } from "./read-small.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-read-small-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("readSmall: a file's text; refused: too large, a FIFO (without waiting for a writer), a lying size", () => {
  const file = join(dir, "small.json");
  writeFileSync(file, '{"a":1}');
  assert.equal(readSmall(file, 7), '{"a":1}');
  assert.throws(() => readSmall(file, 6), /is larger than 6 bytes/);
  const fifo = join(dir, "fifo");
  execFileSync("mkfifo", [fifo]);
  assert.throws(() => readSmall(fifo, 1024), /is not a regular file/);
  assert.throws(() => readSmall(dir, 1024), /is not a regular file/);
  // /proc's files say size 0 and hold more: the read stops one byte past the bound.
  assert.throws(() => readSmall("/proc/self/maps", 16), /is larger than 16 bytes/);
});

test("config.json swapped for a FIFO right after it is checked: the checked file is what is read", () => {
  const home = join(dir, "home");
  const config = join(home, ".docker", "config.json");
  execFileSync("mkdir", ["-p", join(home, ".docker")]);
  writeFileSync(config, '{"detachKeys":"ctrl-x"}');
  // In a child: a read that opened the FIFO would block there for good (the timeout ends it).
  const script = `
    import fs from "node:fs";
    import { execFileSync } from "node:child_process";
    import { syncBuiltinESMExports } from "node:module";
    const target = ${JSON.stringify(config)};
    let swapped = false;
    for (const name of ["statSync", "openSync", "lstatSync"]) {
      const orig = fs[name];
      fs[name] = function (p, ...rest) {
        const r = orig.call(this, p, ...rest);
        if (p === target && !swapped) {
          swapped = true;
          fs.renameSync(target, target + ".checked");
          execFileSync("mkfifo", [target]);
        }
        return r;
      };
    }
    syncBuiltinESMExports();
    const { resolveContext } = await import(${JSON.stringify(join(import.meta.dirname, "resolve.ts"))});
    const r = resolveContext({ env: {}, home: ${JSON.stringify(home)} });
    process.stdout.write(JSON.stringify({ swapped, config: r.config }));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.signal, null, "the read blocked on the FIFO");
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { swapped: true, config: { detachKeys: "ctrl-x" } });
});
