// Hole: a running container could put a host file's bytes into the layer diffed from its
// snapshot (a commit). The diff walker lstat()s a directory's children, writes a file's header,
// then opens the file by path to copy its data; if the container swaps a parent directory for a
// symlink to a host directory in between, the open (O_NOFOLLOW guards only the last component)
// lands on the host file of the same name. The data read must be the file first seen, or the diff
// fails. Host-side check: the tar stream never carries the host file's bytes.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { test } from "node:test";
import { sharedFsops } from "../../src/common/archive/fsops.ts";
import { diffTar } from "../../src/containerd/archive/diff.ts";

test("a parent swapped for a symlink between the walk and the read never leaks the host file", async (t) => {
  const base = await mkdtemp(`${tmpdir()}/berth-sec-diffswap-`);
  t.after(() => rm(base, { recursive: true, force: true }));
  const upper = `${base}/upper`;
  const host = `${base}/host`;
  await mkdir(`${upper}/a`, { recursive: true });
  await mkdir(host);
  await writeFile(`${upper}/a/f`, "inside");
  await writeFile(`${host}/f`, "SECRET"); // same size: the header already promised 6 bytes

  const chunks: Buffer[] = [];
  let swapped = false;
  const read = (async () => {
    for await (const chunk of diffTar({ kind: "overlay", upper }, sharedFsops())) {
      chunks.push(Buffer.from(chunk));
      // The container acts as soon as a/f's header is out, before its data is read.
      if (!swapped && chunk.length >= 512 && chunk.toString("latin1", 0, 3) === "a/f") {
        swapped = true;
        await rename(`${upper}/a`, `${upper}/a.moved`);
        await symlink(host, `${upper}/a`);
      }
    }
  })();
  const outcome = await read.then(
    () => null,
    (err: unknown) => err as Error,
  );
  assert.ok(swapped, "the walk never reached a/f");
  const tar = Buffer.concat(chunks);
  assert.equal(tar.includes("SECRET"), false, "the diff carried the host file's bytes");
  assert.match(String(outcome?.message), /changed while its diff was written/);
});
