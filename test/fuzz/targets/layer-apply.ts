// Target: layer application (src/containerd/archive/apply.ts) as root against the real file
// system. Hostile layers are generated from a small alphabet of names so that entries collide:
// "..", absolute names, symlinks (relative, climbing out, absolute) and then entries through
// them, hard links to outside, whiteouts and opaque markers, implicit parents, a directory
// replaced by a symlink later in the same layer. Each is applied into a fresh target directory,
// in "plain" or "overlay" whiteout mode, with its parents known (a lower given) or staged ahead of
// its chain (no parents, then adoptParentMetadata with the lower), sometimes over content an
// earlier layer left (symlinks pointing out). The sandbox around the target holds decoy "host"
// trees at every level a symlink could climb to. Correct: nothing outside the target is created,
// removed or changed (mode, owner, size, times, ctime, links, content), and errors are typed.
//
// Safety: every symlink a layer carries is checked before the layer is applied: an absolute one
// must point into the sandbox, a relative one may climb at most MAX_UP levels, and the target is
// more levels than that below the sandbox's top. So even a broken apply that followed a symlink
// could only touch the sandbox, never the real host.
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { chmod, chown } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import {
  END_OF_ARCHIVE,
  encodeHeader,
  paddingFor,
  type TarEntry,
  type TarEntryType,
} from "../../../src/common/archive/tar-format.ts";
import { TarReader } from "../../../src/common/archive/tar-reader.ts";
import { BerthError } from "../../../src/common/errors.ts";
import { adoptParentMetadata, applyLayer } from "../../../src/containerd/archive/apply.ts";
import { check, type FuzzTarget } from "../harness.ts";
import { applyEdits, type ByteEdit, byteEdit, rarely } from "../mutate.ts";

/** How many levels a relative symlink may climb; the target sits deeper than this. */
const MAX_UP = 6;
const LEVELS = MAX_UP + 1;

const NAMES = [
  "a",
  "b",
  "x",
  "host",
  "etc",
  "up",
  "out",
  "abs",
  "..",
  ".",
  ".wh.a",
  ".wh.x",
  ".wh.host",
  ".wh..wh..opq",
  ".wh..wh.plnk",
  ".wh..",
];
const RESTS = ["", "host", "host/sub", "host/secret", "a", "a/b", "x", "etc", "etc/passwd", "lower", "lower/a"];

export interface LayerSpecEntry {
  name: string;
  type: TarEntryType;
  /** Symlinks: climb `up` levels then `rest`, or absolute into the sandbox when `absolute`. */
  up: number;
  rest: string;
  absolute: boolean;
  mode: number;
  uid: number;
  size: number;
  xattr?: string;
}

export interface ApplyInput {
  entries: LayerSpecEntry[];
  /** Byte edits of the encoded layer (rare): the reader's and apply's error paths together. */
  edits?: ByteEdit[];
  whiteouts: "plain" | "overlay";
  /** "parents": applied with the lower known; "staged": without, then adoptParentMetadata. */
  chain: "parents" | "staged";
  /** Content an earlier layer left in the target (symlinks out among it). */
  earlier: boolean;
}

const entryArbitrary: fc.Arbitrary<LayerSpecEntry> = fc.record({
  name: fc
    .record({
      lead: fc.constantFrom("", "", "", "/", "./", "//"),
      parts: fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 }),
      slash: fc.boolean(),
    })
    .map(({ lead, parts, slash }) => `${lead}${parts.join("/")}${slash ? "/" : ""}`),
  type: fc.constantFrom<TarEntryType>("file", "file", "dir", "dir", "symlink", "symlink", "hardlink", "char", "fifo"),
  up: fc.nat({ max: MAX_UP }),
  rest: fc.constantFrom(...RESTS),
  absolute: fc.boolean(),
  mode: fc.constantFrom(0o755, 0o644, 0o4777, 0o1777, 0o000, 0o7777, 0o700),
  uid: fc.constantFrom(0, 1000, 65534, 4242),
  size: fc.oneof({ arbitrary: fc.nat({ max: 600 }), weight: 20 }, { arbitrary: fc.constant(300 * 1024), weight: 1 }),
  xattr: rarely(fc.constantFrom("user.fuzz", "trusted.overlay.opaque", "trusted.fuzz"), 8),
});

/** A level of the sandbox: decoys named like the layer's names, with distinctive metadata. */
function decoys(dir: string, level: number): void {
  mkdirSync(join(dir, "host", "sub"), { recursive: true });
  writeFileSync(join(dir, "host", "secret"), `secret ${level}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "host", "sub", "file"), `file ${level}\n`, { mode: 0o640 });
  mkdirSync(join(dir, "a", "b"), { recursive: true });
  writeFileSync(join(dir, "x"), `x ${level}\n`, { mode: 0o644 });
  mkdirSync(join(dir, "etc"), { recursive: true });
  writeFileSync(join(dir, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\n", { mode: 0o644 });
  symlinkSync("host/secret", join(dir, "link-to-secret"));
}

interface Stat {
  kind: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  ino: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  content?: string;
}

/** Everything under `dir` except the `skip` path: metadata, and content or link target. */
function snapshot(dir: string, skip: string): Map<string, Stat> {
  const out = new Map<string, Stat>();
  const walk = (p: string) => {
    const st = lstatSync(p, { bigint: true });
    const kind = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : "other";
    const rec: Stat = {
      kind,
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: Number(st.size),
      nlink: Number(st.nlink),
      ino: Number(st.ino),
      mtimeNs: st.mtimeNs,
      ctimeNs: st.ctimeNs,
    };
    if (kind === "file") rec.content = createHash("sha256").update(readFileSync(p)).digest("hex");
    if (kind === "symlink") rec.content = readlinkSync(p);
    out.set(p, rec);
    if (kind === "dir") for (const name of readdirSync(p)) if (join(p, name) !== skip) walk(join(p, name));
  };
  walk(dir);
  return out;
}

function compare(before: Map<string, Stat>, after: Map<string, Stat>, ignoreDirTimes: string): void {
  for (const [p, a] of after) check(before.has(p), () => `escape: created outside the target | ${p} (${a.kind})`);
  for (const [p, b] of before) {
    const a = after.get(p);
    check(a !== undefined, () => `escape: removed outside the target | ${p}`);
    for (const k of ["kind", "mode", "uid", "gid", "size", "nlink", "ino", "content", "mtimeNs", "ctimeNs"] as const) {
      // The directory that holds the targets changes as they come and go.
      if (p === ignoreDirTimes && (k === "mtimeNs" || k === "ctimeNs" || k === "nlink")) continue;
      check(a[k] === b[k], () => `escape: ${k} changed outside the target | ${p}: ${String(b[k])} -> ${String(a[k])}`);
    }
  }
}

/** Every symlink (and absolute hard link) the layer holds stays inside the sandbox however resolved. */
async function safeLinks(layer: Buffer, sandbox: string): Promise<boolean> {
  const reader = new TarReader(Readable.from([layer]), () => {});
  try {
    for (;;) {
      const e = await reader.next();
      if (e === null) return true;
      if (e.type !== "symlink" && e.type !== "hardlink") continue;
      const l = e.linkname;
      if (l.includes("\0")) return false;
      if (l.startsWith("/")) {
        if (!l.startsWith(`${sandbox}/`) || l.split("/").includes("..")) return false;
      } else if (l.split("/").filter((c) => c === "..").length > MAX_UP) return false;
    }
  } catch {
    return true; // the reader refuses it before any link is made
  }
}

export async function createTarget(scratch: string): Promise<FuzzTarget<ApplyInput>> {
  // scratch/sandbox/l1/.../l6/{work,lower}: decoys at every level, the target in work/.
  const sandbox = join(scratch, "sandbox");
  let level = sandbox;
  for (let i = 1; i < LEVELS; i++) level = join(level, `l${i}`);
  const work = join(level, "work");
  const lower = join(level, "lower");
  const build = async () => {
    rmSync(sandbox, { recursive: true, force: true });
    let dir = sandbox;
    for (let i = 0; i < LEVELS; i++) {
      mkdirSync(dir, { recursive: true });
      decoys(dir, i);
      dir = join(dir, `l${i + 1}`);
    }
    mkdirSync(work);
    // The lower layer: directories named like the layer's, with metadata a copy would show.
    for (const d of ["a", "a/b", "x", "host", "etc", "up", "out", "abs"]) {
      mkdirSync(join(lower, d), { recursive: true });
      await chmod(join(lower, d), 0o1777);
      await chown(join(lower, d), 4242, 4242);
    }
    return snapshot(sandbox, work);
  };
  let baseline = await build();
  let n = 0;

  const encode = (input: ApplyInput): Buffer => {
    const parts: Buffer[] = [];
    for (const e of input.entries) {
      let linkname = "";
      if (e.type === "symlink") {
        linkname = e.absolute ? `${sandbox}/${e.rest}` : `${"../".repeat(e.up)}${e.rest}` || ".";
      } else if (e.type === "hardlink") {
        linkname = e.absolute ? `${sandbox}/${e.rest}` : e.rest || "x";
      }
      const size = e.type === "file" ? e.size : 0;
      const entry: TarEntry = {
        name: e.name,
        type: e.type,
        mode: e.mode,
        uid: e.uid,
        gid: e.uid,
        size,
        mtime: 1_600_000_000,
        linkname,
        devmajor: e.type === "char" ? 1 : 0,
        devminor: e.type === "char" ? 3 : 0,
        xattrs: e.xattr ? new Map([[e.xattr, Buffer.from("y")]]) : new Map(),
      };
      parts.push(encodeHeader(entry));
      if (size > 0) parts.push(Buffer.alloc(size, 0x61), Buffer.alloc(paddingFor(size)));
    }
    parts.push(END_OF_ARCHIVE);
    const tar = Buffer.concat(parts);
    return input.edits && input.edits.length > 0 ? applyEdits(tar, input.edits, [tar]) : tar;
  };

  const earlier = (target: string) => {
    // What an earlier layer may have left in a merged tree: symlinks that point out.
    mkdirSync(join(target, "a", "b"), { recursive: true });
    writeFileSync(join(target, "x"), "earlier\n");
    symlinkSync("..", join(target, "up"));
    symlinkSync("../host", join(target, "out"));
    symlinkSync(`${sandbox}/host`, join(target, "abs"));
    symlinkSync("../..", join(target, "a", "up2"));
  };

  return {
    name: "layer-apply",
    about:
      "hostile layers applied as root into a sandbox with decoys: nothing outside the target changes; errors typed",
    arbitrary: fc.record({
      entries: fc.array(entryArbitrary, { minLength: 1, maxLength: 10 }),
      edits: rarely(fc.array(byteEdit(1), { minLength: 1, maxLength: 3 }), 8),
      whiteouts: fc.constantFrom("plain" as const, "overlay" as const),
      chain: fc.constantFrom("parents" as const, "staged" as const),
      earlier: fc.boolean(),
    }),
    async run(input) {
      const layer = encode(input);
      if (!(await safeLinks(layer, sandbox))) return; // could point at the real host: not run
      const target = join(work, `t${++n}`);
      mkdirSync(target);
      try {
        if (input.earlier) earlier(target);
        let failure: unknown;
        try {
          const r = await applyLayer(Readable.from([layer]), target, {
            whiteouts: input.whiteouts,
            parents: input.chain === "parents" ? [lower] : undefined,
          });
          if (input.chain === "staged") await adoptParentMetadata(target, r.implicitDirs, [lower]);
        } catch (err) {
          failure = err;
        }
        // The decoys are checked whatever the outcome: a refusal may come after damage.
        try {
          compare(baseline, snapshot(sandbox, work), work);
          const left = readdirSync(work);
          check(
            left.length === 1 && left[0] === `t${n}`,
            () => `escape: created beside the target | ${left.join(", ")}`,
          );
        } catch (err) {
          baseline = await build(); // damaged: the next input (a shrink step) starts clean
          throw err;
        }
        if (failure !== undefined) throw failure;
      } finally {
        rmSync(target, { recursive: true, force: true });
      }
    },
    isExpected: (err) => err instanceof BerthError,
    slowMs: 5000,
  };
}
