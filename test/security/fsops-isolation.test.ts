// Hole: one image could break layer unpacks in every namespace. All unpacks of the daemon share
// one fsops helper (native/fsops.c): requests are pipelined and answered in order. A request over
// the helper's 1 MiB frame limit (a 2 MB xattr value in a layer's PAX header) made it exit, and
// every pending call of every unpack failed with it ("fsops helper exited (status 2) with calls
// pending"). Now an oversize request is refused by the TypeScript side before anything is sent
// (InvalidArgumentError naming the size), and a helper that dies all the same (a kill, a crash)
// fails only the call it was on: the calls queued behind it go to a fresh helper.
// Host-side check: the good unpack's files carry their xattrs; the hostile call changed nothing.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { test } from "node:test";
import { Fsops, fsopsBinary } from "../../src/common/archive/fsops.ts";
import { applyLayer } from "../../src/containerd/archive/apply.ts";
import { gzipLayer } from "../fixtures/layer-tar.ts";
import { BLOCK, pad, paxRecord, rawHeader } from "../fixtures/raw-tar.ts";

const MiB = 1 << 20;
const S_IFIFO = 0o010000;

async function scene(t: import("node:test").TestContext): Promise<{ base: string; fsops: Fsops }> {
  const base = await mkdtemp(`${tmpdir()}/berth-sec-fsops-iso-`);
  const fsops = new Fsops(fsopsBinary());
  t.after(async () => {
    await fsops.close();
    await rm(base, { recursive: true, force: true });
  });
  return { base, fsops };
}

/** A good unpack's worth of helper calls: fifos and xattrs, all in flight at once. */
function goodUnpack(fsops: Fsops, dir: string, from: number, to: number): Promise<void>[] {
  const calls: Promise<void>[] = [];
  for (let i = from; i < to; i++) {
    calls.push(fsops.mknod(`${dir}/fifo${i}`, S_IFIFO | 0o640));
    calls.push(fsops.lsetxattr(`${dir}/file${i}`, "user.k", Buffer.from(`v${i}`)));
  }
  return calls;
}

test("a 2 MiB xattr from one unpack fails only that call; the other unpack's calls all succeed", async (t) => {
  const { base, fsops } = await scene(t);
  const good = `${base}/good`;
  const bad = `${base}/bad`;
  await Promise.all([mkdir(good), mkdir(bad)]);
  for (let i = 0; i < 100; i++) await writeFile(`${good}/file${i}`, "");
  await writeFile(`${bad}/f`, "");
  assert.deepEqual(await fsops.llistxattr(`${bad}/f`), []);
  const pid = fsops.pid;

  const first = goodUnpack(fsops, good, 0, 50);
  const hostile = fsops.lsetxattr(`${bad}/f`, "user.big", Buffer.alloc(2 * MiB, 0x41));
  hostile.catch(() => {}); // checked below, after the good calls settle
  const second = goodUnpack(fsops, good, 50, 100);

  const results = await Promise.allSettled([...first, ...second]);
  const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
  assert.equal(failed.length, 0, `${failed.length} of ${results.length} good calls failed: ${failed[0]?.reason}`);
  await assert.rejects(
    hostile,
    (e: Error & { kind?: string }) => e.kind === "invalid-argument" && /2097152 bytes/.test(e.message),
  );
  for (let i = 0; i < 100; i++) {
    assert.ok((await lstat(`${good}/fifo${i}`)).isFIFO(), `fifo${i}`);
    assert.equal((await fsops.lgetxattr(`${good}/file${i}`, "user.k"))?.toString(), `v${i}`, `file${i}`);
  }
  assert.deepEqual(await fsops.llistxattr(`${bad}/f`), [], "the hostile value was never set");
  assert.equal(fsops.pid, pid, "the helper never saw the hostile request (it was not restarted)");
});

test("a helper killed with calls queued: at most the call it was on fails; the rest run on a new one", async (t) => {
  const { base, fsops } = await scene(t);
  await writeFile(`${base}/f`, "");
  await fsops.lsetxattr(`${base}/f`, "user.k", Buffer.from("v"));
  const pid = fsops.pid!;
  // Stopped first, so the calls are still queued when it dies: a fast helper answered all 400
  // before the SIGKILL landed (seen once on a fresh machine), and nothing was tested.
  process.kill(pid, "SIGSTOP");
  const calls = Array.from({ length: 400 }, () => fsops.lgetxattr(`${base}/f`, "user.k"));
  process.kill(pid, "SIGKILL");
  const results = await Promise.allSettled(calls);
  const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
  assert.ok(failed.length <= 1, `${failed.length} of ${results.length} queued calls failed: ${failed[0]?.reason}`);
  for (const r of results) if (r.status === "fulfilled") assert.equal(r.value?.toString(), "v");
  assert.notEqual(fsops.pid, pid, "a new helper answered the queued calls");
  assert.equal((await fsops.lgetxattr(`${base}/f`, "user.k"))?.toString(), "v");
});

test("a helper ending on a malformed request first answers every request before it", async (t) => {
  const { base } = await scene(t);
  const u32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer);
  const frame = (op: number, args: Buffer[]) => {
    const body = Buffer.concat([Buffer.from([op]), ...args.flatMap((a) => [u32(a.length), a])]);
    return Buffer.concat([u32(body.length), body]);
  };
  const good = Array.from({ length: 5 }, (_, i) =>
    frame(1, [Buffer.from(`${base}/p${i}`), u32(S_IFIFO | 0o600), u32(0), u32(0)]),
  );
  // All in one write: the helper reads them as one batch, the over-long one last.
  const input = Buffer.concat([...good, u32(2 * MiB), Buffer.from([2])]);
  const child = spawn(fsopsBinary(), [], { stdio: ["pipe", "pipe", "inherit"] });
  const out: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stdin.end(input);
  const status = await new Promise<number | null>((res) => child.on("close", (code) => res(code)));
  assert.equal(status, 2);
  const replies = Buffer.concat(out);
  assert.equal(replies.length, 5 * 8, "five replies (errno 0, no data) before the exit");
  for (let i = 0; i < 5; i++) assert.equal(replies.readInt32LE(i * 8 + 4), 0);
});

/** A PAX header ('x') holding one SCHILY.xattr record of `size` bytes, then a file entry. */
function paxXattrLayer(name: string, size: number): Buffer {
  const record = paxRecord("SCHILY.xattr.user.big", Buffer.alloc(size, 0x42));
  return Buffer.concat([
    rawHeader({ name: "PaxHeaders/x", typeflag: "x", size: record.length }),
    record,
    pad(record.length),
    rawHeader({ name }),
    Buffer.alloc(2 * BLOCK),
  ]);
}

test("two layers unpacked at once over one helper: the hostile one fails, the good one is whole", async (t) => {
  const { base, fsops } = await scene(t);
  const good = `${base}/good`;
  const bad = `${base}/bad`;
  await Promise.all([mkdir(good), mkdir(bad)]);
  const entries = Array.from({ length: 300 }, (_, i) => ({ name: `d/f${i}`, body: `${i}` }));
  const { blob } = await gzipLayer(entries);
  const [goodResult, badResult] = await Promise.allSettled([
    applyLayer(Readable.from([blob]), good, { whiteouts: "plain", fsops }),
    applyLayer(Readable.from([paxXattrLayer("evil", 2 * MiB)]), bad, { whiteouts: "plain", fsops }),
  ]);
  assert.equal(goodResult.status, "fulfilled", String((goodResult as PromiseRejectedResult).reason));
  assert.equal((await readdir(`${good}/d`)).length, 300);
  assert.equal(badResult.status, "rejected");
  assert.deepEqual(await readdir(bad), [], "nothing of the hostile layer was made");
});
