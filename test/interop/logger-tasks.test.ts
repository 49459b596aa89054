// berth-logger as the binary:// logger of real tasks: `ctr run --log-uri binary:///…/berth-logger?…`
// on berth-containerd (berth-shim) and on Debian's containerd 1.6 (containerd-shim-runc-v2 with
// runc): the container writes to stdout and stderr and the file holds the right json-file
// entries, read back through berthd's reader. kill -9 of berth-containerd while a container
// counts every 100 ms: the logger (the shim's child, not the daemon's) keeps writing, no gap.
// And Debian's dockerd writes its own json-file for the same output: the same fields, order,
// escaping, pieces and time format as berth-logger's.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { binaryLogUri } from "../../src/client/log-uri.ts";
import { formatEntry, type LogEntry, parseLogTime } from "../../src/engine/logs/entry.ts";
import { type ReadOptions, readJsonFileLog } from "../../src/engine/logs/json-file.ts";
import { jsonFileLogUri } from "../../src/engine/logs/log-uri.ts";
import { makeTempDir } from "../fixtures/busybox.ts";
import { writeImageArchive } from "../fixtures/oci-image.ts";
import {
  type BerthContainerd,
  BUSYBOX_IMAGE,
  type CtrResult,
  retryUntil,
  startWithBusybox,
} from "../helpers/berth-containerd.ts";
import { COUNTER_SCRIPT, readCounter } from "../helpers/counter-log.ts";
import { type Containerd, type Dockerd, startContainerd, startDockerd } from "../helpers/peers.ts";

const repo = join(import.meta.dirname, "..", "..");
const LOGGER = process.env.BERTH_LOGGER ?? join(repo, "dist", "berth-logger");
const RUNC = "/usr/sbin/runc";
const skip =
  process.getuid?.() !== 0
    ? "interop tests run as root"
    : [LOGGER, "/usr/bin/ctr", "/usr/bin/containerd", "/usr/bin/containerd-shim-runc-v2", RUNC].find(
        (b) => !existsSync(b),
      );

/** What the container prints: lines on both streams, escapes, a long line, an unfinished last line. */
const SCRIPT = [
  "echo out-1",
  "echo err-1 >&2",
  "printf 'tab\\there <&> \"q\" \\\\ \\001\\377\\n'",
  "head -c 20000 /dev/zero | tr '\\000' x; echo",
  "echo err-2 >&2",
  "printf 'no newline'",
].join("; ");

/** The log's entries as [stream, text] per stream, read back with berthd's reader. */
async function readLog(path: string): Promise<{ stdout: string[]; stderr: string[]; malformed: number }> {
  const stats = { malformed: 0 };
  const out = { stdout: [] as string[], stderr: [] as string[], malformed: 0 };
  for await (const e of readJsonFileLog(path, {}, stats)) out[e.stream].push(e.line.toString("utf8"));
  out.malformed = stats.malformed;
  return out;
}

/**
 * A slow binary:// logger: ready at once, copies stdout to `<p>.out` until EOF, then takes a
 * second (SIGTERM ignored) before it writes `<p>.done`. berthd ends an attach once the task's
 * delete has answered, so the delete must wait for the logger, as containerd's shims do.
 */
function slowLogger(dir: string): { uri: string; done: string; out: string } {
  const script = join(dir, "slow-logger.sh");
  writeFileSync(script, `#!/bin/sh\ntrap '' TERM\nexec 5>&-\ncat <&3 >"$2.out"\nsleep 1\necho done >"$2.done"\n`, {
    mode: 0o755,
  });
  const p = join(dir, "slow");
  return { uri: binaryLogUri(script, { p }), done: `${p}.done`, out: `${p}.out` };
}

function checkScriptLog(log: { stdout: string[]; stderr: string[]; malformed: number }): void {
  assert.equal(log.malformed, 0);
  assert.deepEqual(log.stderr, ["err-1\n", "err-2\n"]);
  assert.deepEqual(log.stdout, [
    "out-1\n",
    'tab\there <&> "q" \\ \x01\uFFFD\n',
    "x".repeat(16_384),
    `${"x".repeat(20_000 - 16_384)}\n`,
    "no newline",
  ]);
}

const ok = (r: CtrResult, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

describe("berth-logger under berth-containerd (berth-shim)", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let logs: string;

  before(async () => {
    d = await startWithBusybox();
    logs = join(d.dir, "logs");
  });
  after(async () => {
    await d?.cleanup();
  });

  const uriFor = (id: string, extra: { maxSize?: number; maxFile?: number } = {}) => {
    mkdirSync(join(logs, id), { recursive: true, mode: 0o700 });
    return jsonFileLogUri({ dir: join(logs, id), name: `${id}-json.log`, ...extra }, LOGGER);
  };

  test("ctr run --log-uri binary://: stdout and stderr as json-file entries", { timeout: 60_000 }, async () => {
    const r = await d.ctrAsync(["run", "--rm", "--log-uri", uriFor("l1"), BUSYBOX_IMAGE, "l1", "sh", "-c", SCRIPT]);
    assert.equal(r.status, 0, r.stderr);
    checkScriptLog(await readLog(join(logs, "l1", "l1-json.log")));
  });

  test("a container writing faster than the logger reads waits for it: every line, exit 0", {
    timeout: 60_000,
  }, async () => {
    // The shim once gave the container a non-blocking end: under berthd seq 1 300000 got EAGAIN
    // and exited 255 every time (here, under ctr, it did not show).
    const r = await d.ctrAsync(["run", "--rm", "--log-uri", uriFor("seq"), BUSYBOX_IMAGE, "seq", "seq", "1", "200000"]);
    assert.equal(r.status, 0, r.stderr);
    const lines = (await readLog(join(logs, "seq", "seq-json.log"))).stdout;
    assert.equal(lines.length, 200000);
    assert.equal(lines.at(-1), "200000\n");
  });

  test("the task's delete answers once the logger has exited (what it wrote is all there)", {
    timeout: 60_000,
  }, async () => {
    const slow = slowLogger(d.dir);
    const r = await d.ctrAsync(["run", "--rm", "--log-uri", slow.uri, BUSYBOX_IMAGE, "slow", "echo", "last words"]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(slow.done), "ctr run --rm returned before the logger exited");
    assert.equal(readFileSync(slow.out, "utf8"), "last words\n");
  });

  test("kill -9 of berth-containerd while a container counts: the log has no gap", { timeout: 120_000 }, async () => {
    const path = join(logs, "count", "count-json.log");
    ok(
      await d.ctrAsync(["run", "-d", "--log-uri", uriFor("count"), BUSYBOX_IMAGE, "count", "sh", "-c", COUNTER_SCRIPT]),
      "run -d",
    );
    const ls = ok(await d.ctrAsync(["task", "ls"]), "task ls");
    const pid = Number(/^count\s+(\d+)\s+RUNNING/m.exec(ls)?.[1]);
    assert.ok(pid > 0, ls);
    const counted = async () => readCounter((await readLog(path)).stdout.join("")).last;
    await sleep(1000);
    await d.kill9();
    const atKill = await counted();
    // While the daemon is down the logger goes on writing.
    for (let i = 0; i < 100 && (await counted()) < atKill + 10; i++) await sleep(100);
    assert.ok((await counted()) >= atKill + 10, `counting while the daemon is down (${atKill} → ${await counted()})`);
    await d.start();
    await sleep(500);
    writeFileSync(`/proc/${pid}/root/tmp/stop`, "0");
    const del = await retryUntil(
      () => d.ctrAsync(["task", "delete", "count"]),
      (x) => x.status === 0,
    );
    ok(del, "task delete");
    ok(await d.ctrAsync(["containers", "rm", "count"]), "containers rm");
    const log = await readLog(path);
    const c = readCounter(log.stdout.join(""));
    assert.deepEqual(c.gaps, [], "no gap, nothing twice");
    assert.ok(c.last >= atKill + 10, `${c.last}`);
    assert.equal(log.malformed, 0);
  });
});

describe("berth-logger under Debian's containerd 1.6 (containerd-shim-runc-v2, runc)", { skip }, () => {
  let c: Containerd;
  let logs: string;

  before(async () => {
    c = await startContainerd(RUNC);
    const archive = join(c.dir, "busybox.tar");
    await writeImageArchive(archive, { name: BUSYBOX_IMAGE });
    const r = await c.ctr(["images", "import", archive]);
    assert.equal(r.code, 0, r.stderr);
    logs = join(c.dir, "logs");
  });
  after(async () => {
    await c?.stop();
  });

  test("ctr run --log-uri binary://: stdout and stderr as json-file entries, rotated", {
    timeout: 60_000,
  }, async () => {
    const dir = join(logs, "l1");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const uri = jsonFileLogUri({ dir, name: "l1-json.log" }, LOGGER);
    const r = await c.ctr(["run", "--rm", ...c.runFlags, "--log-uri", uri, BUSYBOX_IMAGE, "l1", "sh", "-c", SCRIPT], {
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    checkScriptLog(await readLog(join(dir, "l1-json.log")));

    // The delete waits for the logger to exit (berth-shim does the same).
    const slow = slowLogger(c.dir);
    const rs = await c.ctr(["run", "--rm", ...c.runFlags, "--log-uri", slow.uri, BUSYBOX_IMAGE, "slow", "echo", "x"], {
      timeoutMs: 60_000,
    });
    assert.equal(rs.code, 0, rs.stderr);
    assert.ok(existsSync(slow.done), "ctr run --rm returned before the logger exited");

    // The query's pairs come in a Go map's order: rotation works whatever the order was.
    const rdir = join(logs, "l2");
    mkdirSync(rdir, { recursive: true, mode: 0o700 });
    const ruri = jsonFileLogUri({ dir: rdir, name: "l2-json.log", maxSize: 1000, maxFile: 3 }, LOGGER);
    const seq = "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done";
    const r2 = await c.ctr(["run", "--rm", ...c.runFlags, "--log-uri", ruri, BUSYBOX_IMAGE, "l2", "sh", "-c", seq], {
      timeoutMs: 60_000,
    });
    assert.equal(r2.code, 0, r2.stderr);
    assert.ok(existsSync(join(rdir, "l2-json.log.2")) && !existsSync(join(rdir, "l2-json.log.3")));
    const lines = (await readLog(join(rdir, "l2-json.log"))).stdout;
    assert.ok(lines.length > 0 && lines.length < 200);
    assert.deepEqual(
      lines,
      Array.from({ length: lines.length }, (_, k) => `line-${200 - lines.length + k}\n`),
    );
  });
});

describe("dockerd's own json-file for the same output", {
  skip: skip || (!existsSync("/usr/sbin/dockerd") && "no dockerd"),
}, () => {
  let dk: Dockerd;
  let dir: string;
  const IMAGE = "docker.io/library/berth-busybox:latest";

  before(async () => {
    dk = await startDockerd(RUNC);
    dir = await makeTempDir("berth-logger-oracle-");
    const archive = join(dir, "busybox.tar");
    await writeImageArchive(archive, { name: IMAGE });
    const r = await dk.docker(["load", "-i", archive], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await dk?.stop();
  });

  test("the same fields, order, escaping, pieces and time format", { timeout: 90_000 }, async () => {
    const wide =
      "printf '\\000\\001\\037\\177<>&\"\\\\\\t\\r \\303\\251 \\357\\277\\275 \\377 \\303 \\300\\257 \\355\\240\\200 \\342\\200\\250\\n'";
    const script = `${SCRIPT}; echo; ${wide}; head -c 16384 /dev/zero | tr '\\000' y; echo`;
    const run = await dk.docker(["run", "-d", "--runtime", "runc", IMAGE, "sh", "-c", script], { timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    const wait = await dk.docker(["wait", id], { timeoutMs: 30_000 });
    assert.equal(wait.stdout.trim(), "0", wait.stderr);
    const theirs = readFileSync(join(dk.dir, "data", "containers", id, `${id}-json.log`), "utf8");

    // The same bytes through berth-logger (run as a shim would, by containerd 1.6 here).
    const c = await startContainerd(RUNC);
    try {
      const archive = join(c.dir, "busybox.tar");
      await writeImageArchive(archive, { name: BUSYBOX_IMAGE });
      assert.equal((await c.ctr(["images", "import", archive])).code, 0);
      const ldir = join(dir, "ours");
      mkdirSync(ldir);
      const uri = jsonFileLogUri({ dir: ldir, name: "c.log" }, LOGGER);
      const r = await c.ctr(["run", "--rm", ...c.runFlags, "--log-uri", uri, BUSYBOX_IMAGE, "o1", "sh", "-c", script], {
        timeoutMs: 60_000,
      });
      assert.equal(r.code, 0, r.stderr);
      const ours = readFileSync(join(ldir, "c.log"), "utf8");
      // Times differ; everything else is byte for byte the same, per stream (the order between
      // the two streams is the order of reading, in both).
      const TIME = /"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d*[1-9])?Z)"\}$/;
      const shape = (text: string) => {
        const lines = text.split("\n").slice(0, -1);
        for (const l of lines) assert.match(l, TIME, l.slice(0, 200));
        const noTime = lines.map((l) => l.replace(TIME, '"time":T}'));
        return {
          stdout: noTime.filter((l) => l.includes('"stream":"stdout"')),
          stderr: noTime.filter((l) => l.includes('"stream":"stderr"')),
        };
      };
      assert.deepEqual(shape(ours), shape(theirs));
      // The pieces of a long line share one time in dockerd's file, and in ours.
      const piecesTimes = (text: string) =>
        text
          .split("\n")
          .filter((l) => l.startsWith('{"log":"xxxx'))
          .map((l) => TIME.exec(l)?.[1]);
      for (const t of [piecesTimes(theirs), piecesTimes(ours)]) {
        assert.equal(t.length, 2);
        assert.equal(t[0], t[1]);
      }
    } finally {
      await c.stop();
    }
  });
  test("berthd's reader gives what docker logs gives from dockerd's own file (timestamps, details, tail, since/until)", {
    timeout: 90_000,
  }, async () => {
    const script =
      "for i in 1 2 3 4 5; do echo out-$i; echo err-$i >&2; sleep 0.05; done; head -c 17000 /dev/zero | tr '\\000' z; echo";
    const run = await dk.docker(["run", "-d", "--runtime", "runc", IMAGE, "sh", "-c", script], { timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.equal((await dk.docker(["wait", id], { timeoutMs: 30_000 })).stdout.trim(), "0");
    const file = join(dk.dir, "data", "containers", id, `${id}-json.log`);
    const entries: LogEntry[] = [];
    for await (const e of readJsonFileLog(file)) entries.push(e);
    /** What berthd would send, as the CLI prints it: each stream's payloads. */
    const ours = async (opts: ReadOptions, fmt = { timestamps: false, details: false }) => {
      const out = { stdout: "", stderr: "" };
      for await (const e of readJsonFileLog(file, opts))
        out[e.stream] += formatEntry(e, { ...fmt, tty: true }).toString("utf8");
      return out;
    };
    const theirs = async (args: string[]) => {
      const r = await dk.docker(["logs", ...args, id], { timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      return { stdout: r.stdout, stderr: r.stderr };
    };
    assert.deepEqual(await ours({}, { timestamps: true, details: true }), await theirs(["--timestamps", "--details"]));
    assert.deepEqual(await ours({ tail: 3 }), await theirs(["--tail", "3"]));
    assert.deepEqual(await ours({ tail: 0 }), await theirs(["--tail", "0"]));
    // since and until with the times of entries (both ends included), given as RFC 3339.
    const at = (i: number) => new Date(Number(entries[i]!.timeNs / 1_000_000n)).toISOString();
    const since = at(3);
    const until = at(6);
    assert.deepEqual(
      await ours({ since: parseLogTime(since, "since"), until: parseLogTime(until, "until") }),
      await theirs(["--since", since, "--until", until]),
    );
  });
});
