// berthd's images driven by the real docker CLI (dist/berthd.mjs with its own berth-containerd in
// private dirs; CLI 28, or BERTH_DOCKER_CLI=/usr/bin/docker for Debian's 20.10): docker load of
// the busybox fixture archive, images, inspect, tag, rmi (untag, the multiple-repositories
// conflict, -f, in use by a container), history, save | load with the same id, several images in
// one archive, an OCI layout alone, dangling images and prune, import with --change, pull from a
// local registry on loopback (progress on the wire and in the CLI, credentials from the CLI's
// config as X-Registry-Auth, by digest, a lost layer, a missing image in dockerd's words, docker
// run pulling), push, a client gone mid-pull or mid-load, search offline; hostile archives (path
// traversal, symlinked files, a missing file, an oversized manifest.json, a layer unlike its
// diff_id) and hostile requests refused with nothing imported; and berthd on Debian's containerd.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { gzipLayer, rawTar } from "../../fixtures/layer-tar.ts";
import { tarDirectory, writeImageArchive, writeOciLayout, writeRootfsTar } from "../../fixtures/oci-image.ts";
import { type Berthd, newBerthd } from "../../helpers/berthd.ts";
import { publishImage, startFakeRegistry } from "../../helpers/fake-registry.ts";
import { type LocalRegistry, REGISTRY_BINARY, seedImage, startRegistry } from "../../helpers/local-registry.ts";
import { startContainerd } from "../../helpers/peers.ts";

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const IMAGE = "docker.io/library/busybox:latest";
const missingPeers = [REGISTRY_BINARY, "/usr/bin/skopeo", "/usr/bin/htpasswd"].find((b) => !existsSync(b));

describe("docker images against berthd", { skip: isRoot ? false : "berthd runs as root" }, () => {
  let d: Berthd;
  let archive: string;
  let configDigest: string;

  const docker = (args: string[]) => d.docker(args);
  const ok = async (args: string[]) => {
    const r = await docker(args);
    assert.equal(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const listed = async () =>
    (await ok(["images", "--format", "{{json .}}"]))
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string>);
  const tags = async () => (await listed()).map((i) => `${i.Repository}:${i.Tag}`).sort();

  before(async () => {
    d = await newBerthd();
    await d.start();
    archive = join(d.dir, "busybox.tar");
    configDigest = (await writeImageArchive(archive, { name: IMAGE })).configDigest;
  });
  after(async () => {
    await d?.cleanup();
  });

  test("docker load of the fixture archive, then images, info and inspect", async () => {
    const out = await ok(["load", "-i", archive]);
    assert.match(out, /Loaded image: busybox:latest/);
    const images = await listed();
    assert.equal(images.length, 1);
    assert.equal(images[0]!.Repository, "busybox");
    assert.equal(images[0]!.Tag, "latest");
    assert.equal(images[0]!.ID, configDigest.slice(7, 19));
    assert.match(images[0]!.Size!, /^\d+(\.\d+)?[kM]?B$/);
    assert.equal((await ok(["info", "--format", "{{.Images}}"])).trim(), "1");
    const inspect = JSON.parse(await ok(["image", "inspect", "busybox"]))[0];
    assert.equal(inspect.Id, configDigest);
    assert.deepEqual(inspect.RepoTags, ["busybox:latest"]);
    assert.equal(inspect.RepoDigests.length, 1);
    assert.match(inspect.RepoDigests[0], /^busybox@sha256:[a-f0-9]{64}$/);
    assert.equal(inspect.Created, "1970-01-01T00:00:00Z");
    assert.equal(inspect.Os, "linux");
    assert.deepEqual(inspect.Config.Cmd, ["sh"]);
    assert.equal(inspect.RootFS.Type, "layers");
    assert.equal(inspect.RootFS.Layers.length, 1);
    assert.equal(inspect.GraphDriver.Name, "overlayfs");
    assert.ok(inspect.Size > 500_000, `unpacked size ${inspect.Size}`);
    assert.notEqual(inspect.Metadata.LastTagTime, "0001-01-01T00:00:00Z");
    // docker inspect without --type finds the image after the container lookup's 404.
    assert.equal(JSON.parse(await ok(["inspect", "busybox"]))[0].Id, configDigest);
    // A loaded image runs: it was unpacked into the snapshotter.
    assert.equal(await ok(["run", "--rm", "busybox", "echo", "from a loaded image"]), "from a loaded image\n");
  });

  test("docker history: the config's history, newest first, with the image id on top", async () => {
    const lines = (await ok(["history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}|{{.Size}}", "busybox"]))
      .split("\n")
      .filter(Boolean);
    assert.equal(lines.length, 1);
    const [id, by, size] = lines[0]!.split("|");
    assert.equal(id, configDigest);
    assert.equal(by, "berth test fixture: busybox-static rootfs");
    assert.notEqual(size, "0B");
  });

  test("docker tag and rmi: untag one of two, the multiple-repositories conflict, -f", async () => {
    await ok(["tag", "busybox", "mine:1"]);
    await ok(["tag", "busybox:latest", "localhost:5000/tools/bb"]);
    assert.deepEqual(await tags(), ["busybox:latest", "localhost:5000/tools/bb:latest", "mine:1"]);
    assert.equal(new Set((await listed()).map((i) => i.ID)).size, 1, "one image, three names");
    assert.equal(await ok(["rmi", "mine:1"]), "Untagged: mine:1\n");
    assert.deepEqual(await tags(), ["busybox:latest", "localhost:5000/tools/bb:latest"]);
    const short = configDigest.slice(7, 19);
    const refused = await docker(["rmi", short]);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      new RegExp(
        `conflict: unable to delete ${short} \\(must be forced\\) - image is referenced in multiple repositories`,
      ),
    );
    const forced = await ok(["rmi", "-f", short]);
    assert.match(forced, /Untagged: busybox:latest/);
    assert.match(forced, /Untagged: localhost:5000\/tools\/bb:latest/);
    assert.match(forced, new RegExp(`Deleted: ${configDigest}`));
    assert.deepEqual(await listed(), []);
    const gone = await docker(["rmi", "busybox"]);
    assert.equal(gone.status, 1);
    // CLI 28 shows the daemon's words; 20.10 its own ("No such image: busybox").
    assert.match(gone.stderr, /No such image: busybox/);
    // Bad names in dockerd's words.
    const bad = await docker(["tag", "busybox", "Upper:1"]);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /invalid reference format/);
    await ok(["load", "-q", "-i", archive]);
  });

  test("rmi and prune of an image a container uses: refused without -f, in dockerd's words; prune -a keeps it", async () => {
    const id = (await ok(["create", "busybox", "true"])).trim();
    try {
      const r = await docker(["rmi", "busybox"]);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `conflict: unable to remove repository reference "busybox" \\(must force\\) - container ${id.slice(0, 12)} is using its referenced image ${configDigest.slice(7, 19)}`,
        ),
      );
      // By id, a stopped container's image is deleted only when forced.
      const byId = await docker(["rmi", configDigest.slice(7, 19)]);
      assert.match(byId.stderr, new RegExp(`image is being used by stopped container ${id.slice(0, 12)}`));
      // docker image prune -a removes unused images only: this one is used.
      await ok(["image", "prune", "-a", "-f"]);
      assert.deepEqual(await tags(), ["busybox:latest"]);
    } finally {
      await ok(["rm", id]);
    }
    assert.deepEqual(await tags(), ["busybox:latest"]);
  });

  test("docker save | docker load: a docker archive (manifest.json) that loads back with the same id", async () => {
    const saved = join(d.dir, "saved.tar");
    await ok(["save", "-o", saved, "busybox"]);
    const names = rawNames(readFileSync(saved));
    assert.ok(names.includes("manifest.json") && names.includes("index.json"), names.join(" "));
    await ok(["rmi", "busybox"]);
    assert.deepEqual(await listed(), []);
    assert.match(await ok(["load", "-i", saved]), /Loaded image: busybox:latest/);
    assert.equal(JSON.parse(await ok(["image", "inspect", "busybox"]))[0].Id, configDigest);
  });

  test("several images in one archive: docker save of three names (two images), rmi all, load them back", async () => {
    const other = join(d.dir, "second.tar");
    const second = await writeImageArchive(other, { name: "docker.io/library/second:2", cmd: ["echo", "second"] });
    await ok(["load", "-i", other]);
    await ok(["tag", "busybox", "mine:1"]);
    const saved = join(d.dir, "three.tar");
    await ok(["save", "-o", saved, "busybox", "mine:1", "second:2"]);
    await ok(["rmi", "-f", configDigest.slice(7, 19), second.configDigest.slice(7, 19)]);
    assert.deepEqual(await listed(), []);
    const out = await ok(["load", "-i", saved]);
    for (const n of ["busybox:latest", "mine:1", "second:2"]) assert.match(out, new RegExp(`Loaded image: ${n}`));
    const images = await listed();
    assert.deepEqual(images.map((i) => `${i.Repository}:${i.Tag} ${i.ID}`).sort(), [
      `busybox:latest ${configDigest.slice(7, 19)}`,
      `mine:1 ${configDigest.slice(7, 19)}`,
      `second:2 ${second.configDigest.slice(7, 19)}`,
    ]);
    await ok(["rmi", "mine:1", "second:2"]);
  });

  test("an OCI layout tar without docker's manifest.json loads under its annotated name", async () => {
    const layout = join(d.dir, "layout");
    mkdirSync(layout);
    const info = await writeOciLayout(layout, { name: "docker.io/library/oci-only:3" });
    rmSync(join(layout, "manifest.json"));
    const tar = join(d.dir, "oci-only.tar");
    await tarDirectory(layout, tar);
    assert.ok(!rawNames(readFileSync(tar)).some((n) => n.endsWith("manifest.json")));
    assert.match(await ok(["load", "-i", tar]), /Loaded image: oci-only:3/);
    assert.equal(JSON.parse(await ok(["image", "inspect", "oci-only:3"]))[0].Id, info.configDigest);
    await ok(["rmi", "oci-only:3"]);
  });

  test("a name moved to another image leaves it dangling: filters, then docker image prune", async () => {
    const other = join(d.dir, "other.tar");
    const newer = await writeImageArchive(other, { name: IMAGE, cmd: ["echo", "newer"] });
    assert.match(await ok(["load", "-i", other]), /Loaded image: busybox:latest/);
    const all = await listed();
    assert.deepEqual(all.map((i) => `${i.Repository}:${i.Tag}`).sort(), ["<none>:<none>", "busybox:latest"]);
    assert.equal(all.find((i) => i.Tag === "latest")!.ID, newer.configDigest.slice(7, 19));
    const dangling = (await ok(["images", "-q", "--filter", "dangling=true"])).trim();
    assert.equal(dangling, configDigest.slice(7, 19));
    assert.equal((await ok(["images", "-q", "--filter", "reference=busy*"])).trim(), newer.configDigest.slice(7, 19));
    const pruned = await ok(["image", "prune", "-f"]);
    assert.match(pruned, new RegExp(`deleted: ${configDigest}`));
    assert.deepEqual(await tags(), ["busybox:latest"]);
    // Back to the fixture for the tests after.
    await ok(["load", "-i", archive]);
    await ok(["image", "prune", "-f"]);
    assert.equal(JSON.parse(await ok(["image", "inspect", "busybox"]))[0].Id, configDigest);
    assert.equal((await listed()).length, 1);
  });

  test("docker import: a rootfs tar (plain or gzip) with --change and -m becomes a runnable image", async () => {
    const plain = join(d.dir, "rootfs.tar");
    await writeRootfsTar(plain);
    const gz = join(d.dir, "rootfs.tar.gz");
    writeFileSync(gz, gzipSync(readFileSync(plain)));
    const out = await ok([
      "import",
      "--change",
      'CMD ["echo", "imported"]',
      "--change",
      "ENV MODE=imp",
      "-m",
      "from a tar",
      plain,
      "imp:1",
    ]);
    const id = out.trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    const inspect = JSON.parse(await ok(["image", "inspect", "imp:1"]))[0];
    assert.equal(inspect.Id, id);
    assert.equal(inspect.Comment, "from a tar");
    assert.deepEqual(inspect.Config.Cmd, ["echo", "imported"]);
    assert.deepEqual(inspect.Config.Env, ["MODE=imp"]);
    assert.equal(inspect.RootFS.Layers.length, 1);
    assert.equal(await ok(["run", "--rm", "imp:1"]), "imported\n");
    assert.equal(await ok(["run", "--rm", "imp:1", "sh", "-c", "echo $MODE"]), "imp\n");
    // gzip: the same layer, the same diff_id.
    await ok(["import", gz, "imp:2"]);
    const again = JSON.parse(await ok(["image", "inspect", "imp:2"]))[0];
    assert.deepEqual(again.RootFS.Layers, inspect.RootFS.Layers);
    // Refusals, nothing recorded.
    const before = await tags();
    const notTar = await d.http("POST", "/images/create?fromSrc=-&repo=bad:1", Buffer.from("plain text, not a tar"));
    assert.equal(notTar.status, 400, notTar.body);
    assert.match(JSON.parse(notTar.body).message, /not a tar archive/);
    const badChange = await d.http(
      "POST",
      `/images/create?fromSrc=-&repo=bad:2&changes=${encodeURIComponent("RUN rm -rf /")}`,
      readFileSync(plain),
    );
    assert.equal(badChange.status, 400, badChange.body);
    assert.match(JSON.parse(badChange.body).message, /RUN is not a valid change command/);
    const url = await d.http(
      "POST",
      `/images/create?fromSrc=${encodeURIComponent("http://203.0.113.1/x.tar")}&repo=bad:3`,
    );
    assert.equal(url.status, 501, url.body);
    assert.deepEqual(await tags(), before);
    await ok(["rmi", "imp:1", "imp:2"]);
  });

  test("hostile archives: refused with a clear message, nothing imported", async () => {
    const before = await tags();
    const config = Buffer.from("{}");
    const cases: [string, Buffer, RegExp][] = [
      [
        "path traversal",
        rawTar([{ entry: { name: "../evil", type: "file" }, data: Buffer.from("x") }]),
        /escapes the archive/,
      ],
      [
        "a symlinked layer out of the root",
        rawTar([
          {
            entry: { name: "manifest.json", type: "file" },
            data: Buffer.from(JSON.stringify([{ Config: "c.json", RepoTags: ["evil:1"], Layers: ["layer.tar"] }])),
          },
          { entry: { name: "c.json", type: "file" }, data: config },
          { entry: { name: "layer.tar", type: "symlink", linkname: "/etc/shadow" } },
        ]),
        /layer\.tar, which the archive lacks/,
      ],
      [
        "a manifest naming a missing file",
        rawTar([
          {
            entry: { name: "manifest.json", type: "file" },
            data: Buffer.from(JSON.stringify([{ Config: "nothere.json", RepoTags: ["evil:2"], Layers: [] }])),
          },
        ]),
        /nothere\.json, which the archive lacks/,
      ],
      [
        "an oversized manifest.json",
        rawTar([{ entry: { name: "manifest.json", type: "file" }, data: Buffer.alloc(5 << 20, 0x20) }]),
        /larger than 4194304 bytes/,
      ],
      [
        "a layer whose content is not what its config says",
        rawTar([
          {
            entry: { name: "manifest.json", type: "file" },
            data: Buffer.from(JSON.stringify([{ Config: "c.json", RepoTags: ["evil:3"], Layers: ["l.tar"] }])),
          },
          {
            entry: { name: "c.json", type: "file" },
            data: Buffer.from(
              JSON.stringify({
                architecture: "amd64",
                os: "linux",
                config: {},
                rootfs: { type: "layers", diff_ids: [`sha256:${"0".repeat(64)}`] },
              }),
            ),
          },
          {
            entry: { name: "l.tar", type: "file" },
            data: rawTar([{ entry: { name: "f", type: "file" }, data: Buffer.from("f") }]),
          },
        ]),
        /unpacked content has digest sha256:[a-f0-9]{64}, the image config says sha256:0{64}/,
      ],
      [
        "not an image archive",
        rawTar([{ entry: { name: "hello", type: "file" }, data: Buffer.from("x") }]),
        /not an image archive/,
      ],
      ["not a tar", Buffer.from("this is not a tar at all, just text"), /invalid archive/],
      [
        "manifest.json of the wrong shape",
        rawTar([
          { entry: { name: "manifest.json", type: "file" }, data: Buffer.from('[{"Config": 5, "Layers": "x"}]') },
        ]),
        /invalid archive/,
      ],
    ];
    for (const [what, body, message] of cases) {
      const r = await d.http("POST", "/images/load?quiet=1", body, { "Content-Type": "application/x-tar" });
      assert.equal(r.status, 400, `${what}: ${r.status} ${r.body}`);
      assert.match(JSON.parse(r.body).message, message, what);
    }
    assert.deepEqual(await tags(), before);
    // What the CLI shows for one of them.
    const file = join(d.dir, "evil.tar");
    writeFileSync(file, cases[0]![1]);
    const r = await docker(["load", "-i", file]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /escapes the archive/);
  });

  test("a load spools under <data-root>/tmp, and a client gone mid-upload leaves nothing there", async () => {
    const spool = join(d.dataRoot, "tmp");
    assert.equal(statSync(spool).mode & 0o777, 0o700);
    const bytes = readFileSync(archive);
    const req = request({
      socketPath: d.socket,
      method: "POST",
      path: "/images/load?quiet=1",
      headers: { "Content-Type": "application/x-tar", "Content-Length": bytes.length },
    });
    req.on("error", () => {});
    req.write(bytes.subarray(0, 256 << 10));
    let spooling: string[] = [];
    for (let i = 0; i < 50 && spooling.length === 0; i++) {
      await sleep(100);
      spooling = readdirSync(spool).filter((n) => n.startsWith("berth-import-"));
    }
    assert.equal(spooling.length, 1, "the upload spools in the data root");
    req.destroy();
    let left = spooling;
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await sleep(100);
      left = readdirSync(spool);
    }
    assert.deepEqual(left, [], "nothing left after the client went away");
    // berthd serves on.
    assert.equal((await d.http("GET", "/_ping")).status, 200);
  });

  test("hostile requests: bad references, bad auth headers, unknown images, search offline", async () => {
    const q = (s: string) => encodeURIComponent(s);
    for (const [method, path, status, message] of [
      [
        "POST",
        `/images/create?fromImage=${q("Bad/Name")}`,
        400,
        /invalid reference format: repository name must be lowercase/,
      ],
      ["POST", `/images/create?fromImage=${q("x".repeat(600))}`, 400, /invalid reference format/],
      ["POST", "/images/create?fromImage=busybox&platform=not/a/valid/one", 400, /invalid platform/],
      ["GET", `/images/${q("nothere")}/json`, 404, /No such image: nothere:latest/],
      ["GET", `/images/sha256:${"0".repeat(64)}/json`, 404, /No such image/],
      ["DELETE", "/images/nothere", 404, /No such image: nothere:latest/],
      ["POST", `/images/busybox/tag?repo=${q("sha256")}&tag=x`, 400, /ambiguous tag/],
      ["GET", `/images/json?filters=${q('{"dangling":["maybe"]}')}`, 400, /Invalid filter 'dangling=maybe'/],
      ["GET", `/images/json?filters=${q('{"colour":["red"]}')}`, 400, /invalid filter 'colour'/],
      ["GET", "/images/get?names=nothere", 404, /No such image: nothere:latest/],
      ["GET", "/images/search?term=busybox", 503, /offline/],
    ] as const) {
      const r = await d.http(method, path);
      assert.equal(r.status, status, `${method} ${path}: ${r.body}`);
      assert.match(JSON.parse(r.body).message, message, path);
    }
    for (const header of [
      "!!!",
      Buffer.from("{not json").toString("base64url"),
      Buffer.from('{"username":5}').toString("base64url"),
    ]) {
      const r = await d.http("POST", "/images/create?fromImage=busybox", undefined, { "X-Registry-Auth": header });
      assert.equal(r.status, 400, r.body);
      assert.match(JSON.parse(r.body).message, /^invalid X-Registry-Auth header/);
    }
    const search = await docker(["search", "busybox"]);
    assert.equal(search.status, 1);
    assert.match(search.stderr, /offline/);
  });

  test("a client that goes away mid-pull cancels it: the download stops, no image is recorded", async () => {
    const reg = await startFakeRegistry();
    try {
      const { blob, diffId } = await gzipLayer([{ name: "big", body: randomBytes(3 << 20) }]);
      const layer = publishImage(reg, "slow/app", "1", [{ blob, diffId }]).layers[0]!;
      reg.throttle = 256 << 10;
      const messages: string[] = [];
      let req: ReturnType<typeof request> | undefined;
      await new Promise<void>((resolve, reject) => {
        req = request(
          { socketPath: d.socket, method: "POST", path: `/images/create?fromImage=${reg.host}/slow/app&tag=1` },
          (res) => {
            res.on("data", (c: Buffer) => {
              messages.push(c.toString());
              if (messages.join("").includes('"Downloading"')) resolve();
            });
            res.on("error", () => {});
          },
        );
        req.on("error", () => {});
        req.end();
        setTimeout(() => reject(new Error(`no Downloading message: ${messages.join("")}`)), 20_000).unref();
      });
      /** The layer's ingest in berth-containerd: its ref and size (not its age). */
      const ingested = () => {
        const sock = join(d.execRoot, "containerd", "containerd.sock");
        const r = spawnSync("ctr", ["--address", sock, "-n", "berth", "content", "active"], { encoding: "utf8" });
        return r.stdout
          .split("\n")
          .filter((l) => l.includes(layer.digest.slice(7)))
          .map((l) => l.split("\t").slice(0, 2).join(" "));
      };
      // While the client listens, the download goes on.
      const growing = ingested();
      await sleep(1_500);
      assert.notDeepEqual(ingested(), growing, "the ingest grows while the client listens");
      req!.destroy();
      await sleep(1_000);
      const first = ingested();
      await sleep(1_500);
      assert.deepEqual(ingested(), first, "the ingest no longer grows");
      const blobRequests = reg.requests.filter((r) => r.includes(layer.digest)).length;
      await sleep(500);
      assert.equal(reg.requests.filter((r) => r.includes(layer.digest)).length, blobRequests, "no retry");
      assert.ok(!(await tags()).some((t) => t.includes("slow/app")));
    } finally {
      await reg.stop();
    }
  });

  describe("pull from a registry on loopback", { skip: missingPeers ? `${missingPeers} is missing` : false }, () => {
    let reg: LocalRegistry;
    before(async () => {
      reg = await startRegistry({ auth: "htpasswd" });
      await seedImage(reg, archive, "tools/bb:1");
    });
    after(async () => {
      await reg?.stop();
    });

    test("without credentials: refused; with the CLI's credentials: progress, digest, status; runs; up to date", async () => {
      const ref = `${reg.host}/tools/bb:1`;
      const denied = await docker(["pull", ref]);
      assert.equal(denied.status, 1, denied.stdout);
      assert.match(denied.stderr, /401|unauthorized|denied/i);
      // The CLI reads credentials from its config and sends them as X-Registry-Auth.
      mkdirSync(join(d.dir, "client-config"), { recursive: true });
      const auth = Buffer.from(`${reg.username}:${reg.password}`).toString("base64");
      writeFileSync(join(d.dir, "client-config", "config.json"), JSON.stringify({ auths: { [reg.host]: { auth } } }));
      await ok(["rmi", "busybox"]);
      const pulled = await docker(["pull", ref]);
      assert.equal(pulled.status, 0, pulled.stderr);
      assert.match(pulled.stdout, /1: Pulling from tools\/bb/);
      assert.match(pulled.stdout, /Pull complete/);
      assert.match(pulled.stdout, /Digest: sha256:[a-f0-9]{64}/);
      assert.match(pulled.stdout, new RegExp(`Status: Downloaded newer image for ${ref.replace(/\./g, "\\.")}`));
      assert.equal(JSON.parse(await ok(["image", "inspect", ref]))[0].Id, configDigest);
      assert.equal(await ok(["run", "--rm", ref, "echo", "pulled"]), "pulled\n");
      const again = await ok(["pull", ref]);
      assert.match(again, /Status: Image is up to date for/);
      // By digest: a name@digest record, shown with its digest and no tag, that runs.
      const digest = /Digest: (sha256:[a-f0-9]{64})/.exec(pulled.stdout)![1]!;
      const byDigest = `${reg.host}/tools/bb@${digest}`;
      await ok(["pull", byDigest]);
      const rows = (await ok(["images", "--digests", "--format", "{{.Repository}} {{.Tag}} {{.Digest}}"]))
        .split("\n")
        .filter((l) => l.startsWith(`${reg.host}/tools/bb `));
      assert.ok(rows.includes(`${reg.host}/tools/bb 1 ${digest}`), rows.join("; "));
      assert.equal(JSON.parse(await ok(["image", "inspect", byDigest]))[0].Id, configDigest);
      assert.equal(await ok(["run", "--rm", byDigest, "echo", "by digest"]), "by digest\n");
    });

    /** An image of one small file (its own layer, so a pull downloads it), seeded as `repoTag`. */
    const seedSmall = async (repoTag: string, content: string) => {
      const rootfs = join(d.dir, `rootfs-${repoTag.replace(/\W/g, "-")}`);
      mkdirSync(rootfs);
      writeFileSync(join(rootfs, "file"), content);
      const small = join(d.dir, `${repoTag.replace(/\W/g, "-")}.tar`);
      const info = await writeImageArchive(small, { name: `docker.io/library/${repoTag}`, rootfs });
      await seedImage(reg, small, repoTag);
      return info;
    };
    const authHeader = () =>
      Buffer.from(JSON.stringify({ username: reg.username, password: reg.password, serveraddress: reg.host })).toString(
        "base64url",
      );

    test("the JSON message stream: Pulling from, per-layer Downloading with progressDetail, Pull complete, Digest, Status", async () => {
      const info = await seedSmall("tools/small:1", "x".repeat(300_000) + Math.random());
      const r = await d.http("POST", `/images/create?fromImage=${reg.host}/tools/small&tag=1`, undefined, {
        "X-Registry-Auth": authHeader(),
      });
      assert.equal(r.status, 200, r.body);
      assert.equal(r.headers["content-type"], "application/json");
      const messages = r.body
        .split("\r\n")
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as { status?: string; id?: string; progressDetail?: { current?: number; total?: number } },
        );
      const layer = info.layerDigest.slice(7, 19);
      assert.deepEqual(messages[0], { status: "Pulling from tools/small", id: "1" });
      const statuses = messages.filter((m) => m.id === layer).map((m) => m.status);
      assert.deepEqual(
        [...new Set(statuses)],
        ["Pulling fs layer", "Downloading", "Verifying Checksum", "Download complete", "Extracting", "Pull complete"],
      );
      const downloading = messages.find((m) => m.status === "Downloading")!;
      assert.ok((downloading.progressDetail?.total ?? 0) > 0, JSON.stringify(downloading));
      assert.match(messages.at(-2)!.status!, /^Digest: sha256:[a-f0-9]{64}$/);
      assert.equal(messages.at(-1)!.status, `Status: Downloaded newer image for ${reg.host}/tools/small:1`);
      assert.equal(JSON.parse(await ok(["image", "inspect", `${reg.host}/tools/small:1`]))[0].Id, info.configDigest);
    });

    test("a layer the registry lost: the stream ends with dockerd's error message, nothing is recorded", async () => {
      const info = await seedSmall("tools/broken:1", "y".repeat(200_000) + Math.random());
      const hex = info.layerDigest.slice(7);
      rmSync(join(reg.dir, "data", "docker", "registry", "v2", "blobs", "sha256", hex.slice(0, 2), hex), {
        recursive: true,
      });
      const r = await d.http("POST", `/images/create?fromImage=${reg.host}/tools/broken&tag=1`, undefined, {
        "X-Registry-Auth": authHeader(),
      });
      assert.equal(r.status, 200, "the stream had begun");
      const last = JSON.parse(r.body.trim().split("\r\n").at(-1)!);
      assert.equal(typeof last.error, "string");
      assert.deepEqual(last.errorDetail, { message: last.error });
      assert.match(last.error, new RegExp(hex.slice(0, 12)));
      const cli = await docker(["pull", `${reg.host}/tools/broken:1`]);
      assert.equal(cli.status, 1);
      assert.match(cli.stderr, new RegExp(hex.slice(0, 12)));
      assert.ok(!(await tags()).some((t) => t.includes("broken")));
    });

    test("docker run of an image berthd lacks pulls it first (create 404, pull, create)", async () => {
      const ref = `${reg.host}/tools/bb:1`;
      await docker(["rmi", ref]);
      const r = await docker(["run", "--rm", ref, "echo", "pulled by run"]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout.split("\n").filter((l) => l === "pulled by run").length, 1, r.stdout);
      assert.match(r.stderr, /Unable to find image/);
    });

    test("docker push: progress in dockerd's words, the digest, and the image pulls back the same", async () => {
      const target = `${reg.host}/tools/pushed:2`;
      await ok(["tag", `${reg.host}/tools/bb:1`, target]);
      const r = await docker(["push", target]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(`The push refers to repository \\[${reg.host.replace(/\./g, "\\.")}/tools/pushed\\]`),
      );
      assert.match(r.stdout, /Pushed|Layer already exists/);
      const m = /2: digest: (sha256:[a-f0-9]{64}) size: (\d+)/.exec(r.stdout);
      assert.ok(m, r.stdout);
      await ok(["rmi", target]);
      const back = await ok(["pull", target]);
      assert.match(back, new RegExp(`Digest: ${m[1]}`));
      assert.equal(JSON.parse(await ok(["image", "inspect", target]))[0].Id, configDigest);
      const missing = await docker(["push", `${reg.host}/tools/nothere:1`]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /does not exist locally/);
    });

    test("a missing image: dockerd's words", async () => {
      const r = await docker(["pull", `${reg.host}/tools/nothere:1`]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`manifest for ${reg.host.replace(/\./g, "\\.")}/tools/nothere:1 not found`));
    });
  });
});

/** The entry names of a tar (ustar headers, no PAX long names needed here). */
function rawNames(tar: Buffer): string[] {
  const out: string[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
    const size = Number.parseInt(header.subarray(124, 136).toString("utf8").replace(/\0.*$/s, "").trim() || "0", 8);
    out.push(name);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe("images on Debian's containerd (--containerd)", {
  skip: !isRoot
    ? "berthd runs as root"
    : missingPeers
      ? `${missingPeers} is missing`
      : !existsSync("/usr/bin/containerd")
        ? "no /usr/bin/containerd"
        : false,
}, () => {
  test("load, images, and a pull that falls back to the client-side pull (no transfer service there)", async () => {
    const containerd = await startContainerd(join(import.meta.dirname, "..", "..", "..", "dist", "berth-runc.mjs"));
    const reg = await startRegistry();
    const d = await newBerthd();
    try {
      await d.start(["--containerd", containerd.address]);
      const archive = join(d.dir, "busybox.tar");
      const info = await writeImageArchive(archive, { name: IMAGE });
      await seedImage(reg, archive, "tools/bb:1");
      const load = await d.docker(["load", "-i", archive]);
      assert.equal(load.status, 0, load.stderr);
      const ref = `${reg.host}/tools/bb:1`;
      const pulled = await d.docker(["pull", ref]);
      assert.equal(pulled.status, 0, `${pulled.stderr}\n${await d.log()}`);
      assert.match(pulled.stdout, /Pulling from tools\/bb/);
      assert.match(pulled.stdout, new RegExp(`Status: Downloaded newer image for ${ref.replace(/\./g, "\\.")}`));
      const images = await d.docker(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
      assert.deepEqual(images.stdout.split("\n").filter(Boolean).sort(), [
        `${reg.host}/tools/bb:1 ${info.configDigest.slice(7, 19)}`,
        `busybox:latest ${info.configDigest.slice(7, 19)}`,
      ]);
      // The pull unpacked into containerd's own snapshotter.
      const snaps = await containerd.ctr(["--namespace", "berth", "snapshots", "ls"]);
      assert.match(snaps.stdout, /Committed/);
      const rmi = await d.docker(["rmi", "-f", info.configDigest.slice(7, 19)]);
      assert.equal(rmi.status, 0, rmi.stderr);
    } finally {
      await d.cleanup();
      await reg.stop();
      await containerd.stop();
    }
  });
});
