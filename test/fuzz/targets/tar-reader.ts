// Target: the layer tar reader (tar-reader.ts over tar-format.ts, behind compression.ts), fed
// mutated seed tars (plain, gzip, zstd, in chunks of any size). Correct: every member parses, or
// the reader refuses with InvalidArgumentError. Invariants on success: every byte of the
// (uncompressed) stream went through the diffID hash, each member's data is exactly its size,
// entries have sane fields, and what our encoder (writeDiff's) writes for an entry reads back equal.
import { Readable } from "node:stream";
import { gzipSync, zstdCompressSync } from "node:zlib";
import fc from "fast-check";
import { END_OF_ARCHIVE, encodeHeader, type TarEntry } from "../../../src/common/archive/tar-format.ts";
import { TarReader } from "../../../src/common/archive/tar-reader.ts";
import { decompress } from "../../../src/containerd/archive/compression.ts";
import { check, type FuzzTarget, isInvalidArgument } from "../harness.ts";
import { applyEdits, applyTarEdits, byteEdit, fixTarChecksums, tarFieldEdit } from "../mutate.ts";
import { tarSeeds } from "./tar-seeds.ts";

export interface TarInput {
  bytes: Uint8Array;
  /** The source's chunk size (headers straddle chunks as on the network). */
  chunk: number;
  /**
   * Length of the uncompressed stream, for the hash invariant: absent when `bytes` is a plain tar,
   * -1 when a compressed stream was corrupted (its uncompressed length is unknown).
   */
  plainLength?: number;
}

const TYPES = new Set(["file", "hardlink", "symlink", "char", "block", "dir", "fifo"]);

/** Mutated tars: tar-aware and byte edits on a seed, checksums fixed or not, then maybe compressed. */
export function tarArbitrary(seeds: Buffer[]): fc.Arbitrary<{ raw: Buffer; plainLength?: number }> {
  return fc
    .record({
      seed: fc.nat({ max: seeds.length - 1 }),
      fields: fc.array(tarFieldEdit(), { maxLength: 4 }),
      edits: fc.array(byteEdit(seeds.length), { maxLength: 6 }),
      fix: fc.boolean(),
      compression: fc.constantFrom("none" as const, "none" as const, "gzip" as const, "zstd" as const),
      rawEdits: fc.array(byteEdit(seeds.length), { maxLength: 2 }),
      rawEditsOn: fc.nat({ max: 7 }),
    })
    .map((r) => {
      let tar = applyEdits(applyTarEdits(seeds[r.seed]!, r.fields), r.edits, seeds);
      if (r.fix) tar = fixTarChecksums(tar);
      if (r.compression === "none") return { raw: tar };
      const raw = r.compression === "gzip" ? gzipSync(tar) : zstdCompressSync(tar);
      // Now and then corrupt the compressed stream itself.
      if (r.rawEditsOn === 0 && r.rawEdits.length > 0) return { raw: applyEdits(raw, r.rawEdits, []), plainLength: -1 };
      return { raw, plainLength: tar.length };
    });
}

function chunked(bytes: Uint8Array, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(Buffer.from(bytes.subarray(i, i + size)));
  return Readable.from(parts);
}

function checkEntry(e: TarEntry): void {
  check(TYPES.has(e.type), () => `entry: bad type | ${JSON.stringify(e.name)}: ${e.type}`);
  for (const [k, v] of [
    ["size", e.size],
    ["uid", e.uid],
    ["gid", e.gid],
    ["devmajor", e.devmajor],
    ["devminor", e.devminor],
  ] as const) {
    check(Number.isSafeInteger(v) && v >= 0, () => `entry: ${k} is not a size | ${JSON.stringify(e.name)}: ${v}`);
  }
  check(Number.isInteger(e.mode) && e.mode >= 0 && e.mode <= 0o7777, () => `entry: bad mode | ${e.mode}`);
  check(Number.isFinite(e.mtime), () => `entry: mtime is not finite | ${e.mtime}`);
  check(e.atime === undefined || Number.isFinite(e.atime), () => `entry: atime is not finite | ${e.atime}`);
}

/** Encodes the entry as writeDiff would and reads it back: the fields must survive. */
async function roundTrip(e: TarEntry): Promise<void> {
  const size = e.type === "file" ? e.size : 0;
  if (size > 1 << 20) return; // the data is not what this checks
  const header = encodeHeader(e);
  const tar = Buffer.concat([header, Buffer.alloc(size + ((512 - (size % 512)) % 512)), END_OF_ARCHIVE]);
  const back = await new TarReader(Readable.from([tar]), () => {}).next();
  check(back !== null, () => `round trip: nothing read back | ${JSON.stringify(e.name)}`);
  const strip = (n: string) => (e.type === "dir" ? n.replace(/\/$/, "") : n);
  const same = (what: string, a: unknown, b: unknown) =>
    check(
      a === b,
      () =>
        `round trip: ${what} changed | ${JSON.stringify(e.name)}: ${JSON.stringify(String(a))} came back as ${JSON.stringify(String(b))}`,
    );
  same("name", strip(e.name), strip(back.name));
  same("type", e.type, back.type);
  same("mode", e.mode, back.mode);
  same("uid", e.uid, back.uid);
  same("gid", e.gid, back.gid);
  same("size", size, back.size);
  same("linkname", e.linkname, back.linkname);
  if (e.type === "char" || e.type === "block") {
    same("devmajor", e.devmajor, back.devmajor);
    same("devminor", e.devminor, back.devminor);
  }
  check(
    Math.abs(e.mtime - back.mtime) <= Math.max(1e-6, Math.abs(e.mtime) * 1e-12),
    () => `round trip: mtime changed | ${JSON.stringify(e.name)}: ${e.mtime} came back as ${back.mtime}`,
  );
  same("xattr count", e.xattrs.size, back.xattrs.size);
  for (const [k, v] of e.xattrs)
    check(back.xattrs.get(k)?.equals(v) === true, () => `round trip: an xattr changed | ${k}`);
}

export async function readAll(input: TarInput): Promise<void> {
  let hashed = 0;
  // At most ~2,000 chunks: tiny chunks over a big input would time the source, not the reader.
  const chunk = Math.max(input.chunk, Math.ceil(input.bytes.length / 2048));
  const { stream } = await decompress(chunked(input.bytes, chunk));
  const reader = new TarReader(stream, (c) => {
    hashed += c.length;
  });
  let n = 0;
  for (;;) {
    const e = await reader.next();
    if (e === null) break;
    checkEntry(e);
    // Read the data of most members and leave some for next() to skip: both paths are fuzzed.
    if (n++ % 3 !== 2) {
      let got = 0;
      for await (const c of reader.data()) got += c.length;
      const want = e.type === "file" ? e.size : got;
      check(got === want, () => `entry: data is not its size | read ${got} bytes, size says ${e.size}`);
    }
    await roundTrip(e);
  }
  await reader.drain();
  const total = input.plainLength ?? input.bytes.length;
  check(total === -1 || hashed === total, () => `the diffID hash missed bytes | saw ${hashed} of ${total}`);
}

export function createTarget(): FuzzTarget<TarInput> {
  const seeds = tarSeeds();
  return {
    name: "tar-reader",
    about:
      "mutated ustar/PAX/GNU/v7 tars (plain, gzip, zstd) -> entries or InvalidArgumentError; hash covers every byte",
    arbitrary: fc
      .record({ t: tarArbitrary(seeds), chunk: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.constant(65536)) })
      .map(({ t, chunk }) => ({ bytes: new Uint8Array(t.raw), chunk, plainLength: t.plainLength })),
    run: readAll,
    isExpected: isInvalidArgument,
    slowMs: 2000,
  };
}
