import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { FifoLogger } from "./fifo-logger.ts";

const LOGGER = join(import.meta.dirname, "..", "..", "..", "dist", "berth-logger");
const dir = mkdtempSync(join(tmpdir(), "berth-fifo-logger-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("what berthd reads from a fifo container goes through berth-logger: lines, streams, an unfinished last line, rotation", {
  skip: !existsSync(LOGGER) && "no build (dist/berth-logger)",
}, async () => {
  const errors: string[] = [];
  const l = FifoLogger.spawn({ dir, name: "c-json.log", maxSize: 200, maxFile: 2 }, (why) => errors.push(why), LOGGER);
  for (let i = 0; i < 20; i++) l.write("stdout", Buffer.from(`line ${i}\n`));
  l.write("stderr", Buffer.from("err\n"));
  l.write("stdout", Buffer.from("no newline"));
  await l.close();
  assert.deepEqual(errors, []);
  assert.deepEqual(readdirSync(dir).sort(), ["c-json.log", "c-json.log.1"]);
  const entries = ["c-json.log.1", "c-json.log"].flatMap((f) =>
    readFileSync(join(dir, f), "utf8")
      .trimEnd()
      .split("\n")
      .map((x) => JSON.parse(x) as { log: string; stream: string }),
  );
  assert.deepEqual(entries.at(-1), { ...entries.at(-1), log: "no newline", stream: "stdout" });
  assert.ok(entries.some((e) => e.stream === "stderr" && e.log === "err\n"));
});

test("a logger that cannot start reports why; writes are dropped, nothing throws", async () => {
  const errors: string[] = [];
  const l = FifoLogger.spawn({ dir: join(dir, "missing"), name: "x.log" }, (why) => errors.push(why), LOGGER);
  l.write("stdout", Buffer.from("lost\n"));
  await l.close();
  assert.equal(errors.length, 1);
});

test("a stuck logger cannot hold close() (so the container's exit) for ever: SIGTERM after 2 s, SIGKILL after 1 s more", async () => {
  // A "logger" that ignores SIGTERM and never reads: what a hung berth-logger looks like to berthd.
  const stuck = join(dir, "stuck-logger");
  const pidFile = join(dir, "stuck.pid");
  writeFileSync(stuck, `#!/bin/sh\necho $$ > ${pidFile}\ntrap '' TERM\nexec sleep 1000\n`, { mode: 0o755 });
  const errors: string[] = [];
  const l = FifoLogger.spawn({ dir, name: "stuck.log" }, (why) => errors.push(why), stuck);
  l.write("stdout", Buffer.from("held\n"));
  const t0 = Date.now();
  try {
    const closed = await Promise.race([l.close().then(() => true), sleep(10_000, false, { ref: false })]);
    const took = Date.now() - t0;
    assert.ok(closed, "close() still waits 10 s later");
    assert.ok(took >= 2_500 && took < 6_000, `close took ${took} ms`);
    assert.match(errors.join("\n"), /exited with null/);
  } finally {
    try {
      process.kill(Number(readFileSync(pidFile, "utf8")), "SIGKILL");
    } catch {}
  }
});
