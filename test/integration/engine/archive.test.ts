// docker cp (both ways), docker export and docker diff against berthd with the real docker CLI,
// and the hostile archive requests over raw HTTP: escaping names, absolute names, a symlink
// planted and then written through, hard links to host files, device nodes, headers past the
// limits, garbage, and symlinks in the container pointing out of it while docker cp reads. The
// host side is checked each time (decoy directories stay empty, /etc/passwd keeps its link
// count), statuses and words are dockerd 20.10's (test/interop/berthd-dockerd-archive.test.ts
// compares them), and nothing is left: no temp mounts, no spooled bodies, no containers.
import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rawTar } from "../../fixtures/layer-tar.ts";
import { writeImageArchive } from "../../fixtures/oci-image.ts";
import { extended, member, END_OF_ARCHIVE as RAW_END } from "../../fixtures/raw-tar.ts";
import { type Berthd, httpBytesOn, newBerthd } from "../../helpers/berthd.ts";
import { assertNothingLeft as nothingLeft } from "../../helpers/engine-scenario.ts";

const isRoot = process.getuid?.() === 0;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const IMAGE = "docker.io/library/busybox:latest";

function ctr(d: Berthd, args: string[]): SpawnSyncReturns<string> {
  const sock = join(d.execRoot, "containerd", "containerd.sock");
  return spawnSync("ctr", ["--address", sock, "-n", "berth", ...args], { encoding: "utf8", timeout: 60_000 });
}

/** tar t of a tar on stdin. */
function tarList(bytes: Buffer): string[] {
  const r = spawnSync("tar", ["-t"], { input: bytes, encoding: "buffer" });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString().split("\n").filter(Boolean);
}

/** A raw GET whose answer body stays bytes (a tar). */
const rawGet = (d: Berthd, path: string) =>
  httpBytesOn(d.socket, "GET", path).then((r) => ({ status: r.status, headers: r.headers, body: r.bytes }));

const statOf = (headers: Record<string, unknown>) =>
  JSON.parse(Buffer.from(String(headers["x-docker-container-path-stat"]), "base64").toString()) as {
    name: string;
    size: number;
    mode: number;
    mtime: string;
    linkTarget: string;
  };

const file = (name: string, data: string) => ({ entry: { name, type: "file" as const }, data: Buffer.from(data) });

describe("docker cp, export and diff against berthd", { skip: isRoot ? false : "berthd runs as root" }, () => {
  let d: Berthd;
  let host: string;
  const ids: string[] = [];
  const docker = (args: string[]) => d.docker(args);
  const ok = async (args: string[]) => {
    const r = await docker(args);
    assert.equal(r.status, 0, `docker ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const put = (container: string, path: string, body: Buffer, query = "") =>
    d.http("PUT", `/v1.41/containers/${container}/archive?path=${encodeURIComponent(path)}${query}`, body, {
      "Content-Type": "application/x-tar",
    });
  const head = (container: string, path: string) =>
    d.http("HEAD", `/v1.41/containers/${container}/archive?path=${encodeURIComponent(path)}`);
  /** A container's running, once its script has written /ready. */
  const runReady = async (name: string, script: string, extra: string[] = []) => {
    const id = (
      await ok([
        "run",
        "-d",
        "--name",
        name,
        ...extra,
        "busybox",
        "sh",
        "-c",
        `${script}; touch /ready; exec sleep 1000`,
      ])
    ).trim();
    ids.push(id);
    for (let i = 0; i < 100; i++) {
      if ((await head(name, "/ready")).status === 200) return id;
      await sleep(100);
    }
    throw new Error(`${name} never got ready`);
  };
  const create = async (name: string, extra: string[] = []) => {
    const id = (await ok(["create", "--name", name, ...extra, "busybox", "true"])).trim();
    ids.push(id);
    return id;
  };

  before(async () => {
    d = await newBerthd();
    await d.start();
    const archive = join(d.dir, "busybox.tar");
    await writeImageArchive(archive, { name: IMAGE });
    const r = ctr(d, ["images", "import", archive]);
    assert.equal(r.status, 0, r.stderr);
    host = join(d.dir, "host");
    mkdirSync(host);
  });
  after(async () => {
    await d?.cleanup();
  });

  test("docker cp out of a running container: a file, a directory, its contents, to stdout; symlinks stay the container's", async () => {
    await runReady(
      "src",
      "mkdir -p /d/sub && echo one > /d/f && echo two > /d/sub/g && echo container-secret > /etc/shadow && " +
        "ln -s /etc/shadow /d/shadowlink && ln -s / /d/rootlink",
    );
    await ok(["cp", "src:/d/f", join(host, "f")]);
    assert.equal(readFileSync(join(host, "f"), "utf8"), "one\n");
    await ok(["cp", "src:/d", join(host, "d")]);
    assert.equal(readFileSync(join(host, "d/sub/g"), "utf8"), "two\n");
    // The symlink comes out as a symlink, never as the host's /etc/shadow.
    assert.ok(lstatSync(join(host, "d/shadowlink")).isSymbolicLink());
    assert.equal(readlinkSync(join(host, "d/shadowlink")), "/etc/shadow");
    await ok(["cp", "src:/d/.", join(host, "contents")]);
    assert.deepEqual(readdirSync(join(host, "contents")).sort(), ["f", "rootlink", "shadowlink", "sub"]);
    // -L follows the link inside the container: the container's shadow.
    await ok(["cp", "-L", "src:/d/shadowlink", join(host, "followed")]);
    assert.equal(readFileSync(join(host, "followed"), "utf8"), "container-secret\n");
    // A path through a symlink to / reaches the container's root, not the host's.
    await ok(["cp", "src:/d/rootlink/etc/shadow", join(host, "through-root")]);
    assert.equal(readFileSync(join(host, "through-root"), "utf8"), "container-secret\n");
    const hostname = (await ok(["cp", "src:/d/rootlink/etc/hostname", "-"])).length;
    assert.ok(hostname > 0);
    const out = await d.http("HEAD", "/v1.41/containers/src/archive?path=/d/shadowlink");
    assert.equal(out.status, 200);
    const st = statOf(out.headers);
    assert.equal(st.name, "shadowlink");
    assert.equal(st.linkTarget, "/etc/shadow");
    assert.equal(st.mode, 2 ** 27 + 0o777);
    // To stdout: a tar of the one file.
    const tar = await rawGet(d, "/v1.41/containers/src/archive?path=/d/f");
    assert.equal(tar.status, 200);
    assert.deepEqual(tarList(tar.body), ["f"]);
    assert.equal(statOf(tar.headers).size, 4);
    assert.deepEqual(tarList((await rawGet(d, "/v1.41/containers/src/archive?path=/d/.")).body).slice(0, 2), [
      "./",
      "./f",
    ]);
    const missing = await d.http("GET", "/v1.41/containers/src/archive?path=/nope");
    assert.equal(missing.status, 404);
    assert.equal(JSON.parse(missing.body).message, "Could not find the file /nope in container src");
    assert.equal((await d.http("GET", "/v1.41/containers/src/archive")).status, 400);
    assert.equal(
      JSON.parse((await d.http("GET", "/v1.41/containers/src/archive")).body).message,
      "bad parameter: pathcannot be empty",
    );
    assert.equal((await d.http("GET", "/v1.41/containers/nosuch/archive?path=/")).status, 404);
  });

  test("docker cp into a stopped container and into a running one; docker cp - from a tar on stdin", async () => {
    await create("dst");
    writeFileSync(join(host, "one-file"), "hello\n");
    await ok(["cp", join(host, "d"), "dst:/copied"]);
    await ok(["cp", join(host, "one-file"), "dst:/etc/renamed"]);
    assert.equal(await ok(["cp", "dst:/etc/renamed", "-"]).then((t) => t.includes("hello")), true);
    const g = await rawGet(d, "/v1.41/containers/dst/archive?path=/copied/sub/g");
    assert.equal(g.status, 200);
    assert.ok(g.body.includes("two\n"));
    // Into the running one, then read back from inside.
    await ok(["cp", join(host, "one-file"), "src:/tmp/"]);
    const back = await rawGet(d, "/v1.41/containers/src/archive?path=/tmp/one-file");
    assert.ok(back.body.includes("hello\n"));
    // A directory is refused as a destination that is a file, in dockerd's words.
    const r = await put("dst", "/etc/renamed", rawTar([file("x", "x")]));
    assert.equal(r.status, 500);
    assert.equal(JSON.parse(r.body).message, "extraction point is not a directory");
    const nope = await put("dst", "/nope", rawTar([file("x", "x")]));
    assert.equal(nope.status, 404);
    assert.equal(JSON.parse(nope.body).message, "Could not find the file /nope in container dst");
  });

  test("docker export of a created and of a running container, the container's mounts left out", async () => {
    const created = tarList((await rawGet(d, "/v1.41/containers/dst/export")).body);
    assert.ok(created.includes("bin/busybox"), created.slice(0, 5).join(" "));
    assert.ok(created.includes("copied/sub/g"));
    assert.ok(!created.some((n) => n.startsWith("/") || n.startsWith("./")));
    const running = tarList((await rawGet(d, "/v1.41/containers/src/export")).body);
    assert.ok(running.includes("d/f"));
    assert.ok(running.includes("proc/"), "the mount point itself is there");
    assert.ok(!running.some((n) => n.startsWith("proc/") && n !== "proc/"), "not what is mounted on it");
    assert.ok(!running.some((n) => n.startsWith("sys/") && n !== "sys/"));
  });

  test("docker diff: additions, a deletion, a modified directory; a fresh container shows none", async () => {
    await create("fresh");
    const none = await d.http("GET", "/v1.41/containers/fresh/changes");
    assert.equal(none.status, 200);
    assert.equal(none.body.trim(), "null");
    assert.equal(await ok(["diff", "fresh"]), "");
    await runReady("df", "touch /a && rm /etc/group && mkdir /newdir");
    const lines = (await ok(["diff", "df"])).split("\n").filter(Boolean);
    for (const want of ["A /a", "C /etc", "D /etc/group", "A /newdir"])
      assert.ok(lines.includes(want), lines.join(", "));
    // /ready was written too; nothing of the runtime's own mount points shows.
    assert.ok(!lines.some((l) => /\/(proc|sys|dev)$|hostname|resolv\.conf|\/etc\/hosts/.test(l)), lines.join(", "));
  });

  test("hostile archives: escaping and absolute names, symlinks written through, hard links to host files, devices, garbage", async () => {
    const decoy = join(d.dir, "decoy");
    mkdirSync(decoy);
    // ../ out of the destination: refused before anything is written (the first, fine, entry too).
    const escaped = await put(
      "dst",
      "/tmp",
      rawTar([file("ok1", "x"), file(`../../../../../../../..${decoy}/escaped`, "x")]),
    );
    assert.equal(escaped.status, 500);
    assert.match(JSON.parse(escaped.body).message, /Error processing tar file: .*escapes the destination/);
    assert.equal((await head("dst", "/tmp/ok1")).status, 404, "a refused archive changes nothing");
    // An absolute name lands under the destination.
    assert.equal((await put("dst", "/tmp", rawTar([file("/abs-entry", "x")]))).status, 200);
    assert.equal((await head("dst", "/tmp/abs-entry")).status, 200);
    // A symlink to a directory the host has, then an entry through it: the container's directory.
    const pwned = `berth-archive-test-${process.pid}`;
    const through = rawTar([
      { entry: { name: "l", type: "symlink", linkname: "/etc" } },
      file(`l/${pwned}`, "x"),
      { entry: { name: "up", type: "symlink", linkname: "../../../../../../.." } },
      file(`up/${pwned}`, "x"),
    ]);
    const written = await put("dst", "/tmp", through);
    assert.equal(written.status, 200, written.body);
    assert.equal((await head("dst", `/etc/${pwned}`)).status, 200, "written in the container's /etc");
    assert.equal((await head("dst", `/${pwned}`)).status, 200, "'..' stops at the container's root");
    assert.ok(!existsSync(`/etc/${pwned}`) && !existsSync(`/${pwned}`), "the host's are untouched");
    // Through a symlink to a host directory the container lacks: refused (as dockerd), the host's untouched.
    const dangling = rawTar([{ entry: { name: "l2", type: "symlink", linkname: decoy } }, file("l2/pwned", "x")]);
    assert.equal((await put("dst", "/tmp", dangling)).status, 500);
    assert.deepEqual(readdirSync(decoy), [], "the host's directory is untouched");
    // Hard links: to the host's /etc/passwd by an absolute name (the container's path, not there) and by ../
    const links = statSync("/etc/passwd").nlink;
    const abs = await put(
      "dst",
      "/tmp",
      rawTar([{ entry: { name: "hl", type: "hardlink", linkname: "/etc/passwd" } }]),
    );
    assert.equal(abs.status, 500);
    assert.match(JSON.parse(abs.body).message, /hard link target does not exist/);
    const up = await put(
      "dst",
      "/tmp",
      rawTar([{ entry: { name: "hl2", type: "hardlink", linkname: "../../../../etc/passwd" } }]),
    );
    assert.equal(up.status, 500);
    assert.equal(statSync("/etc/passwd").nlink, links);
    // A hard link inside the destination works.
    assert.equal(
      (
        await put(
          "dst",
          "/tmp",
          rawTar([file("orig", "data"), { entry: { name: "hl3", type: "hardlink", linkname: "orig" } }]),
        )
      ).status,
      200,
    );
    // A device node, as dockerd makes them as root.
    assert.equal(
      (
        await put(
          "dst",
          "/tmp",
          rawTar([{ entry: { name: "null2", type: "char", devmajor: 1, devminor: 3, mode: 0o666 } }]),
        )
      ).status,
      200,
    );
    const dev = await head("dst", "/tmp/null2");
    assert.equal(statOf(dev.headers).mode, 2 ** 26 + 2 ** 21 + 0o666);
    // Not a tar; a PAX record past the 1 MiB limit; an empty body (nothing to do, as dockerd).
    const garbage = await put("dst", "/tmp", Buffer.from("this is not a tar at all ".repeat(40)));
    assert.equal(garbage.status, 500);
    assert.match(JSON.parse(garbage.body).message, /^Error processing tar file: /);
    const huge = Buffer.concat([extended("x", Buffer.alloc(2 << 20, 0x61)), member({ name: "after" }, "x"), RAW_END]);
    const big = await put("dst", "/tmp", huge);
    assert.equal(big.status, 500);
    assert.match(JSON.parse(big.body).message, /extended header/);
    assert.equal((await put("dst", "/tmp", Buffer.alloc(0))).status, 200);
    // noOverwriteDirNonDir, the path missing.
    const over = await put("dst", "/", rawTar([file("etc", "x")]), "&noOverwriteDirNonDir=1");
    assert.equal(over.status, 500);
    assert.match(JSON.parse(over.body).message, /cannot overwrite directory "\/etc" with non-directory/);
    assert.equal((await d.http("PUT", "/v1.41/containers/dst/archive", rawTar([file("x", "x")]))).status, 400);
    assert.deepEqual(
      readdirSync(join(d.dataRoot, "tmp")).filter((n) => n.startsWith("put-")),
      [],
      "no spooled body left",
    );
  });

  test("read-only rootfs and read-only binds refuse docker cp in dockerd's words; binds of a stopped container are read and written", async () => {
    const bindSrc = join(d.dir, "bind-src");
    mkdirSync(bindSrc);
    writeFileSync(join(bindSrc, "on-host"), "from the host\n");
    await create("ro", ["--read-only", "-v", `${bindSrc}:/data`]);
    const r = await put("ro", "/tmp", rawTar([file("x", "x")]));
    assert.equal(r.status, 500);
    assert.equal(JSON.parse(r.body).message, "container rootfs is marked read-only");
    // The bind is writable: docker cp into it writes the bind's source.
    assert.equal((await put("ro", "/data", rawTar([file("from-cp", "y")]))).status, 200);
    assert.equal(readFileSync(join(bindSrc, "from-cp"), "utf8"), "y");
    const got = await rawGet(d, "/v1.41/containers/ro/archive?path=/data/on-host");
    assert.ok(got.body.includes("from the host"));
    await create("robind", ["-v", `${bindSrc}:/data:ro`]);
    const rb = await put("robind", "/data", rawTar([file("x", "x")]));
    assert.equal(rb.status, 500);
    assert.equal(JSON.parse(rb.body).message, "mounted volume is marked read-only");
  });

  test("a running container's tmpfs is read and written through its own view", async () => {
    await runReady("tmpfs", "echo in-tmpfs > /scratch/f", ["--tmpfs", "/scratch"]);
    const got = await rawGet(d, "/v1.41/containers/tmpfs/archive?path=/scratch/f");
    assert.equal(got.status, 200);
    assert.ok(got.body.includes("in-tmpfs\n"));
    assert.equal((await put("tmpfs", "/scratch", rawTar([file("g", "y")]))).status, 200);
    assert.equal((await head("tmpfs", "/scratch/g")).status, 200);
    // Not in the writable layer: docker diff does not see the tmpfs's files.
    assert.ok(!(await ok(["diff", "tmpfs"])).includes("/scratch/"));
  });

  test("copyUIDGID: what is copied in belongs to the container's user; without it, to the tar's owners", async () => {
    await create("user", ["-u", "1000:1000"]);
    const entry = { entry: { name: "owned", type: "file" as const, uid: 0, gid: 0 }, data: Buffer.from("x") };
    assert.equal((await put("user", "/tmp", rawTar([entry]), "&copyUIDGID=1")).status, 200);
    const other = { entry: { name: "as-tar", type: "file" as const, uid: 123, gid: 456 }, data: Buffer.from("x") };
    assert.equal((await put("user", "/tmp", rawTar([other]))).status, 200);
    const listing = (path: string) =>
      rawGet(d, `/v1.41/containers/user/archive?path=${path}`).then(
        (r) => spawnSync("tar", ["-tv", "--numeric-owner"], { input: r.body, encoding: "utf8" }).stdout,
      );
    assert.match(await listing("/tmp/owned"), / 1000\/1000 /);
    assert.match(await listing("/tmp/as-tar"), / 123\/456 /);
  });

  test("a running container swapping a directory for a symlink to a host path while docker cp runs: never the host's file", async () => {
    const hostDir = join(d.dir, "race-host");
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, "marker"), "HOST\n");
    // The container flips /d/x between a real directory and a symlink to the host's path (which
    // the container lacks): a resolver that checks, then opens by path, would be sent there.
    await runReady(
      "racer",
      `mkdir -p /d; (while true; do rm -rf /d/x; mkdir /d/x; echo CONTAINER > /d/x/marker; rm -rf /d/x; ln -s ${hostDir} /d/x; done) & true`,
    );
    const seen = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      const got = await rawGet(d, "/v1.41/containers/racer/archive?path=/d/x/marker");
      const what = got.status !== 200 ? String(got.status) : got.body.includes("CONTAINER") ? "container" : "other";
      assert.ok(!got.body.includes("HOST"), "the host's file never comes out");
      seen.set(what, (seen.get(what) ?? 0) + 1);
      const put = await d.http("PUT", "/v1.41/containers/racer/archive?path=/d/x", rawTar([file("dropped", "x")]), {
        "Content-Type": "application/x-tar",
      });
      assert.ok([200, 404, 500].includes(put.status), put.body);
    }
    assert.deepEqual(readdirSync(hostDir), ["marker"], "nothing written in the host's directory");
    assert.equal(readFileSync(join(hostDir, "marker"), "utf8"), "HOST\n");
    assert.ok((seen.get("container") ?? 0) > 0, `the container's file was read at times: ${JSON.stringify([...seen])}`);
  });

  test("berthd killed while a stopped container's snapshot is mounted for an export: the next berthd takes the mount down", async () => {
    const { request } = await import("node:http");
    const ours = () =>
      readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter((l) => l.includes("berth-mount-") && l.includes(d.dataRoot));
    // A client that reads nothing: the export stops at the socket's buffers, the mount stays up.
    const req = request({ socketPath: d.socket, method: "GET", path: "/v1.41/containers/dst/export" });
    req.on("response", (res) => res.pause());
    req.on("error", () => {});
    req.end();
    for (let i = 0; i < 100 && ours().length === 0; i++) await sleep(50);
    assert.equal(ours().length, 1, "the export's temp mount is up");
    await d.kill9();
    req.destroy();
    assert.equal(ours().length, 1, "a killed berthd leaves it");
    await d.start();
    assert.deepEqual(ours(), [], "the next berthd took it down");
    assert.match(await d.log(), /removed a temp mount a previous berthd left/);
  });

  test("nothing is left: containers removed, no temp mounts, no spooled bodies", async () => {
    await ok(["rm", "-f", "src", "dst", "df", "fresh", "ro", "robind", "racer", "user", "tmpfs"]);
    nothingLeft({ d, namespace: "berth", ctr: (args) => ctr(d, args), ids });
    const mounts = readFileSync("/proc/self/mountinfo", "utf8");
    assert.ok(!mounts.includes(d.dir), "no mount refers to the test's dir");
    assert.deepEqual(
      readdirSync(join(d.dataRoot, "tmp")).filter((n) => n.startsWith("put-")),
      [],
    );
  });
});
