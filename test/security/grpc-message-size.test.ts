// Hole: berth-containerd took gRPC messages of up to 64 MiB each way, four times containerd's
// 16 MiB, and its own client library sent and read as much. An image created with 42 MB of labels
// (each one within the 4096-byte key+value bound) was stored, and from then on every `ctr images ls`
// in that namespace failed: ctr, as containerd's clients, reads at most 16 MiB.
// Now: the daemon's server and berth's client channels use containerd's limits, 16 MiB to receive
// and to send; a bigger request is refused with RESOURCE_EXHAUSTED before any handler sees it, so
// nothing is stored. A label pair over 4096 bytes is still InvalidArgument on every record that
// carries labels.
// Attacker: a client whose own channel sends without limit (grpc-js, max_send -1), creating an
// image with 20 MiB of labels. Host-side checks: the status code, that no image was stored and that
// `ctr images ls` keeps working; label pairs of 4097 bytes refused on images, namespaces, content
// and containers, one of 4096 bytes accepted.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { CreateImageRequestSchema } from "../../src/proto/gen/containerd/services/images/v1/images_pb.js";
import { MAX_MESSAGE_SIZE } from "../../src/rpc/grpc.ts";
import { type BerthContainerd, BUSYBOX_IMAGE, CTR, startWithBusybox } from "../helpers/berth-containerd.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync(CTR) ? "ctr not installed" : undefined;

const MiB = 1 << 20;
const NS = "victim";
/** containerd's bound on one label: key and value together, in bytes. */
const LABEL_MAX = 4096;

type Daemon = BerthContainerd & { cleanup(): Promise<void> };

/** An Images.Create request carrying about `bytes` of labels, each pair within LABEL_MAX. */
function bigImageRequest(name: string, bytes: number): Buffer {
  const labels: Record<string, string> = {};
  const value = "v".repeat(LABEL_MAX - 16);
  for (let i = 0; i * LABEL_MAX < bytes; i++) labels[`k${String(i).padStart(8, "0")}`] = value;
  const req = create(CreateImageRequestSchema, {
    image: {
      name,
      labels,
      target: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: `sha256:${"0".repeat(64)}`,
        size: 1n,
      },
    },
  });
  return Buffer.from(toBinary(CreateImageRequestSchema, req));
}

/** A unary call on a channel with no limits of its own, so only the daemon's limits apply. */
function rawCall(address: string, path: string, body: Buffer): Promise<grpc.ServiceError | undefined> {
  const client = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": -1,
    "grpc.max_receive_message_length": -1,
  });
  const md = new grpc.Metadata();
  md.set("containerd-namespace", NS);
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      md,
      { deadline: Date.now() + 120_000 },
      (err) => {
        client.close();
        resolve(err ?? undefined);
      },
    );
  });
}

describe("gRPC messages are bounded at containerd's 16 MiB", { skip }, () => {
  let d: Daemon;

  before(async () => {
    d = await startWithBusybox([], NS);
  });

  after(async () => {
    await d?.cleanup();
  });

  test("the limit is containerd's", () => {
    assert.equal(MAX_MESSAGE_SIZE, 16 * MiB);
  });

  test("a 20 MiB Images.Create is RESOURCE_EXHAUSTED and stores nothing", { timeout: 180_000 }, async () => {
    const body = bigImageRequest("big/labels:1", 20 * MiB);
    assert.ok(body.length > 20 * MiB);
    const err = await rawCall(d.address, "/containerd.services.images.v1.Images/Create", body);
    assert.ok(err, "the daemon refused the request");
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED, `${err.code}: ${err.details}`);
    const ls = d.ctr(["images", "ls", "-q"], { namespace: NS });
    assert.equal(ls.status, 0, `images ls keeps working: ${ls.stderr}`);
    assert.equal(ls.stdout.trim(), BUSYBOX_IMAGE, "nothing else was stored");
  });

  test("a request under the limit still passes", { timeout: 120_000 }, async () => {
    const err = await rawCall(
      d.address,
      "/containerd.services.images.v1.Images/Create",
      bigImageRequest("big/labels:2", 4 * MiB),
    );
    assert.equal(err, undefined, err?.details);
    const ls = d.ctr(["images", "ls", "-q"], { namespace: NS });
    assert.equal(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /^big\/labels:2$/m);
    assert.equal(d.ctr(["images", "rm", "big/labels:2"], { namespace: NS }).status, 0);
  });

  test("a label pair over 4096 bytes is InvalidArgument on every kind of record", () => {
    const over = `big=${"x".repeat(LABEL_MAX - 3 + 1)}`;
    const fits = `big=${"x".repeat(LABEL_MAX - 3)}`;
    const digest = /sha256:[0-9a-f]{64}/.exec(d.ctr(["images", "ls"], { namespace: NS }).stdout)![0];
    const cases: [string, string[]][] = [
      ["images", ["images", "label", BUSYBOX_IMAGE]],
      ["namespaces", ["namespaces", "label", NS]],
      ["content", ["content", "label", digest]],
    ];
    for (const [what, args] of cases) {
      const bad = d.ctr([...args, over], { namespace: NS });
      assert.notEqual(bad.status, 0, `${what}: a 4097-byte label is refused`);
      assert.match(bad.stderr, /label key and value length \(4097 bytes\) greater than maximum size/, bad.stderr);
      assert.match(bad.stderr, /invalid argument|InvalidArgument/i, bad.stderr);
      const good = d.ctr([...args, fits], { namespace: NS });
      assert.equal(good.status, 0, `${what}: a 4096-byte label is accepted: ${good.stderr}`);
    }
    const c = d.ctr(["containers", "create", "--label", over, BUSYBOX_IMAGE, "c1"], { namespace: NS });
    assert.notEqual(c.status, 0, "containers: a 4097-byte label is refused");
    assert.match(c.stderr, /greater than maximum size/, c.stderr);
  });
});
