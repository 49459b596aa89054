// berthd's first routes beside Debian's dockerd 20.10 (API 1.41) on the same machine: the headers
// of /_ping, the fields of /version and /info, and the error answers (unknown path, unknown
// version) must be dockerd's, field for field (berthd may say more: it speaks API 1.50).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { HttpAnswer } from "../helpers/berthd.ts";
import { type EnginePair, pairSkip, startEnginePair } from "../helpers/engine-pair.ts";

/**
 * Header names that differ by nature (time, size, who answers), and node's spelled-out
 * keep-alive (Go leaves HTTP/1.1's default unsaid; both keep the connection).
 */
const VOLATILE_HEADERS = new Set(["date", "content-length", "server", "connection", "keep-alive"]);
const headerNames = (a: HttpAnswer) =>
  Object.keys(a.headers)
    .filter((h) => !VOLATILE_HEADERS.has(h))
    .sort();
const missing = (reference: string[], ours: string[]) => reference.filter((k) => !ours.includes(k));

/**
 * /info fields dockerd 20.10 has and berthd leaves out, each for a reason: cgroup v1 kernel
 * memory accounting that dockerd 23+ no longer reports, bridge netfilter (no bridge network yet:
 * networking is its own issue), Go's goroutine count is answered 0 but kept, and libtrust-era
 * fields that dockerd 28 dropped.
 */
const INFO_LEFT_OUT = new Set(["KernelMemory", "KernelMemoryTCP", "BridgeNfIptables", "BridgeNfIp6tables"]);

describe("berthd's API beside dockerd's", { skip: pairSkip() }, () => {
  let pair: EnginePair;
  before(async () => {
    pair = await startEnginePair();
  });
  after(async () => {
    await pair?.cleanup();
  });

  const both = async (method: string, path: string) => ({
    ref: await pair.ref.http(method, path),
    ours: await pair.ours.http(method, path),
  });

  test("/_ping (GET and HEAD): dockerd's headers, and the same body", async () => {
    for (const method of ["GET", "HEAD"]) {
      const { ref, ours } = await both(method, "/_ping");
      assert.equal(ours.status, ref.status);
      assert.equal(ours.body, ref.body);
      assert.deepEqual(missing(headerNames(ref), headerNames(ours)), [], method);
      for (const h of ["cache-control", "pragma", "content-type", "ostype", "docker-experimental"]) {
        assert.equal(ours.headers[h], ref.headers[h], `${method} ${h}`);
      }
    }
  });

  test("/version: every field dockerd has, in the same places", async () => {
    const { ref, ours } = await both("GET", "/version");
    assert.equal(ours.status, 200);
    assert.deepEqual(missing(headerNames(ref), headerNames(ours)), []);
    const r = JSON.parse(ref.body);
    const o = JSON.parse(ours.body);
    assert.deepEqual(missing(Object.keys(r), Object.keys(o)), []);
    assert.deepEqual(missing(Object.keys(r.Components[0]), Object.keys(o.Components[0])), []);
    assert.deepEqual(missing(Object.keys(r.Components[0].Details), Object.keys(o.Components[0].Details)), []);
    assert.equal(o.Components[0].Name, r.Components[0].Name);
    for (const k of ["Os", "Arch", "KernelVersion"]) assert.equal(o[k], r[k], k);
  });

  test("/info: dockerd's fields (but the few named and why), with the same host facts", async () => {
    const { ref, ours } = await both("GET", "/info");
    const r = JSON.parse(ref.body);
    const o = JSON.parse(ours.body);
    assert.deepEqual(
      missing(Object.keys(r), Object.keys(o)).filter((k) => !INFO_LEFT_OUT.has(k)),
      [],
    );
    for (const k of [
      "OSType",
      "Architecture",
      "NCPU",
      "MemTotal",
      "KernelVersion",
      "OperatingSystem",
      "CgroupDriver",
      "CgroupVersion",
      "Name",
    ]) {
      assert.equal(o[k], r[k], k);
    }
  });

  test("errors: an unknown path and an unknown version are answered as dockerd answers them", async () => {
    for (const path of ["/nope", "/v1.41/nope", "/v1.41x/version"]) {
      const { ref, ours } = await both("GET", path);
      assert.equal(ours.status, ref.status, path);
      assert.equal(ours.body, ref.body, path);
      assert.deepEqual(headerNames(ours), headerNames(ref), path);
    }
    const { ref, ours } = await both("GET", "/v1.99/version");
    assert.equal(ours.status, ref.status);
    assert.equal(ours.headers["content-type"], ref.headers["content-type"]);
    // The same words; only the maximum differs (dockerd 20.10 serves up to 1.41).
    assert.equal(ours.body, ref.body.replace("1.41", "1.50"));
    // A method a path is not served with: dockerd answers 404, not 405.
    const post = await both("POST", "/_ping");
    assert.equal(post.ours.status, post.ref.status);
    assert.equal(post.ours.body, post.ref.body);
  });
});
