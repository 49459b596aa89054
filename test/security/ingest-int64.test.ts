// Hole: the daemon turned a client's int64 fields into JavaScript numbers (floats) and back. A
// Content.Write with total = 2^63-1 was stored as 2^63 (the nearest float), and from then on
// `ctr content active` failed to serialize the ingest's status (2^63 is not an int64), also after
// a restart, since the ingest stays on disk. An image target's size went the same way, breaking
// `ctr images ls` for the namespace.
// Now: int64 fields from clients are checked at the edge (src/containerd/services/int64.ts): sizes,
// offsets and totals must lie in [0, 2^53-1] (9 PiB: every value a number holds exactly) or the
// request is InvalidArgument naming the field, and nothing is stored.
// Attacker: a client writing with total 2^63-1 (and -1), and creating an image whose target size
// is 2^63-1. Host-side checks: the typed refusal, `ctr content active` and `ctr images ls` working,
// before and after a restart of the daemon on the same root.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Content, WriteAction } from "../../src/proto/gen/containerd/services/content/v1/content_pb.js";
import { Images } from "../../src/proto/gen/containerd/services/images/v1/images_pb.js";
import { type Client, createClient } from "../../src/rpc/grpc.ts";
import { type BerthContainerd, CTR, startBerthContainerd } from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync(CTR) ? "ctr not installed" : undefined;

const NS = "victim";
const INT64_MAX = 2n ** 63n - 1n;
const kindOf = (e: unknown) => (e as { kind?: string }).kind;

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

/** One Content.Write stream: the given requests, then the daemon's answers or its error. */
async function write(
  content: Client<typeof Content>,
  reqs: Parameters<ReturnType<Client<typeof Content>["write"]>["send"]>[0][],
): Promise<{ answers: unknown[]; error?: unknown }> {
  const call = content.write();
  const answers: unknown[] = [];
  try {
    for (const r of reqs) await call.send(r);
    await call.end();
    for await (const a of call.responses) answers.push(a);
    return { answers };
  } catch (error) {
    return { answers, error };
  }
}

describe("int64 fields from clients stay exact or are refused", { skip }, () => {
  let d: Daemon;
  let content: Client<typeof Content>;
  let images: Client<typeof Images>;

  before(async () => {
    d = await startBerthContainerd();
    content = createClient(Content, d.address, { namespace: NS });
    images = createClient(Images, d.address, { namespace: NS });
  });

  after(async () => {
    content?.close();
    images?.close();
    await d?.cleanup();
  });

  /** What the issue checks: `ctr content active` and `ctr images ls` answer in the namespace. */
  const listsWork = (when: string) => {
    const active = d.ctr(["content", "active"], { namespace: NS });
    assert.equal(active.status, 0, `content active ${when}: ${active.stderr}`);
    const ls = d.ctr(["images", "ls"], { namespace: NS });
    assert.equal(ls.status, 0, `images ls ${when}: ${ls.stderr}`);
    return { active: active.stdout, images: ls.stdout };
  };

  test("Content.Write with total 2^63-1 or -1 is InvalidArgument naming total; nothing is stored", async () => {
    for (const total of [INT64_MAX, -1n]) {
      const ref = `evil-total-${total}`;
      const r = await write(content, [
        { action: WriteAction.WRITE, ref, total, offset: 0n, data: Buffer.from("hello") },
      ]);
      assert.equal(
        kindOf(r.error),
        "invalid-argument",
        `total ${total}: ${r.error} ${JSON.stringify(r.answers, (_, v) => (typeof v === "bigint" ? String(v) : v))}`,
      );
      assert.match(String(r.error), /total/);
      assert.doesNotMatch(listsWork("after the write").active, new RegExp(ref));
    }
  });

  test("Content.Write at offset 2^63-1, and a COMMIT with total 2^63-1, are refused", async () => {
    const ref = "evil-offset";
    const first = await write(content, [
      { action: WriteAction.WRITE, ref, offset: 0n, data: Buffer.from("hello") },
      { action: WriteAction.WRITE, ref, offset: INT64_MAX, data: Buffer.from("x") },
    ]);
    assert.equal(kindOf(first.error), "invalid-argument", String(first.error));
    assert.match(String(first.error), /offset/);
    const commit = await write(content, [{ action: WriteAction.COMMIT, ref, offset: 5n, total: INT64_MAX }]);
    assert.equal(kindOf(commit.error), "invalid-argument", String(commit.error));
    assert.match(String(commit.error), /total/);
    const { active } = listsWork("after the writes");
    assert.match(active, /^evil-offset\s/m, active);
    await content.abort({ ref });
  });

  test("Images.Create with a target size of 2^63-1 is InvalidArgument naming the size", async () => {
    const err = await images
      .create({
        image: {
          name: "evil/size:1",
          target: {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            digest: `sha256:${"0".repeat(64)}`,
            size: INT64_MAX,
          },
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.equal(kindOf(err), "invalid-argument", String(err));
    assert.match(String(err), /size/);
    assert.doesNotMatch(listsWork("after the create").images, /evil\/size/);
  });

  test("after a restart on the same root, the lists still work, also past an ingest an older daemon rounded", {
    timeout: 60_000,
  }, async () => {
    content.close();
    images.close();
    await d.stop();
    // What the unfixed daemon left on disk: the ingest's total 2^63-1 stored as the float 2^63.
    const ref = `${NS}/1/legacy`;
    const dir = join(
      d.root,
      "io.containerd.content.v1.content",
      "ingest",
      createHash("sha256").update(ref).digest("hex"),
    );
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "data"), "hello");
    writeFileSync(
      join(dir, "meta.json"),
      `{"ref":"${ref}","total":9223372036854775808,"expected":"","startedAt":"${new Date().toISOString()}"}`,
    );
    await d.start();
    content = createClient(Content, d.address, { namespace: NS });
    images = createClient(Images, d.address, { namespace: NS });
    assert.match(listsWork("after a restart").active, /^legacy\s/m);
    await content.abort({ ref: "legacy" });
  });
});
