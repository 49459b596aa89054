// A hostile config.json with very long paths must never crash the native stage (nsexec copied a
// path's parent into a fixed stack buffer). A long path that is still valid (any number of repeated
// slashes is the same path) works as it does under runc; one the kernel cannot take fails with a
// message naming the path, and leaves nothing behind in the rootfs or the state root.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { type Bundle, makeBundle, makeTempDir, REFERENCE_RUNC } from "../fixtures/busybox.ts";
import { type RunResult, Runtime, uniqueId } from "../helpers/runtime.ts";
import { SUBJECT_BIN } from "../integration/conformance/harness.ts";

const execFileP = promisify(execFile);

let rt: Runtime;
let source: string;
before(async () => {
  rt = await Runtime.create(SUBJECT_BIN, "long-path");
  source = join(await makeTempDir("berth-long-path-src-"), "file");
  writeFileSync(source, "hello\n");
});
after(async () => {
  await rt.destroy();
});

/** A bundle removed with rm(1) afterwards: a failed run could have left a tree too deep for fs.rm. */
async function bundle(t: { after: (fn: () => Promise<void>) => void }, opts: Parameters<typeof makeBundle>[0]) {
  const b = await makeBundle(opts);
  t.after(async () => {
    await execFileP("rm", ["-rf", b.dir]).catch(() => undefined);
    await b.cleanup();
  });
  return b;
}

/** The native stage died of a signal (stack protector, fortify, SIGSEGV) or went away without a word. */
function assertNoCrash(r: RunResult): void {
  assert.equal(r.timedOut, false, "the runtime hung");
  assert.doesNotMatch(r.stderr, /stack smashing|buffer overflow|Segmentation|Aborted|ended early|died|signal/i);
}

async function bindFileBundle(t: Parameters<typeof bundle>[0], destination: string): Promise<Bundle> {
  return bundle(t, {
    args: ["cat", "/mnt/name"],
    spec: (s) => {
      s.mounts!.push({ destination, type: "bind", source, options: ["bind", "ro"] });
    },
  });
}

test("a file bind mount whose destination has 5,000 slashes works as under runc", async (t) => {
  const b = await bindFileBundle(t, `${"/".repeat(5000)}mnt/name`);
  const r = await rt.run(uniqueId("slashes"), b.dir);
  assertNoCrash(r);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello\n");
  assert.deepEqual(await rt.rootEntries(), []);
  if (existsSync(REFERENCE_RUNC)) {
    const ref = await Runtime.create(REFERENCE_RUNC, "long-path-ref");
    t.after(() => ref.destroy());
    const rr = await ref.run(uniqueId("slashes-ref"), b.dir);
    assert.deepEqual([r.code, r.stdout], [rr.code, rr.stdout], "same as runc");
  }
});

test("a device whose path has 5,000 slashes is created as under runc", async (t) => {
  const b = await bundle(t, {
    args: ["stat", "-c", "%F %t,%T", "/dev/mynull"],
    spec: (s) => {
      s.linux!.devices = [{ path: `/dev/${"/".repeat(5000)}mynull`, type: "c", major: 1, minor: 3 }];
    },
  });
  const r = await rt.run(uniqueId("devslashes"), b.dir);
  assertNoCrash(r);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "character special file 1,3\n");
});

test("a symlink target made of 5,000 slashes works", async (t) => {
  // mkdir -p inside the root follows a dangling symlink to its target, taken inside the root.
  const b = await bundle(t, {
    args: ["cat", "/mnt/link/name"],
    rootfs: async (root) => {
      await execFileP("ln", ["-s", `${"/".repeat(5000)}made`, join(root, "mnt/link")]).catch(async () => {
        // ln refuses targets past PATH_MAX on some systems; a shorter but still long run of slashes.
        await execFileP("ln", ["-s", `${"/".repeat(4000)}made`, join(root, "mnt/link")]);
      });
    },
    spec: (s) => {
      s.root!.readonly = false;
      s.mounts!.push({ destination: "/mnt/link/name", type: "bind", source, options: ["bind", "ro"] });
    },
  });
  const r = await rt.run(uniqueId("linkslashes"), b.dir);
  assertNoCrash(r);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello\n");
  assert.ok(existsSync(join(b.rootfs, "made/name")), "the target was made inside the rootfs");
});

test("a destination longer than PATH_MAX fails with a message and creates nothing", async (t) => {
  const dest = `/mnt/${"a/".repeat(2100)}name`;
  const b = await bindFileBundle(t, dest);
  const id = uniqueId("toolong");
  const r = await rt.run(id, b.dir);
  assertNoCrash(r);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/mnt\/a\/a\/a.*file name too long/);
  // Not one directory of the path was made before the length was found to be too long.
  assert.deepEqual(readdirSync(join(b.rootfs, "mnt")), []);
  assert.deepEqual(await rt.rootEntries(), []);
});

test("a last component longer than 255 bytes fails with a message and is not truncated", async (t) => {
  const b = await bindFileBundle(t, `/mnt/${"n".repeat(300)}`);
  const r = await rt.run(uniqueId("longname"), b.dir);
  assertNoCrash(r);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\/mnt\/nnnn.*file name too long/);
  // No file under the first 255 bytes of the name was created instead.
  assert.deepEqual(readdirSync(join(b.rootfs, "mnt")), []);
  assert.deepEqual(await rt.rootEntries(), []);
});
