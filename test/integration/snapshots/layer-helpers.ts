// Helpers for the layer tests: tars built with tar-stream's pack (or our own encoder where tar-stream
// cannot express the case: binary xattrs, raw names), private temp dirs, and a tree snapshot that
// two directories can be compared by.
import { createHash } from "node:crypto";
import { constants as fsc } from "node:fs";
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import type { TestContext } from "node:test";
import { pack, type Header as TarStreamHeader } from "tar-stream";
import { sharedFsops } from "../../../src/common/archive/fsops.ts";

export interface PackEntry {
  header: Partial<TarStreamHeader> & { name: string };
  content?: string | Buffer;
}

/** A tar built by tar-stream's pack. */
export async function tarOf(entries: PackEntry[]): Promise<Buffer> {
  const p = pack();
  // Read while writing: pack applies backpressure, so an unread pack never finishes an entry.
  const collected = (async () => {
    const chunks: Buffer[] = [];
    for await (const c of p) chunks.push(Buffer.from(c as Uint8Array));
    return Buffer.concat(chunks);
  })();
  for (const e of entries) {
    await new Promise<void>((resolve, reject) =>
      p.entry({ mode: 0o644, mtime: new Date(1_600_000_000_000), ...e.header }, e.content ?? "", (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }
  p.finalize();
  return collected;
}

export { rawTar } from "../../fixtures/layer-tar.ts";

export function streamOf(buf: Buffer, chunk = 64 * 1024): Readable {
  // Several chunks, so headers straddle chunk boundaries as they do on the network.
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts);
}

export function sha256(buf: Buffer): string {
  return `sha256:${createHash("sha256").update(buf).digest("hex")}`;
}

/** A private temp dir removed after the test `t`, whatever its outcome. */
export async function tempDir(t: TestContext, prefix = "berth-layer-"): Promise<string> {
  const dir = await mkdtemp(`${tmpdir()}/${prefix}`);
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface TreeNode {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  content?: string;
  link?: string;
  rdev?: number;
  xattrs: Record<string, string>;
  /** Index of the hard-link group (same inode), when the inode has several names. */
  linkGroup?: string;
}

/** Everything a layer round trip must preserve, per path (mtimes in whole seconds; root excluded). */
export async function treeOf(root: string, opts: { dirMtimes?: boolean } = {}): Promise<Record<string, TreeNode>> {
  const out: Record<string, TreeNode> = {};
  const groups = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const name of (await readdir(rel === "" ? root : `${root}/${rel}`)).sort()) {
      const path = rel === "" ? name : `${rel}/${name}`;
      const abs = `${root}/${path}`;
      const st = await lstat(abs);
      const type = st.isFile()
        ? "file"
        : st.isDirectory()
          ? "dir"
          : st.isSymbolicLink()
            ? "symlink"
            : st.isCharacterDevice()
              ? "char"
              : st.isBlockDevice()
                ? "block"
                : st.isFIFO()
                  ? "fifo"
                  : "other";
      const xattrs: Record<string, string> = {};
      const fsops = sharedFsops();
      for (const n of (await fsops.llistxattr(abs)).sort())
        xattrs[n] = (await fsops.lgetxattr(abs, n))!.toString("hex");
      const node: TreeNode = {
        type,
        mode: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        mtime: type === "dir" && !opts.dirMtimes ? 0 : Math.floor(st.mtimeMs / 1000),
        xattrs,
      };
      if (type === "symlink") node.mode = 0;
      // An overlay whiteout (a 0/0 char device) is a marker made when its layer is applied: its
      // time is the apply's, which no layer format carries, so a round trip cannot keep it.
      if (type === "char" && st.rdev === 0) node.mtime = 0;
      if (type === "file")
        node.content = createHash("sha256")
          .update(await readFile(abs))
          .digest("hex");
      if (type === "symlink") node.link = await readlink(abs);
      if (type === "char" || type === "block") node.rdev = st.rdev;
      if (type === "file" && st.nlink > 1) {
        const key = `${st.ino}`;
        if (!groups.has(key)) groups.set(key, path);
        node.linkGroup = groups.get(key);
      }
      out[path] = node;
      if (type === "dir") await walk(path);
    }
  };
  await walk("");
  return out;
}

export const S_IFCHR = fsc.S_IFCHR;
