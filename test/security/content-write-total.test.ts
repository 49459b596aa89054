// Hole: the daemon's content writer took bytes past the total its ingest declared. A Write stream
// (ctr content ingest, ctr pull, any client of the content service) that said `total` and then sent
// more had every byte written to the ingest, which grew for as long as the client kept sending;
// only the commit noticed (containerd's "unexpected commit size"). The registry client bounds its
// own downloads, but the store is where the disk is spent, so the store must hold the bound.
// Now: the write that would take an ingest past its total is refused whole (FailedPrecondition,
// naming the ingest, the total and the size it would reach), nothing of it reaches the data file,
// and the ingest keeps what came before (resumable). A total of 0 still means "unknown".
// Attacker: a client declaring 1 MiB and sending 8 MiB. Host-side checks: the ingest's data file on
// disk, the typed error, and that the daemon still answers.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LocalContentStore } from "../../src/containerd/content/local-store.ts";
import { type BerthContainerd, CTR, startBerthContainerd } from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync(CTR) ? "ctr not installed" : undefined;
const MiB = 1 << 20;
const kindOf = (e: unknown) => (e as { kind?: string }).kind;

test("the content store refuses the first write past an ingest's total, and keeps what came before", async () => {
  const root = await mkdtemp(join(tmpdir(), "berth-write-total-"));
  try {
    const store = await LocalContentStore.open(root);
    const w = await store.writer("over", { total: 10 });
    await w.write(Buffer.from("123456"));
    await assert.rejects(w.write(Buffer.from("789abc")), (e: Error) => {
      assert.equal(kindOf(e), "failed-precondition", e.message);
      assert.match(e.message, /ingest over: write past total: 12 bytes, expected 10/);
      return true;
    });
    assert.equal(w.offset(), 6, "the refused write counts for nothing");
    await w.write(Buffer.from("7890"));
    await w.close();
    const [dir] = readdirSync(join(root, "ingest"));
    assert.equal((await stat(join(root, "ingest", dir!, "data"))).size, 10, "the data file holds the total");
    // The ingest is resumable and commits at its total.
    const again = await store.writer("over", { total: 10 });
    assert.equal(again.offset(), 10);
    await again.commit(10, "");
    // No total: no bound.
    const free = await store.writer("free");
    await free.write(Buffer.alloc(3 * MiB));
    assert.equal(free.offset(), 3 * MiB);
    await free.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

describe("content Write past total through the daemon", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  before(async () => {
    d = await startBerthContainerd();
  });
  after(async () => {
    await d?.cleanup();
  });

  test("ctr content ingest --expected-size 1MiB fed 8 MiB: refused at 1 MiB", { timeout: 120_000 }, async () => {
    const child = spawn(
      CTR,
      ["--address", d.address, "--namespace", "wt", "content", "ingest", "--expected-size", String(MiB), "over-ref"],
      { stdio: ["pipe", "ignore", "pipe"] },
    );
    const exited = once(child, "exit");
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdin.on("error", () => {}); // ctr stops reading once it is refused
    child.stdin.end(Buffer.alloc(8 * MiB, "x"));
    const [code] = await exited;
    const held = d.ingestBytes("/over-ref");
    assert.ok(held !== undefined && held <= MiB, `the ingest holds ${held} bytes of a declared ${MiB}`);
    assert.notEqual(code, 0, "ctr failed");
    assert.match(stderr, /write past total: \d+ bytes, expected 1048576/);
    const v = await d.ctrAsync(["version"]);
    assert.equal(v.status, 0, v.stderr);
  });
});
