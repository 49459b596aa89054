// Hole: a small layer could take the daemon's memory without bound. The tar reader accepted PAX
// extended headers of up to 16 MiB each and merged consecutive ones, so every distinct key of
// every header stayed in memory until the next file entry: a 513 KiB gzip layer took the daemon
// to 815 MiB. Go's archive/tar (what containerd reads layers with) caps a PAX or GNU long-name
// record at 1 MiB and lets a later 'x' header replace an earlier one; names longer than PATH_MAX
// or with a component longer than NAME_MAX cannot exist on Linux and are refused up front.
// Host-side check: the peak RSS of a process applying the layer (VmHWM, measured in a child so
// nothing else in the test runner counts) against that of streaming as many bytes of plain file
// data (GC lag makes any stream of 200 MiB raise the peak by tens of MiB), the error, and an empty
// target.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createReadStream, createWriteStream, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { createGzip } from "node:zlib";
import { BLOCK, pad, rawHeader } from "../fixtures/raw-tar.ts";

const MiB = 1 << 20;

// ---- the child: applies one layer file and reports what it cost ----

function vmHwmBytes(): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(m?.[1]) * 1024;
}

if (process.env.BERTH_PAX_CHILD) {
  const [layer, target] = JSON.parse(process.env.BERTH_PAX_CHILD) as [string, string];
  const { applyLayer } = await import("../../src/containerd/archive/apply.ts");
  const { sharedFsops } = await import("../../src/common/archive/fsops.ts");
  const before = vmHwmBytes();
  const started = performance.now();
  let error: { kind?: string; message: string } | null = null;
  try {
    await applyLayer(createReadStream(layer), target, { whiteouts: "overlay" });
  } catch (err) {
    // Clipped: before the fix, errors quoted megabyte-long names.
    error = { kind: (err as { kind?: string }).kind, message: String((err as Error).message).slice(0, 4096) };
  }
  const result = { error, growth: vmHwmBytes() - before, ms: performance.now() - started };
  await sharedFsops().close();
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
}

// ---- building hostile layers, streamed to a gzip file (the test itself stays small) ----

function header(name: string, typeflag: string, size: number): Buffer {
  return rawHeader({ name, typeflag, size });
}

/** One PAX record "<len> <key>=<value>\n" whose value is `n` bytes of `fill`. */
function paxRecord(key: string, n: number, fill = "a"): Buffer[] {
  const body = ` ${key}=`.length + n + 1;
  let len = body + String(body).length;
  while (String(len).length + body !== len) len = String(len).length + body;
  return [Buffer.from(`${len} ${key}=`), Buffer.alloc(n, fill), Buffer.from("\n")];
}

async function gzipFile(path: string, write: (put: (b: Buffer) => Promise<void>) => Promise<void>) {
  const gz = createGzip({ level: 9 });
  const out = createWriteStream(path);
  gz.pipe(out);
  const put = async (b: Buffer) => {
    if (!gz.write(b)) await once(gz, "drain");
  };
  await write(put);
  gz.end();
  await once(out, "close");
}

/** An extended header (typeflag 'x', 'g', 'L' or 'K') holding `parts`. */
async function extended(put: (b: Buffer) => Promise<void>, typeflag: string, parts: Buffer[]) {
  const size = parts.reduce((n, p) => n + p.length, 0);
  await put(header(`PaxHeaders/${typeflag}`, typeflag, size));
  for (const p of parts) await put(p);
  await put(pad(size));
}

async function fileEntry(put: (b: Buffer) => Promise<void>, name: string, data = "x") {
  await put(header(name, "0", data.length));
  await put(Buffer.from(data));
  await put(pad(data.length));
}

interface Outcome {
  error: { kind?: string; message: string } | null;
  growth: number;
  ms: number;
}

async function applyInChild(t: import("node:test").TestContext, build: Parameters<typeof gzipFile>[1]) {
  const base = await mkdtemp(`${tmpdir()}/berth-sec-pax-`);
  t.after(() => rm(base, { recursive: true, force: true }));
  const layer = `${base}/layer.tar.gz`;
  const target = `${base}/target`;
  await mkdir(target);
  await gzipFile(layer, async (put) => {
    await build(put);
    await put(Buffer.alloc(2 * BLOCK));
  });
  const compressed = (await readFile(layer)).length;
  const r = spawnSync(process.execPath, [import.meta.filename], {
    env: { ...process.env, BERTH_PAX_CHILD: JSON.stringify([layer, target]) },
    encoding: "utf8",
    maxBuffer: 16 * MiB,
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as Outcome;
  return { ...out, compressed, entries: await readdir(target), target };
}

// Before the fix the process grew by 270 MiB on 200 headers (and more with more headers); now
// they cost what streaming the same bytes as file data costs, within a margin.
const MARGIN = 32 * MiB;
const HEADERS = 200;
let control: Promise<number> | undefined;

/** Peak RSS growth of applying one plain file as large as HEADERS records of 1 MiB. */
function controlGrowth(t: import("node:test").TestContext): Promise<number> {
  control ??= applyInChild(t, async (put) => {
    const size = HEADERS * MiB;
    await put(header("big", "0", size));
    const piece = Buffer.alloc(MiB, "a");
    for (let i = 0; i < HEADERS; i++) await put(piece);
  }).then((r) => {
    assert.equal(r.error, null, JSON.stringify(r.error));
    return r.growth;
  });
  return control;
}

async function assertBounded(t: import("node:test").TestContext, growth: number): Promise<void> {
  const base = await controlGrowth(t);
  const mib = (n: number) => `${(n / MiB).toFixed(0)} MiB`;
  assert.ok(growth < base + MARGIN, `peak RSS grew by ${mib(growth)}; plain file data of that size: ${mib(base)}`);
}

test("many consecutive PAX headers: bounded memory; the last one alone describes the entry", async (t) => {
  const r = await applyInChild(t, async (put) => {
    // The first header says path=evil; 199 more, each with another near-1 MiB key, say nothing of
    // the path. As in Go's reader, only the last 'x' header applies: the entry is "good".
    await extended(put, "x", [...paxRecord("path", 4, "e").slice(0, 1), Buffer.from("evil\n")]);
    for (let i = 0; i < HEADERS; i++) await extended(put, "x", paxRecord(`filler.${i}`, MiB - 64));
    await fileEntry(put, "good");
  });
  assert.ok(r.compressed < 1 * MiB, `layer is ${r.compressed} bytes`);
  assert.equal(r.error, null, JSON.stringify(r.error));
  await assertBounded(t, r.growth);
  assert.deepEqual(r.entries, ["good"]);
});

test("a PAX header larger than 1 MiB is refused at once, naming the limit; nothing is written", async (t) => {
  const r = await applyInChild(t, async (put) => {
    for (let i = 0; i < 10; i++) await extended(put, "x", paxRecord(`big.${i}`, 15 * MiB));
    await fileEntry(put, "f");
  });
  assert.ok(r.compressed < 1 * MiB, `layer is ${r.compressed} bytes`);
  assert.equal(r.error?.kind, "invalid-argument", JSON.stringify(r.error));
  assert.match(r.error!.message, /extended header .*15728\d\d\d bytes.*1048576/);
  assert.ok(r.growth < 16 * MiB, `peak RSS grew by ${(r.growth / MiB).toFixed(0)} MiB`);
  assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
  assert.deepEqual(r.entries, []);
});

test("GNU long names and global headers are bounded the same way", async (t) => {
  const longName = await applyInChild(t, async (put) => {
    await extended(put, "L", [Buffer.alloc(2 * MiB, "n")]);
    await fileEntry(put, "f");
  });
  assert.equal(longName.error?.kind, "invalid-argument", JSON.stringify(longName.error));
  assert.match(longName.error!.message, /extended header .*2097152 bytes.*1048576/);
  assert.deepEqual(longName.entries, []);

  const globals = await applyInChild(t, async (put) => {
    for (let i = 0; i < HEADERS; i++) await extended(put, "g", paxRecord(`global.${i}`, MiB - 64));
    await fileEntry(put, "f");
  });
  assert.equal(globals.error, null, JSON.stringify(globals.error));
  await assertBounded(t, globals.growth);
  assert.deepEqual(globals.entries, ["f"]);
});

test("names longer than PATH_MAX or with a component longer than NAME_MAX are refused", async (t) => {
  const cases: [string, (put: (b: Buffer) => Promise<void>) => Promise<void>, RegExp][] = [
    [
      "PAX path of 5000 bytes",
      async (put) => {
        await extended(put, "x", [...paxRecord("path", 5000, "p").slice(0, 1), Buffer.from(`${"d/".repeat(2500)}\n`)]);
        await fileEntry(put, "f");
      },
      /name is 5000 bytes.*PATH_MAX/,
    ],
    [
      "GNU long name with a 300-byte component",
      async (put) => {
        await extended(put, "L", [Buffer.from(`dir/${"c".repeat(300)}\0`)]);
        await fileEntry(put, "f");
      },
      /component of 300 bytes.*NAME_MAX/,
    ],
    [
      "symlink target of 5000 bytes",
      async (put) => {
        await extended(put, "K", [Buffer.from(`${"t".repeat(5000)}\0`)]);
        await put(header("l", "2", 0));
      },
      /link name is 5000 bytes.*PATH_MAX/,
    ],
  ];
  for (const [what, build, message] of cases) {
    const r = await applyInChild(t, build);
    assert.equal(r.error?.kind, "invalid-argument", `${what}: ${JSON.stringify(r.error)}`);
    assert.match(r.error!.message, message, what);
    assert.deepEqual(r.entries, [], what);
  }
});
