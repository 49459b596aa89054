// berthd's images beside Debian's dockerd 20.10 (API 1.41), the same archive loaded into both:
// the list entry's and inspect's fields (berthd may say more: it speaks API 1.50), the same id,
// tags, config, rootfs and history; and archives cross over: what `docker save` writes on one
// daemon, `docker load` reads on the other, with the same image id.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DOCKER_CLI_20 } from "../helpers/berthd.ts";
import { type EnginePair, pairSkip, startEnginePair } from "../helpers/engine-pair.ts";

const keys = (v: unknown) => Object.keys(v as object).sort();
const missing = (reference: string[], ours: string[]) => reference.filter((k) => !ours.includes(k));

describe("berthd's images beside dockerd's", { skip: pairSkip([DOCKER_CLI_20]) }, () => {
  let pair: EnginePair;
  const theirs = (path: string) => pair.ref.http("GET", path);
  const ours = (path: string) => pair.ours.http("GET", path);
  const json = async (p: Promise<{ status: number; body: string }>) => {
    const r = await p;
    assert.equal(r.status, 200, r.body);
    return JSON.parse(r.body);
  };

  before(async () => {
    // Debian's client on both: the API 1.41 dockerd speaks.
    pair = await startEnginePair(DOCKER_CLI_20);
  });
  after(async () => {
    await pair?.cleanup();
  });

  test("GET /v1.41/images/json: dockerd's fields, the same id, tags and created time", async () => {
    const [ref] = await json(theirs("/v1.41/images/json"));
    const [mine] = await json(ours("/v1.41/images/json"));
    assert.deepEqual(missing(keys(ref), keys(mine)), []);
    for (const k of ["Id", "RepoTags", "Created", "ParentId", "Containers", "SharedSize"])
      assert.deepEqual(mine[k], ref[k], k);
    // Sizes: dockerd counts the unpacked layer, berthd the snapshot's usage: close, not equal.
    assert.ok(Math.abs(mine.Size - ref.Size) / ref.Size < 0.25, `berthd ${mine.Size} vs dockerd ${ref.Size}`);
  });

  test("docker images --format '{{json .}}' (CLI 20.10): the same fields and values but size", async () => {
    const a = await pair.ref.docker(["images", "--format", "{{json .}}"]);
    const b = await pair.ours.docker(["images", "--format", "{{json .}}"]);
    assert.equal(b.status, 0, b.stderr);
    const ref = JSON.parse(a.stdout.trim());
    const mine = JSON.parse(b.stdout.trim());
    assert.deepEqual(keys(mine), keys(ref));
    for (const k of keys(ref).filter((k) => !["Size", "VirtualSize", "UniqueSize", "SharedSize"].includes(k)))
      assert.equal(mine[k], ref[k], k);
  });

  test("GET /v1.41/images/busybox/json: dockerd's fields and values", async () => {
    const ref = await json(theirs("/v1.41/images/busybox/json"));
    const mine = await json(ours("/v1.41/images/busybox/json"));
    assert.deepEqual(missing(keys(ref), keys(mine)), []);
    assert.equal(mine.Id, pair.configDigest);
    for (const k of ["Id", "RepoTags", "Parent", "Comment", "Created", "Author", "Architecture", "Os", "RootFS"])
      assert.deepEqual(mine[k], ref[k], k);
    assert.deepEqual(missing(keys(ref.Config), keys(mine.Config)), []);
    assert.deepEqual(mine.Config, ref.Config);
    assert.deepEqual(keys(mine.Metadata), keys(ref.Metadata));
    assert.deepEqual(keys(mine.GraphDriver), keys(ref.GraphDriver));
  });

  test("GET /v1.41/images/busybox/history: the same entries", async () => {
    const ref = await json(theirs("/v1.41/images/busybox/history"));
    const mine = await json(ours("/v1.41/images/busybox/history"));
    assert.equal(mine.length, ref.length);
    for (const [i, e] of ref.entries()) {
      assert.deepEqual(missing(keys(e), keys(mine[i])), []);
      for (const k of ["Id", "Created", "CreatedBy", "Tags", "Comment"])
        assert.deepEqual(mine[i][k], e[k], `${i} ${k}`);
    }
  });

  test("archives cross over: berthd's save loads into dockerd, dockerd's into berthd, ids kept", async () => {
    const fromBerthd = join(pair.berthd.dir, "from-berthd.tar");
    const fromDockerd = join(pair.berthd.dir, "from-dockerd.tar");
    let r = await pair.ours.docker(["save", "-o", fromBerthd, "busybox"]);
    assert.equal(r.status, 0, r.stderr);
    const s = await pair.ref.docker(["save", "-o", fromDockerd, "busybox"]);
    assert.equal(s.status, 0, s.stderr);
    const rmi = await pair.ref.docker(["rmi", "busybox"]);
    assert.equal(rmi.status, 0, rmi.stderr);
    const l = await pair.ref.docker(["load", "-i", fromBerthd]);
    assert.equal(l.status, 0, l.stderr);
    assert.match(l.stdout, /Loaded image: busybox:latest/);
    assert.equal((await json(theirs("/v1.41/images/busybox/json"))).Id, pair.configDigest);
    r = await pair.ours.docker(["rmi", "busybox"]);
    assert.equal(r.status, 0, r.stderr);
    r = await pair.ours.docker(["load", "-i", fromDockerd]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Loaded image: busybox:latest/);
    assert.equal((await json(ours("/v1.41/images/busybox/json"))).Id, pair.configDigest);
    // And it runs.
    r = await pair.ours.docker(["run", "--rm", "busybox", "echo", "crossed over"]);
    assert.equal(r.stdout, "crossed over\n", r.stderr);
  });
});
