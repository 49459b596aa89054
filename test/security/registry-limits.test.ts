// Hole: a registry could take the memory of the daemon (and of any client) without bound. The
// registry client read whole response bodies into memory: manifests (also on the resolve path,
// where a HEAD without Docker-Content-Digest falls back to a GET), error bodies, token answers;
// and a blob was streamed into the content store past its descriptor's size for as long as the
// registry kept sending. A fake registry streaming 3 GiB for a manifest took berth-containerd to
// 6.3 GB and the OOM killer. containerd caps what it resolves at about 4 MiB.
// Now: manifests, indexes and image configs are read up to 4 MiB, error bodies up to 8 KiB (the
// message needs no more), token answers up to 1 MiB; the read stops one byte past the limit and
// the connection is dropped; a descriptor (or a Content-Length) over the limit is refused before
// its body is read; a blob stops one byte past its descriptor's size.
// The same bound holds for the JSON documents of an image archive (index.json, manifest.json and
// the manifests they name), and an image name is at most 255 characters, as docker's.
// Attacker: a registry streaming 64 MiB (made as it is sent, never held) where a small document
// belongs, or more bytes than a blob's descriptor says; an archive with 64 MiB documents; a long
// name. Host-side checks: the typed error, the bytes the registry could hand to its socket (far
// below 64 MiB once the client stops reading), the peak RSS growth (VmHWM, reset before each case)
// of the daemon or of the process importing, and that the daemon still answers afterwards.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pack } from "tar-stream";
import { RemoteContainerd } from "../../src/client/remote.ts";
import { transferPull } from "../../src/client/transfer.ts";
import { parseReference } from "../../src/oci/registry/reference.ts";
import { RegistryClient } from "../../src/oci/registry/registry-client.ts";
import { importImages } from "../../src/oci/transfer/archive.ts";
import type { ContainerdPorts } from "../../src/oci/transfer/ports.ts";
import { pull } from "../../src/oci/transfer/pull.ts";
import { gzipLayer } from "../fixtures/layer-tar.ts";
import { type BerthContainerd, startBerthContainerd } from "../helpers/berth-containerd.ts";
import {
  type FakeRegistry,
  OCI_CONFIG,
  OCI_MANIFEST,
  publishImage,
  startFakeRegistry,
  streamBytes,
} from "../helpers/fake-registry.ts";

const skip = process.getuid?.() !== 0 ? "needs root" : !existsSync("/usr/bin/ctr") ? "ctr not installed" : undefined;

const MiB = 1 << 20;
/** What the attacker streams. */
const HUGE = 64 * MiB;
/** Bytes the registry may hand to the socket before a client that stopped reading is noticed. */
const SENT_BOUND = 32 * MiB;
/**
 * Growth of the daemon's peak RSS a bounded read stays below (one 64 MiB body read whole costs
 * 128+). A daemon just restarted grows by itself at its first calls: 33.5 MiB was seen once on a
 * fresh machine, so the bound is 48 MiB, still under the 64 MiB a whole read would hold.
 */
const RSS_BOUND = 48 * MiB;
const OCI_INDEX = "application/vnd.oci.image.index.v1+json";

const sha = (b: Buffer) => `sha256:${createHash("sha256").update(b).digest("hex")}`;
const kindOf = (e: unknown) => (e as { kind?: string }).kind;

function vmHwm(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1]) * 1024;
}

/** `prefix` then spaces, `total` bytes in 64 KiB pieces: a JSON document too large to hold. */
function* filler(total: number, prefix: Buffer): Generator<Buffer> {
  const spaces = Buffer.alloc(64 * 1024, " ");
  yield prefix;
  for (let left = total - prefix.length; left > 0; left -= spaces.length)
    yield spaces.subarray(0, Math.min(left, spaces.length));
}

// ---- the child: imports one hostile archive and reports what it cost ----

if (process.env.BERTH_IMPORT_CHILD) {
  const kind = process.env.BERTH_IMPORT_CHILD;
  const huge = (): Generator<Buffer> => filler(HUGE, Buffer.from('{"schemaVersion":2,'));
  const small = (o: unknown) => Buffer.from(JSON.stringify(o));
  const entries: { name: string; body: () => Iterable<Buffer>; size: number }[] = [];
  if (kind === "index.json") {
    entries.push({ name: "oci-layout", body: () => [small({ imageLayoutVersion: "1.0.0" })], size: 30 });
    entries.push({ name: "index.json", body: huge, size: HUGE });
  } else if (kind === "manifest.json") {
    entries.push({ name: "manifest.json", body: huge, size: HUGE });
  } else {
    // A well-formed index naming a 64 MiB manifest blob that is what its digest says.
    const h = createHash("sha256");
    for (const b of huge()) h.update(b);
    const digest = `sha256:${h.digest("hex")}`;
    const index = small({ schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest, size: HUGE }] });
    entries.push({ name: "index.json", body: () => [index], size: index.length });
    entries.push({ name: `blobs/sha256/${digest.slice(7)}`, body: huge, size: HUGE });
  }
  for (const e of entries.filter((x) => x.size !== HUGE)) e.size = [...e.body()].reduce((n, b) => n + b.length, 0);
  // What the import needs before it reads a document: a lease; nothing is ever stored.
  const ports = {
    leases: { create: async () => "lease", release: async () => {} },
    withLease: () => ports,
  } as unknown as ContainerdPorts;
  const tar = pack();
  writeFileSync("/proc/self/clear_refs", "5");
  const before = vmHwm(process.pid);
  const result = importImages(ports, Readable.from(tar as unknown as AsyncIterable<Buffer>)).then(
    () => null,
    (e: Error) => ({ kind: kindOf(e), message: String(e.message).slice(0, 2000) }),
  );
  const fill = async () => {
    for (const e of entries) {
      const entry = tar.entry({ name: e.name, size: e.size });
      for (const b of e.body()) if (!entry.write(b)) await once(entry, "drain");
      await new Promise<void>((r) => entry.end(r));
    }
    tar.finalize();
  };
  // An import that gives up early leaves the rest of the archive unread.
  await Promise.race([fill(), result]);
  const error = await result;
  process.stdout.write(JSON.stringify({ error, growth: vmHwm(process.pid) - before }));
  process.exit(0);
}

/** What one intercepted request streamed, once its response is over. */
type Sent = Promise<number>[];

describe("registry size limits", { skip }, () => {
  let d: BerthContainerd & { cleanup(): Promise<void> };
  let reg: FakeRegistry;
  const clients: RegistryClient[] = [];
  const remotes: RemoteContainerd[] = [];
  before(async () => {
    d = await startBerthContainerd();
    reg = await startFakeRegistry();
  });
  after(async () => {
    for (const r of remotes) r.close();
    for (const c of clients) await c.close();
    await reg?.stop();
    await d?.cleanup();
  });

  const client = (retries = 0) => {
    const c = new RegistryClient({ credentials: () => undefined, retries });
    clients.push(c);
    return c;
  };
  const ports = (ns: string) => {
    const r = new RemoteContainerd(d.address, { namespace: ns });
    remotes.push(r);
    return r.ports();
  };
  /** Routes requests whose path matches to `answer`; the bytes each answer streamed go to `sent`. */
  const route = (path: RegExp, answer: (req: IncomingMessage, res: ServerResponse) => Promise<number> | undefined) => {
    const sent: Sent = [];
    reg.intercept = (req, res) => {
      if (!path.test(new URL(req.url ?? "/", "http://x").pathname)) return false;
      const n = answer(req, res);
      if (n) sent.push(n.catch(() => 0));
      else res.end();
      return true;
    };
    return sent;
  };
  /** The error `p` fails with; undefined when it succeeds (asserted after the other checks). */
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: Error) => e,
    );
  /** `err` is of `kind` and says `re`. */
  const typed = (err: Error | undefined, kind: string, re: RegExp) => {
    assert.ok(err, "refused");
    assert.equal(kindOf(err), kind, err.message);
    assert.match(err.message, re);
  };
  /** Every stream the registry started was cut off well before its end. */
  const stoppedEarly = async (sent: Sent, what: string) => {
    const each = await Promise.all(sent);
    assert.ok(each.length > 0, `${what}: the hostile body was asked for`);
    for (const n of each) assert.ok(n < SENT_BOUND, `${what}: the client read on (${n} bytes sent of ${HUGE})`);
  };
  const readAll = async (s: Readable) => {
    let n = 0;
    for await (const c of s) n += (c as Buffer).length;
    return n;
  };

  /** A 401 with a Bearer challenge for `repo`, and a token service streaming 64 MiB with `status`. */
  const hostileTokens = (repo: string, status: () => number) => {
    const sent: Sent = [];
    reg.intercept = (req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path === "/token") {
        res.writeHead(status(), { "content-type": "application/json" });
        sent.push(streamBytes(res, HUGE, Buffer.from('{"token":"')).catch(() => 0));
        return true;
      }
      if (!path.startsWith(`/v2/${repo}/`)) return false;
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="http://${reg.host}/token",service="fake"`,
        "content-type": "application/json",
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return true;
    };
    return sent;
  };
  const manifestStart = Buffer.from('{"schemaVersion":2,');

  // ---- the client library ----

  test("client resolve: a HEAD without digest falls back to GET; a 64 MiB manifest is cut at 4 MiB", {
    timeout: 120_000,
  }, async () => {
    const sent = route(/^\/v2\/c\/resolve\/manifests\//, (req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST });
      return req.method === "GET" ? streamBytes(res, HUGE, manifestStart) : undefined;
    });
    const err = await failure(client().resolve(parseReference(`${reg.host}/c/resolve:1`)));
    await stoppedEarly(sent, "resolve GET");
    typed(err, "invalid-argument", /manifest .*larger than 4194304 bytes/);
  });

  test("client resolve: a manifest declared larger than 4 MiB is refused before it is fetched", {
    timeout: 60_000,
  }, async () => {
    const digest = `sha256:${"a".repeat(64)}`;
    route(/^\/v2\/c\/declared\/manifests\//, (req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST, "docker-content-digest": digest, "content-length": HUGE });
      return req.method === "GET" ? streamBytes(res, HUGE) : undefined;
    });
    reg.requests.length = 0;
    const err = await failure(client().resolve(parseReference(`${reg.host}/c/declared:1`)));
    typed(err, "invalid-argument", /67108864 bytes.*larger than 4194304 bytes/);
    assert.deepEqual(
      reg.requests.filter((r) => r.startsWith("GET")),
      [],
      "no GET",
    );
  });

  test("client fetchManifest: an oversized descriptor is refused unfetched; extra bytes are cut at size+1", {
    timeout: 120_000,
  }, async () => {
    const rc = client();
    const ref = parseReference(`${reg.host}/c/manifest:1`);
    const sent = route(/^\/v2\/c\/manifest\/manifests\//, (_req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST });
      return streamBytes(res, HUGE, manifestStart);
    });
    const big = { mediaType: OCI_MANIFEST, digest: `sha256:${"b".repeat(64)}`, size: HUGE };
    reg.requests.length = 0;
    const bigErr = await failure(rc.fetchManifest(ref, big));
    assert.deepEqual(reg.requests, [], "nothing was asked for");
    typed(bigErr, "invalid-argument", /manifest sha256:b+ .*larger than 4194304 bytes/);
    const small = { mediaType: OCI_MANIFEST, digest: `sha256:${"c".repeat(64)}`, size: 1000 };
    const err = await failure(rc.fetchManifest(ref, small));
    await stoppedEarly(sent, "manifest GET");
    typed(err, "failed-precondition", /manifest sha256:c+: the registry sent more than its descriptor's 1000 bytes/);
  });

  test("client: a 64 MiB error body is read for its first KiB only (and on every retry)", {
    timeout: 120_000,
  }, async () => {
    let status = 404;
    const sent = route(/^\/v2\/c\/error\/manifests\//, (_req, res) => {
      res.writeHead(status, { "content-type": "application/json" });
      return streamBytes(
        res,
        HUGE,
        Buffer.from(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "go away" }] })),
      );
    });
    const desc = { mediaType: OCI_MANIFEST, digest: `sha256:${"d".repeat(64)}`, size: 10 };
    const ref = parseReference(`${reg.host}/c/error:1`);
    const err = await failure(client().fetchManifest(ref, desc));
    await stoppedEarly(sent, "404 body");
    typed(err, "not-found", /MANIFEST_UNKNOWN: go away/);
    // A 5xx is retried: each answer's body is dropped unread past the limit.
    status = 503;
    sent.length = 0;
    const again = await failure(client(2).fetchManifest(ref, desc));
    assert.equal(sent.length, 3, "one try and two retries");
    await stoppedEarly(sent, "503 bodies");
    typed(again, "unavailable", /503 MANIFEST_UNKNOWN: go away/);
  });

  test("client: a 64 MiB token answer is refused at 1 MiB; a 64 MiB token refusal is clipped", {
    timeout: 120_000,
  }, async () => {
    let status = 200;
    const sent = hostileTokens("c/token", () => status);
    const ref = parseReference(`${reg.host}/c/token:1`);
    const err = await failure(client().resolve(ref));
    await stoppedEarly(sent, "token answer");
    typed(err, "permission-denied", /token service .*larger than 1048576 bytes/);
    status = 403;
    sent.length = 0;
    const refused = await failure(client().resolve(ref));
    await stoppedEarly(sent, "token refusal");
    typed(refused, "permission-denied", /refused \(403\)/);
  });

  test("client fetchBlob: bytes past the descriptor's size end the stream (with or without Content-Length)", {
    timeout: 120_000,
  }, async () => {
    const data = Buffer.alloc(5000, "x");
    const desc = { mediaType: "application/octet-stream", digest: sha(data), size: data.length };
    for (const declared of [true, false]) {
      const sent = route(/^\/v2\/c\/blob\/blobs\//, (_req, res) => {
        res.writeHead(200, declared ? { "content-length": data.length + HUGE } : {});
        return streamBytes(res, data.length + HUGE, data);
      });
      // A declared length over the size is refused at once; otherwise the stream fails.
      const rc = client();
      const err = await failure(rc.fetchBlob("c/blob", desc, { domain: reg.host }).then(readAll));
      await stoppedEarly(sent, `blob (Content-Length ${declared ? "declared" : "absent"})`);
      typed(
        err,
        "failed-precondition",
        /blob sha256:[a-f0-9]+: the registry sent more than its descriptor's 5000 bytes/,
      );
    }
  });

  test("client pull into the daemon: a layer longer than its descriptor is cut off, nothing recorded", {
    timeout: 180_000,
  }, async (t) => {
    const l = await gzipLayer([{ name: "f", body: Buffer.from("hello") }]);
    const img = publishImage(reg, "c/pull", "1", [l]);
    const layer = img.layers[0]!;
    // Only the layer is hostile; the rest of the image comes from the registry's own routes.
    const sent = route(new RegExp(`^/v2/c/pull/blobs/${layer.digest}$`), (_req, res) => {
      res.writeHead(200, {});
      return streamBytes(res, layer.size + HUGE, l.blob);
    });
    const err = await failure(pull(ports("c-pull"), client(), `${reg.host}/c/pull:1`, { snapshotter: "overlayfs" }));
    await stoppedEarly(sent, "layer");
    const held = d.ingestBytes(layer.digest);
    t.diagnostic(`ingest after the cut: ${held ?? "none"} bytes of ${layer.size}`);
    assert.ok(
      held !== undefined && held <= layer.size,
      `the ingest is kept and holds at most the layer (${held} bytes)`,
    );
    typed(err, "failed-precondition", /the registry sent more than its descriptor's \d+ bytes/);
    assert.deepEqual(await ports("c-pull").images.list(), [], "no image");
  });

  // ---- the daemon's transfer service ----

  /**
   * Runs a transfer pull that must fail: the daemon's peak RSS (reset first) stays low, and the
   * daemon still answers. Returns the error for the caller's checks.
   */
  const daemonPull = async (reference: string, ns: string) => {
    // A fresh process, so that memory an earlier case left resident cannot hide this one's peak.
    await d.stop();
    await d.start();
    const pid = d.pid!;
    writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM to the current RSS
    const before = vmHwm(pid);
    const err = await failure(transferPull(d.address, reference, { namespace: ns }));
    const growth = vmHwm(pid) - before;
    assert.ok(growth < RSS_BOUND, `the daemon's peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    const v = await d.ctrAsync(["version"]);
    assert.equal(v.status, 0, `ctr version after the pull: ${v.stderr}`);
    const ls = await d.ctrAsync(["images", "ls", "-q"], { namespace: ns });
    assert.equal(ls.status, 0, ls.stderr);
    assert.equal(ls.stdout.trim(), "", "no image recorded");
    return err;
  };

  test("daemon resolve: a 64 MiB manifest behind a HEAD without digest", { timeout: 180_000 }, async () => {
    const sent = route(/^\/v2\/t\/resolve\/manifests\//, (req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST });
      return req.method === "GET" ? streamBytes(res, HUGE, manifestStart) : undefined;
    });
    const err = await daemonPull(`${reg.host}/t/resolve:1`, "t-resolve");
    await stoppedEarly(sent, "resolve GET");
    typed(err, "invalid-argument", /manifest .*larger than 4194304 bytes/);
  });

  test("daemon: an index's manifest that streams 64 MiB past its descriptor", { timeout: 180_000 }, async () => {
    const child = { mediaType: OCI_MANIFEST, digest: `sha256:${"e".repeat(64)}`, size: 900 };
    const arch = process.arch === "x64" ? "amd64" : process.arch;
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ ...child, platform: { os: "linux", architecture: arch } }],
      }),
    );
    reg.addManifest("t/index", "1", OCI_INDEX, index);
    const sent = route(new RegExp(`^/v2/t/index/manifests/${child.digest}$`), (_req, res) => {
      res.writeHead(200, { "content-type": OCI_MANIFEST });
      return streamBytes(res, HUGE, manifestStart);
    });
    const err = await daemonPull(`${reg.host}/t/index:1`, "t-index");
    await stoppedEarly(sent, "child manifest");
    typed(err, "failed-precondition", /manifest sha256:e+: the registry sent more than its descriptor's 900 bytes/);
  });

  test("daemon: a 64 MiB error body", { timeout: 180_000 }, async () => {
    const digest = `sha256:${"9".repeat(64)}`;
    const sent = route(/^\/v2\/t\/error\/manifests\//, (req, res) => {
      if (req.method === "HEAD") {
        res.writeHead(200, { "content-type": OCI_MANIFEST, "docker-content-digest": digest, "content-length": 19 });
        return undefined;
      }
      res.writeHead(404, { "content-type": "application/json" });
      return streamBytes(res, HUGE, Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"gone"}]}'));
    });
    const err = await daemonPull(`${reg.host}/t/error:1`, "t-error");
    await stoppedEarly(sent, "404 body");
    typed(err, "not-found", /MANIFEST_UNKNOWN: gone/);
  });

  test("daemon: a 64 MiB token answer", { timeout: 180_000 }, async () => {
    const sent = hostileTokens("t/token", () => 200);
    const err = await daemonPull(`${reg.host}/t/token:1`, "t-token");
    await stoppedEarly(sent, "token answer");
    typed(err, "permission-denied", /token service .*larger than 1048576 bytes/);
  });

  test("daemon: a config declared larger than 4 MiB is refused before it is fetched", {
    timeout: 180_000,
  }, async () => {
    reg.intercept = undefined;
    const config = { mediaType: OCI_CONFIG, digest: `sha256:${"f".repeat(64)}`, size: HUGE };
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [] }));
    reg.addManifest("t/config", "1", OCI_MANIFEST, manifest);
    reg.requests.length = 0;
    const err = await daemonPull(`${reg.host}/t/config:1`, "t-config");
    assert.deepEqual(
      reg.requests.filter((r) => r.includes(config.digest)),
      [],
      "the config was not asked for",
    );
    typed(err, "invalid-argument", /image config sha256:f+ .*larger than 4194304 bytes/);
  });

  test("daemon: a layer longer than its descriptor stops at size+1 (with or without Content-Length)", {
    timeout: 240_000,
  }, async (t) => {
    for (const declared of [true, false]) {
      const l = await gzipLayer([{ name: "f", body: Buffer.from(`declared ${declared}`) }]);
      const img = publishImage(reg, "t/layer", String(declared), [l]);
      const layer = img.layers[0]!;
      const sent = route(new RegExp(`^/v2/t/layer/blobs/${layer.digest}$`), (_req, res) => {
        res.writeHead(200, declared ? { "content-length": layer.size + HUGE } : {});
        return streamBytes(res, layer.size + HUGE, l.blob);
      });
      const err = await daemonPull(`${reg.host}/t/layer:${declared}`, `t-layer-${declared}`);
      await stoppedEarly(sent, `layer (Content-Length ${declared ? "declared" : "absent"})`);
      const held = d.ingestBytes(layer.digest);
      t.diagnostic(`ingest after the cut: ${held ?? "none"} bytes of ${layer.size}`);
      assert.ok(
        held !== undefined && held <= layer.size,
        `the ingest is kept and holds at most the layer (${held} bytes)`,
      );
      typed(
        err,
        "failed-precondition",
        new RegExp(`blob ${layer.digest}: the registry sent more than its descriptor's ${layer.size} bytes`),
      );
    }
  });

  test("a name longer than 255 characters is refused before the registry is asked", { timeout: 60_000 }, async () => {
    const long = `${reg.host}/${"n".repeat(300)}:1`;
    assert.throws(
      () => parseReference(long),
      (e: Error) => kindOf(e) === "invalid-argument" && /must not be more than 255 characters/.test(e.message),
    );
    reg.requests.length = 0;
    const err = await daemonPull(long, "t-name");
    assert.deepEqual(reg.requests, [], "the registry was not asked");
    typed(err, "invalid-argument", /must not be more than 255 characters/);
  });
});

// ---- image archives (the importing process's own memory, measured in a child) ----

for (const kind of ["index.json", "manifest.json", "manifest blob"]) {
  test(`import: a 64 MiB ${kind} is refused unread`, { skip, timeout: 180_000 }, () => {
    const r = spawnSync(process.execPath, [import.meta.filename], {
      env: { ...process.env, BERTH_IMPORT_CHILD: kind },
      encoding: "utf8",
      timeout: 170_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const { error, growth } = JSON.parse(r.stdout) as {
      error: { kind?: string; message: string } | null;
      growth: number;
    };
    assert.ok(growth < RSS_BOUND, `the import's peak RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
    assert.ok(error, "refused");
    assert.equal(error.kind, "invalid-argument", error.message);
    assert.match(error.message, /\(67108864 bytes\) is larger than 4194304 bytes/);
  });
}
