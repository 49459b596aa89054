// docker cp, export and diff on berthd beside Debian's dockerd 20.10, the same busybox archive
// loaded into both and the same requests sent to each: the path stats docker cp decides by
// (name, Go FileMode, link target), the names in the tars, what `docker cp` writes on the host,
// `docker diff` after the same script, the names `docker export` writes (dockerd's "-init" layer
// files aside), and the statuses and words of the refusals (missing path, missing file, a file
// as destination, a read-only rootfs, noOverwriteDirNonDir, an escaping name, garbage).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rawTar } from "../fixtures/layer-tar.ts";
import { type Engine, type EnginePair, pairSkip, startEnginePair } from "../helpers/engine-pair.ts";

/** What dockerd's "-init" layer adds to every container (berthd's runtime makes mount points instead). */
const INIT_LAYER = new Set([".dockerenv", "dev/", "dev/console", "dev/pts/", "dev/shm/", "etc/mtab", "proc/", "sys/"]);

/** dockerd's "-init" layer's /etc/mtab (a link to /proc/mounts): berthd's containers have none. */
const notMtab = (n: string) => !/(^|\/)mtab$/.test(n);

const tarNames = (body: Buffer) =>
  spawnSync("tar", ["-t"], { input: body, encoding: "utf8" }).stdout.split("\n").filter(Boolean).filter(notMtab);

describe("docker cp, export and diff: berthd beside dockerd 20.10", { skip: pairSkip() ?? false }, () => {
  let pair: EnginePair;
  let engines: Engine[];
  /** A docker command on one engine that must succeed. */
  const ok = async (e: Engine, args: string[]) => {
    const r = await e.docker(args);
    assert.equal(r.status, 0, `${e.name} docker ${args.join(" ")}: ${r.stderr}`);
    return r;
  };

  before(async () => {
    pair = await startEnginePair();
    engines = pair.engines;
    for (const e of engines) {
      for (const args of [
        ["create", "--name", "cc", "busybox", "true"],
        ["create", "--name", "ro1", "--read-only", "busybox", "true"],
        [
          "run",
          "-d",
          "--name",
          "rr",
          "busybox",
          "sh",
          "-c",
          "ln -s /etc/shadow /x; ln -s / /rootlink; touch /a; mkdir /newdir; rm /etc/group; touch /ready; exec sleep 1000",
        ],
      ])
        await ok(e, args);
    }
    for (const e of engines) {
      for (let i = 0; i < 100; i++) {
        if ((await e.http("HEAD", "/v1.41/containers/rr/archive?path=/ready")).status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  after(async () => {
    await pair?.cleanup();
  });

  /** The same request on both daemons. */
  const both = async (method: string, path: string, body?: Buffer) => {
    const [ref, ours] = await Promise.all(
      engines.map((e) => e.http(method, `/v1.41${path}`, body, { "Content-Type": "application/x-tar" })),
    );
    return { ref: ref!, ours: ours! };
  };
  const stat = (h: Record<string, unknown>) => {
    const v = h["x-docker-container-path-stat"];
    if (v === undefined) return undefined;
    const s = JSON.parse(Buffer.from(String(v), "base64").toString()) as Record<string, unknown>;
    return { name: s.name, mode: s.mode, linkTarget: s.linkTarget };
  };

  test("HEAD: the stats docker cp decides by, and the refusals", async () => {
    for (const [c, p] of [
      ["cc", "/etc"],
      ["cc", "/etc/."],
      ["cc", "/"],
      ["cc", "/bin/sh"],
      ["cc", "/etc/passwd"],
      ["cc", "/etc/passwd/"],
      ["cc", "/nope"],
      ["rr", "/x"],
      ["rr", "/rootlink"],
      ["rr", "/rootlink/"],
    ]) {
      const r = await both("HEAD", `/containers/${c}/archive?path=${encodeURIComponent(p!)}`);
      assert.equal(r.ours.status, r.ref.status, `${c}:${p}`);
      assert.deepEqual(stat(r.ours.headers), stat(r.ref.headers), `${c}:${p}`);
    }
    const none = await both("HEAD", "/containers/cc/archive");
    assert.equal(none.ours.status, none.ref.status);
  });

  test("GET: the names in the tar, the refusals' words", async () => {
    for (const p of ["/etc", "/etc/.", "/etc/passwd", "/bin/sh", "etc"]) {
      const [ref, ours] = await Promise.all(
        engines.map((e) => e.httpBytes("GET", `/v1.41/containers/cc/archive?path=${encodeURIComponent(p)}`)),
      );
      assert.equal(ours!.status, ref!.status, p);
      assert.deepEqual(tarNames(ours!.bytes), tarNames(ref!.bytes), p);
    }
    for (const path of [
      "/containers/cc/archive?path=/nope",
      "/containers/cc/archive",
      "/containers/nosuch/archive?path=/",
    ]) {
      const r = await both("GET", path);
      assert.equal(r.ours.status, r.ref.status, path);
      assert.deepEqual(JSON.parse(r.ours.body), JSON.parse(r.ref.body), path);
    }
  });

  test("docker cp out and in: the same files on the host", async () => {
    const out = (e: Engine) => join(e.dir, "cp-out");
    for (const e of engines) {
      mkdirSync(out(e), { recursive: true });
      for (const args of [
        ["cp", "cc:/etc", join(out(e), "etc")],
        ["cp", "cc:/etc/.", join(out(e), "contents")],
        ["cp", "rr:/x", join(out(e), "x")],
        ["cp", "-L", "rr:/rootlink/etc/passwd", join(out(e), "passwd")],
      ])
        await ok(e, args);
    }
    const [ref, ours] = engines.map(out);
    for (const sub of ["etc", "contents"])
      assert.deepEqual(readdirSync(join(ours!, sub)).sort(), readdirSync(join(ref!, sub)).filter(notMtab).sort());
    assert.equal(readlinkSync(join(ours!, "x")), readlinkSync(join(ref!, "x")));
    assert.equal(readFileSync(join(ours!, "passwd"), "utf8"), readFileSync(join(ref!, "passwd"), "utf8"));
    for (const e of engines) await ok(e, ["cp", join(out(e), "contents"), "cc:/copied"]);
    const [a, b] = await Promise.all(
      engines.map((e) => e.httpBytes("GET", "/v1.41/containers/cc/archive?path=/copied")),
    );
    assert.deepEqual(tarNames(b!.bytes), tarNames(a!.bytes));
  });

  test("PUT refusals: statuses as dockerd's, and its words where it has plain ones", async () => {
    const tar = rawTar([{ entry: { name: "f", type: "file" }, data: Buffer.from("x") }]);
    const cases: [string, Buffer, boolean][] = [
      ["/containers/cc/archive", tar, true],
      ["/containers/cc/archive?path=/nope", tar, true],
      ["/containers/cc/archive?path=/etc/passwd", tar, true],
      ["/containers/ro1/archive?path=/tmp", tar, true],
      ["/containers/nosuch/archive?path=/tmp", tar, true],
      [
        "/containers/cc/archive?path=/&noOverwriteDirNonDir=1",
        rawTar([{ entry: { name: "etc", type: "file" }, data: Buffer.from("x") }]),
        false,
      ],
      [
        "/containers/cc/archive?path=/tmp",
        rawTar([{ entry: { name: "../../../escaped", type: "file" }, data: Buffer.from("x") }]),
        false,
      ],
      ["/containers/cc/archive?path=/tmp", Buffer.from("not a tar ".repeat(100)), false],
      ["/containers/cc/archive?path=/tmp", Buffer.alloc(0), true],
    ];
    for (const [path, body, sameWords] of cases) {
      const r = await both("PUT", path, body);
      assert.equal(r.ours.status, r.ref.status, `${path}: ${r.ours.body} vs ${r.ref.body}`);
      if (sameWords && r.ref.body !== "") assert.deepEqual(JSON.parse(r.ours.body), JSON.parse(r.ref.body), path);
    }
  });

  test("docker diff after the same script, docker export's names", async () => {
    const [ref, ours] = await Promise.all(
      engines.map(async (e) => (await ok(e, ["diff", "rr"])).stdout.split("\n").filter(Boolean).sort()),
    );
    assert.deepEqual(ours, ref);
    const [refNames, ourNames] = await Promise.all(
      engines.map(async (e) => {
        const file = join(e.dir, "cc-export.tar");
        await ok(e, ["export", "-o", file, "cc"]);
        return tarNames(readFileSync(file))
          .filter((n) => !INIT_LAYER.has(n))
          .sort();
      }),
    );
    assert.deepEqual(ourNames, refNames);
  });
});
