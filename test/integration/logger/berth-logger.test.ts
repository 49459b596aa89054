// dist/berth-logger run directly, as a shim runs a binary:// logger: the container's stdout on
// fd 3, stderr on fd 4, fd 5 closed when ready. What it writes is checked byte for byte against
// dockerd's json-file rules (native/berth-logger/README.md): lines, a partial line at the end,
// 16 KiB pieces of a long line, escaping of control bytes and invalid UTF-8, rotation, a
// planted symlink, a full disk, SIGTERM, and the order of each stream.
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { rm } from "node:fs/promises";
import type { Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { readJsonFileLog } from "../../../src/engine/logs/json-file.ts";
import { makeTempDir } from "../../fixtures/busybox.ts";
import { mountSmallFs } from "../../helpers/small-fs.ts";

const LOGGER = process.env.BERTH_LOGGER ?? join(import.meta.dirname, "..", "..", "..", "dist", "berth-logger");
const skip = process.getuid?.() !== 0 ? "needs root (a tmpfs for the full disk)" : !existsSync(LOGGER) && "no build";

/** Go's time.RFC3339Nano in UTC: no trailing zeros in the fraction, no fraction when it is zero. */
const RFC3339_NANO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/;

interface Entry {
  log: string;
  stream: string;
  time: string;
}

interface Logger {
  child: ChildProcess;
  out: Socket;
  err: Socket;
  /** Resolves once fd 5 is closed (the logger is ready, or gone). */
  ready: Promise<void>;
  stderr(): string;
  exited: Promise<number | string>;
}

function startLogger(args: string[], opts: { umask?: string } = {}): Logger {
  const [cmd, argv] = opts.umask
    ? ["sh", ["-c", `umask ${opts.umask}; exec "$0" "$@"`, LOGGER, ...args]]
    : [LOGGER, args];
  const child = spawn(cmd, argv, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => {
    stderr += b.toString();
  });
  const [out, err, readyPipe] = [3, 4, 5].map((i) => child.stdio[i] as Socket) as [Socket, Socket, Socket];
  // A logger that refused its arguments is gone before the test writes: not an error here.
  out.on("error", () => {});
  err.on("error", () => {});
  const ready = new Promise<void>((resolve) => {
    readyPipe.once("close", () => resolve());
    readyPipe.resume();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, out, err, ready, stderr: () => stderr, exited };
}

/** The exit of a logger given no output: a refusal's code, or 0 from one that took its arguments. */
async function exitWithoutOutput(args: string[]): Promise<{ code: number | string; stderr: string }> {
  const l = startLogger(args);
  l.out.end();
  l.err.end();
  return { code: await l.exited, stderr: l.stderr() };
}

/** Writes each chunk to its stream, in order, then ends both streams and waits for the exit. */
async function run(
  args: string[],
  writes: Array<["out" | "err", string | Buffer]>,
  opts: { umask?: string } = {},
): Promise<{ code: number | string; stderr: string }> {
  const l = startLogger(args, opts);
  await l.ready;
  for (const [which, data] of writes) {
    const s = which === "out" ? l.out : l.err;
    if (!s.write(data)) await new Promise((r) => s.once("drain", r));
  }
  l.out.end();
  l.err.end();
  return { code: await l.exited, stderr: l.stderr() };
}

function rawLines(path: string): string[] {
  const text = readFileSync(path, "utf8");
  assert.ok(text === "" || text.endsWith("\n"), "the file ends with a whole line");
  return text.split("\n").slice(0, -1);
}

function entries(path: string): Entry[] {
  return rawLines(path).map((l) => {
    // dockerd's field order, nothing else in the object.
    assert.match(l, /^\{"log":".*","stream":"(stdout|stderr)","time":"[^"]+"\}$/);
    const e = JSON.parse(l) as Entry;
    assert.match(e.time, RFC3339_NANO);
    return e;
  });
}

describe("berth-logger", { skip, timeout: 60_000 }, () => {
  let dir: string;
  let n = 0;
  /** A fresh log directory per case, and the logger's arguments for it. */
  const fresh = (extra: string[] = []) => {
    const d = join(dir, `case${n++}`);
    mkdirSync(d);
    return { d, path: join(d, "c.log"), args: ["dir", d, "name", "c.log", ...extra] };
  };

  before(async () => {
    dir = await makeTempDir("berth-logger-");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("lines of each stream become dockerd's json-file entries, 0640, with a UTC time", async () => {
    const { path, args } = fresh();
    const t0 = Date.now();
    const r = await run(args, [
      ["out", "one\ntw"],
      ["out", "o\n"],
      ["err", "err line\n"],
      ["out", "\n"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const e = entries(path);
    // Each stream in its order (between the two, the order is the order of reading).
    assert.deepEqual(
      e.filter((x) => x.stream === "stdout").map((x) => x.log),
      ["one\n", "two\n", "\n"],
    );
    assert.deepEqual(
      e.filter((x) => x.stream === "stderr").map((x) => x.log),
      ["err line\n"],
    );
    for (const x of e) assert.ok(Math.abs(Date.parse(x.time) - t0) < 10_000, x.time);
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  test("0640 whatever the umask; an existing file is appended to", async () => {
    const { path, args } = fresh();
    writeFileSync(path, '{"log":"before\\n","stream":"stdout","time":"2020-01-01T00:00:00Z"}\n', { mode: 0o600 });
    const r = await run(args, [["out", "after\n"]], { umask: "077" });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      entries(path).map((x) => x.log),
      ["before\n", "after\n"],
    );
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  test("a line without a newline at the end is written as it is, without one", async () => {
    const { path, args } = fresh();
    const r = await run(args, [
      ["out", "whole\npartial"],
      ["err", "no newline either"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const byStream = (s: string) =>
      entries(path)
        .filter((x) => x.stream === s)
        .map((x) => x.log);
    assert.deepEqual(byStream("stdout"), ["whole\n", "partial"]);
    assert.deepEqual(byStream("stderr"), ["no newline either"]);
  });

  test("a line over 16 KiB is cut into 16384-byte pieces that share the first one's time", async () => {
    const { path, args } = fresh();
    const long = "x".repeat(40_000);
    const exact = "y".repeat(16_384);
    const below = "z".repeat(16_383);
    const r = await run(args, [
      ["out", `${long}\n`],
      ["out", `${exact}\n`],
      ["out", `${below}\n`],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const e = entries(path);
    assert.deepEqual(
      e.map((x) => [x.log[0], x.log.length, x.log.endsWith("\n")]),
      [
        ["x", 16_384, false],
        ["x", 16_384, false],
        ["x", 40_000 - 2 * 16_384 + 1, true],
        // Exactly 16 KiB fills the buffer before its newline comes: dockerd writes the newline alone.
        ["y", 16_384, false],
        ["\n", 1, true],
        ["z", 16_384, true],
      ],
    );
    assert.equal(e[0]!.time, e[1]!.time);
    assert.equal(e[1]!.time, e[2]!.time);
  });

  test("control bytes, < > &, invalid UTF-8 and U+2028/9 are escaped as dockerd escapes them", async () => {
    const { path, args } = fresh();
    const input = Buffer.concat([
      Buffer.from([0x00, 0x01, 0x1f, 0x7f]),
      Buffer.from('<>&"\\\t\r é \uFFFD '),
      Buffer.from([0xff, 0x20, 0xc3, 0x20, 0xc0, 0xaf, 0x20, 0xed, 0xa0, 0x80, 0x20, 0xf0, 0x9f, 0x98, 0x20]),
      Buffer.from("\u2028\u2029 😀\n"),
    ]);
    const r = await run(args, [["out", input]]);
    assert.equal(r.code, 0, r.stderr);
    const [line] = rawLines(path);
    const want =
      '\\u0000\\u0001\\u001f\x7f\\u003c\\u003e\\u0026\\"\\\\\\u0009\\r é \uFFFD ' +
      "\\ufffd \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\\ufffd " +
      "\\u2028\\u2029 😀\\n";
    assert.equal(line, `{"log":"${want}","stream":"stdout","time":"${JSON.parse(line!).time}"}`);
    // And it is JSON whose string is the input with each bad byte as U+FFFD.
    assert.equal(
      (JSON.parse(line!) as Entry).log,
      '\x00\x01\x1f\x7f<>&"\\\t\r é \uFFFD \uFFFD \uFFFD \uFFFD\uFFFD \uFFFD\uFFFD\uFFFD \uFFFD\uFFFD\uFFFD \u2028\u2029 😀\n',
    );
  });

  test("stdout and stderr interleaved keep the order of each stream", async () => {
    const { path, args } = fresh();
    const writes: Array<["out" | "err", string]> = [];
    for (let i = 0; i < 2000; i++) writes.push([i % 3 === 0 ? "err" : "out", `${i}\n`]);
    const r = await run(args, writes);
    assert.equal(r.code, 0, r.stderr);
    const e = entries(path);
    for (const s of ["stdout", "stderr"] as const) {
      const want = writes.filter(([w]) => (w === "out") === (s === "stdout")).map(([, d]) => d);
      assert.deepEqual(
        e.filter((x) => x.stream === s).map((x) => x.log),
        want,
      );
    }
  });

  test("the same through real pipes, as containerd-shim-runc-v2 hands them over", async () => {
    const { path, args } = fresh();
    const script = `exec 3< <(seq 1 500) 4< <(seq 1001 1300); exec "$0" "$@" 5>/dev/null`;
    const child = spawn("bash", ["-c", script, LOGGER, ...args], { stdio: "inherit" });
    const code = await new Promise((r) => child.once("exit", r));
    assert.equal(code, 0);
    const e = entries(path);
    assert.equal(e.filter((x) => x.stream === "stdout").length, 500);
    assert.deepEqual(
      e.filter((x) => x.stream === "stderr").map((x) => Number(x.log)),
      Array.from({ length: 300 }, (_, i) => 1001 + i),
    );
  });

  test("max-size/max-file: rotated before the write that would start past the size, oldest dropped", async () => {
    const { d, path, args } = fresh(["max-size", "300", "max-file", "3"]);
    const writes: Array<["out", string]> = [];
    for (let i = 0; i < 60; i++) writes.push(["out", `line ${String(i).padStart(3, "0")}\n`]);
    const r = await run(args, writes);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(d).sort(), ["c.log", "c.log.1", "c.log.2"]);
    // Rotated files hold at least max-size and less than max-size plus one entry.
    for (const f of ["c.log.1", "c.log.2"]) {
      const size = statSync(join(d, f)).size;
      const one = rawLines(join(d, f))[0]!.length + 1;
      assert.ok(size >= 300 && size < 300 + one, `${f}: ${size}`);
      assert.equal(statSync(join(d, f)).mode & 0o777, 0o640);
    }
    // Oldest to newest, the entries are the last ones written, in order, none missing.
    const all = [`${path}.2`, `${path}.1`, path].flatMap((f) => entries(f).map((x) => x.log));
    assert.deepEqual(
      all,
      writes.slice(-all.length).map(([, s]) => s),
    );
  });

  // Once flaky: a follow that started while the logger rotated its first file missed that file's
  // lines (0-27 of 3000): the reader looked for name.1 before the rename and opened name after
  // it. The end of the rotated names is now checked with the rest of the snapshot.
  test("berthd's reader follows the logger through fast rotations: nothing lost, nothing twice", async () => {
    const { path, args } = fresh(["max-size", "2000", "max-file", "200"]);
    const l = startLogger(args);
    await l.ready;
    const ac = new AbortController();
    const seen: string[] = [];
    const stats = { malformed: 0 };
    const reading = (async () => {
      for await (const e of readJsonFileLog(path, { follow: true, pollMs: 5, signal: ac.signal }, stats))
        seen.push(e.line.toString());
    })();
    const want: string[] = [];
    for (let i = 0; i < 3000; i++) {
      want.push(`${i}\n`);
      if (!l.out.write(`${i}\n`)) await new Promise((r) => l.out.once("drain", r));
      if (i % 100 === 0) await sleep(1); // the reader sees some rotations one at a time, some several at once
    }
    l.out.end();
    l.err.end();
    assert.equal(await l.exited, 0);
    for (let i = 0; i < 200 && seen.length < want.length; i++) await sleep(20);
    ac.abort();
    await reading;
    assert.ok(existsSync(`${path}.50`), "the logger rotated many times");
    assert.equal(stats.malformed, 0);
    assert.deepEqual(seen, want);
  });

  test("max-file 1 empties the one file instead", async () => {
    const { d, path, args } = fresh(["max-file", "1", "max-size", "200"]);
    const writes: Array<["out", string]> = [];
    for (let i = 0; i < 40; i++) writes.push(["out", `line ${i}\n`]);
    const r = await run(args, writes);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(d), ["c.log"]);
    const logs = entries(path).map((x) => x.log);
    assert.ok(logs.length > 0 && logs.length < 40);
    assert.equal(logs.at(-1), "line 39\n");
  });

  test("a symlink at the log path is not followed: refused, its target untouched", async () => {
    const { d, path, args } = fresh();
    const target = join(d, "target");
    writeFileSync(target, "precious\n");
    symlinkSync(target, path);
    const r = await exitWithoutOutput(args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /symlink/);
    assert.equal(readFileSync(target, "utf8"), "precious\n");
    assert.ok(lstatSync(path).isSymbolicLink());
  });

  test("a symlink planted at a rotated name is replaced, not followed", async () => {
    const { d, args } = fresh(["max-size", "50", "max-file", "3"]);
    const target = join(d, "target");
    writeFileSync(target, "precious\n");
    symlinkSync(target, join(d, "c.log.1"));
    symlinkSync(target, join(d, "c.log.2"));
    const r = await run(args, [
      ["out", `${"a".repeat(60)}\n`],
      ["out", `${"b".repeat(60)}\n`],
      ["out", `${"c".repeat(60)}\n`],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(target, "utf8"), "precious\n");
    for (const f of ["c.log", "c.log.1", "c.log.2"]) assert.ok(lstatSync(join(d, f)).isFile(), f);
  });

  test("a fifo or a second hard link at the log path is refused (and a fifo does not block it)", async () => {
    const { d, path, args } = fresh();
    const other = join(d, "other");
    writeFileSync(other, "x\n");
    linkSync(other, path);
    assert.equal((await exitWithoutOutput(args)).code, 1);
    assert.equal(readFileSync(other, "utf8"), "x\n");
    await rm(path);
    const mk = spawn("mkfifo", [path]);
    await new Promise((r) => mk.once("exit", r));
    assert.equal((await exitWithoutOutput(args)).code, 1);
  });

  test("ready (fd 5 closed) comes once the log file is open, before any output", async () => {
    const { path, args } = fresh();
    const l = startLogger(args);
    await l.ready;
    assert.ok(existsSync(path), "the file exists when the shim is told it is ready");
    assert.equal(l.child.exitCode, null, "and the logger is still running");
    l.out.end("x\n");
    l.err.end();
    assert.equal(await l.exited, 0);
  });

  test("arguments come in any order; bad or oversized ones are refused before ready", async () => {
    const { d, path } = fresh();
    const ok = await run(["max-file", "2", "name", "c.log", "max-size", "1000", "dir", d], [["out", "a\n"]]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(entries(path).length, 1);
    const bad: string[][] = [
      [],
      ["dir", d],
      ["dir", d, "name"],
      ["dir", d, "name", "c.log", "colour", "red"],
      ["dir", d, "name", "c.log", "dir", d],
      ["dir", "relative", "name", "c.log"],
      ["dir", d, "name", "a/b"],
      ["dir", d, "name", ".."],
      ["dir", d, "name", ""],
      ["dir", d, "name", "n".repeat(251)],
      ["dir", d, "name", "c.log", "max-file", "0"],
      ["dir", d, "name", "c.log", "max-file", "1001"],
      ["dir", d, "name", "c.log", "max-size", "-1"],
      ["dir", d, "name", "c.log", "max-size", "10m"],
      ["dir", d, "name", "c.log", "max-size", "99999999999999999999"],
      ["dir", `/${"d".repeat(5000)}`, "name", "c.log"],
      Array.from({ length: 18 }, (_, i) => (i % 2 ? "x" : "max-size")),
    ];
    for (const args of bad) {
      const r = await exitWithoutOutput(args);
      assert.equal(r.code, 2, `${JSON.stringify(args).slice(0, 80)}: ${r.stderr}`);
    }
    assert.equal((await exitWithoutOutput(["dir", join(d, "nope"), "name", "c.log"])).code, 1);
  });

  test("SIGTERM: what the pipes hold is written, the unfinished line too, then exit 0", async () => {
    const { path, args } = fresh();
    const l = startLogger(args);
    await l.ready;
    // Stopped, the logger reads nothing: the output waits in the pipes when SIGTERM comes.
    l.child.kill("SIGSTOP");
    l.out.write("first\nunfinished");
    l.err.write("e\n");
    await sleep(200);
    l.child.kill("SIGTERM");
    l.child.kill("SIGCONT");
    assert.equal(await l.exited, 0);
    assert.deepEqual(
      entries(path).map((x) => [x.stream, x.log]),
      [
        ["stdout", "first\n"],
        ["stderr", "e\n"],
        ["stdout", "unfinished"],
      ],
    );
  });

  test("a full disk drops whole lines (counted) and never blocks the writer", { timeout: 60_000 }, async () => {
    const mnt = join(dir, "small");
    const fs = await mountSmallFs(mnt, { kind: "tmpfs", sizeMiB: 1 });
    try {
      const l = startLogger(["dir", mnt, "name", "c.log"]);
      await l.ready;
      // A few lines first: the file's last page is part used, so the first line that does not
      // fit is written in part (and must be cut back), not refused outright.
      const line = `${"f".repeat(100)}\n`;
      for (let i = 0; i < 5; i++) l.out.write(line);
      await waitFor(() => statSync(join(mnt, "c.log")).size > 5 * 100);
      fs.fill();
      for (let i = 0; i < 495; i++) if (!l.out.write(line)) await new Promise((r) => l.out.once("drain", r));
      await waitFor(() => /dropping lines/.test(l.stderr()));
      await sleep(300);
      await fs.free();
      l.out.end("after\n");
      l.err.end();
      assert.equal(await l.exited, 0);
      const kept = entries(join(mnt, "c.log")).map((x) => x.log);
      // Said when writing works again (a cut-back frees a page, so that may happen while full
      // too), and at exit with the total.
      assert.match(l.stderr(), /writing again, \d+ lines dropped/);
      const total = /: (\d+) lines dropped\n$/.exec(l.stderr());
      assert.ok(total, l.stderr());
      assert.ok(Number(total[1]) > 0);
      assert.equal(kept.length + Number(total[1]), 501, "every line is either written whole or counted");
      assert.equal(kept.at(-1), "after\n");
    } finally {
      await fs.unmount();
    }
  });
});

async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("timed out");
    await sleep(20);
  }
}
