// Listing ingests while they are committed (issue 11, item 10). ctr shows a pull's progress by
// calling Content.ListStatuses over and over while the pull commits its blobs; an ingest that was
// listed from the directory and then removed by its commit made the whole listing fail with
// "ingest … not found" (ctr: "active check failed", in about one pull in seven). An ingest that
// vanishes while it is listed is simply no longer active: it is skipped.
// Fault: several writers commit small blobs in a loop while a second client lists statuses in a
// loop; every listing must succeed.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Content, WriteAction } from "../../src/proto/gen/containerd/services/content/v1/content_pb.js";
import { type Client, createClient } from "../../src/rpc/grpc.ts";
import { type BerthContainerd, CTR, startBerthContainerd } from "../helpers/berth-containerd.ts";
import { faultIterations } from "../helpers/fault-loop.ts";

const skip = process.getuid?.() !== 0 ? "fault tests run as root" : !existsSync(CTR) ? "ctr not installed" : undefined;
const NS = "faults";
const WRITERS = 4;

/** One blob written and committed in one Content.Write stream, as ctr's fetch does. */
async function writeBlob(content: Client<typeof Content>, ref: string, data: Buffer): Promise<void> {
  const expected = `sha256:${createHash("sha256").update(data).digest("hex")}`;
  const call = content.write();
  await call.send({ action: WriteAction.WRITE, ref, total: BigInt(data.length), expected, offset: 0n, data });
  await call.send({
    action: WriteAction.COMMIT,
    ref,
    total: BigInt(data.length),
    expected,
    offset: BigInt(data.length),
  });
  await call.end();
  for await (const _ of call.responses);
}

describe("listing ingests while they are committed", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let writers: Client<typeof Content>;
  let lister: Client<typeof Content>;
  before(async () => {
    d = await startBerthContainerd();
    writers = createClient(Content, d.address, { namespace: NS });
    lister = createClient(Content, d.address, { namespace: NS });
  });
  after(async () => {
    writers?.close();
    lister?.close();
    await d?.cleanup();
  });

  test("every ListStatuses answers while commits remove ingests", { timeout: 120_000 }, async (t) => {
    const n = faultIterations(400);
    let written = 0;
    let listings = 0;
    let seen = 0;
    const errors: string[] = [];
    let writing = true;
    const listing = (async () => {
      while (writing) {
        try {
          const r = await lister.listStatuses({});
          seen += r.statuses.length;
        } catch (e) {
          errors.push((e as Error).message);
        }
        listings++;
      }
    })();
    try {
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let i = w; i < n; i += WRITERS) {
            await writeBlob(writers, `race-${i}`, randomBytes(4096 + i));
            written++;
          }
        }),
      );
    } finally {
      writing = false;
      await listing;
    }
    t.diagnostic(
      `${written} blobs committed by ${WRITERS} writers, ${listings} listings (${seen} active ingests seen), ${errors.length} failed`,
    );
    assert.equal(written, n);
    assert.ok(seen > 0, "the listings saw ingests in progress (else nothing raced)");
    assert.deepEqual(errors.slice(0, 5), [], `${errors.length} of ${listings} listings failed`);
    const active = d.ctr(["content", "active"], { namespace: NS });
    assert.equal(active.status, 0, active.stderr);
    assert.equal(active.stdout.trim().split("\n").length, 1, `no ingest is left: ${active.stdout}`);
  });
});
