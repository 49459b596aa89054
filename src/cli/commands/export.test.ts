// berth export -o as docker's CopyToFile writes it: a file beside, renamed over the path once whole.
import assert from "node:assert/strict";
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, test } from "node:test";
import { parseFlags } from "../flags/parse.ts";
import type { Io } from "./command.ts";
import command from "./export.ts";

const dir = mkdtempSync(join(tmpdir(), "berth-export-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(output: string, body: () => Readable): Promise<void> {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const io = { client: () => ({ stream: async () => body() }), out: sink, err: sink } as unknown as Io;
  return command.run(io, parseFlags(["-o", output, "c"], command.flags, { interspersed: true, command: "export" }));
}

test("export -o: a failed export leaves the old file; a symlink at the path is replaced, its target kept", async () => {
  const out = join(dir, "c.tar");
  writeFileSync(out, "old");
  const failing = () =>
    new Readable({
      read() {
        this.push("part");
        this.destroy(new Error("connection reset"));
      },
    });
  await assert.rejects(run(out, failing), /failed to export container: connection reset/);
  assert.equal(readFileSync(out, "utf8"), "old");
  assert.deepEqual(readdirSync(dir), ["c.tar"]);

  const target = join(dir, "target");
  writeFileSync(target, "keep");
  const link = join(dir, "link.tar");
  symlinkSync(target, link);
  await run(link, () => Readable.from([Buffer.from("tar")]));
  assert.equal(lstatSync(link).isFile(), true);
  assert.equal(readFileSync(link, "utf8"), "tar");
  assert.equal(readFileSync(target, "utf8"), "keep");
  assert.throws(() => readlinkSync(link));
});
