// Byte-level mutation of real seed inputs, as fast-check arbitraries: a seed plus a short list of
// edits (bit flips, byte sets, inserts, deletes, splices from another seed, repeats, interesting
// integers). fast-check shrinks the edit list, so a finding comes back with the fewest edits that
// still show it. Tar-aware edits write values into header fields and fix the checksums, so most
// inputs get past the checksum test into the code behind it.
import fc from "fast-check";

/**
 * Text inputs from real seeds: a seed as it is, a seed with a few characters deleted and others
 * inserted at one place, or noise of up to `noiseLength` characters.
 */
export function editedStrings(seeds: readonly string[], noiseLength = 200): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...seeds),
    fc
      .record({
        s: fc.constantFrom(...seeds),
        at: fc.nat(),
        ins: fc.string({ maxLength: 12 }),
        del: fc.nat({ max: 8 }),
      })
      .map(({ s, at, ins, del }) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + ins + s.slice(i + del);
      }),
    fc.string({ maxLength: noiseLength, unit: "binary" }),
  );
}

/** `arb`'s value one time in `oneIn`, undefined otherwise. */
export function rarely<T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: oneIn - 1 }, { arbitrary: arb, weight: 1 });
}

export type ByteEdit =
  | { k: "flip"; at: number; bit: number }
  | { k: "set"; at: number; byte: number }
  | { k: "insert"; at: number; bytes: Uint8Array }
  | { k: "delete"; at: number; len: number }
  | { k: "splice"; at: number; from: number; fromAt: number; len: number }
  | { k: "repeat"; at: number; len: number; times: number }
  | { k: "int"; at: number; width: 1 | 2 | 4 | 8; value: bigint; le: boolean }
  | { k: "truncate"; at: number };

/** Integers that break parsers: limits of every width, signs, off-by-ones. */
export const INTERESTING: readonly bigint[] = [
  0n,
  1n,
  0x7fn,
  0x80n,
  0xffn,
  0x100n,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x10000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
  4n << 20n,
  (4n << 20n) + 1n,
  16n << 20n,
  (16n << 20n) + 1n,
];

export function byteEdit(seedCount: number): fc.Arbitrary<ByteEdit> {
  const at = fc.nat({ max: 1 << 20 });
  return fc.oneof(
    { arbitrary: fc.record({ k: fc.constant("flip" as const), at, bit: fc.nat({ max: 7 }) }), weight: 3 },
    { arbitrary: fc.record({ k: fc.constant("set" as const), at, byte: fc.nat({ max: 255 }) }), weight: 3 },
    {
      arbitrary: fc.record({
        k: fc.constant("insert" as const),
        at,
        bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({ k: fc.constant("delete" as const), at, len: fc.integer({ min: 1, max: 600 }) }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        k: fc.constant("splice" as const),
        at,
        from: fc.nat({ max: Math.max(0, seedCount - 1) }),
        fromAt: at,
        len: fc.integer({ min: 1, max: 2048 }),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        k: fc.constant("repeat" as const),
        at,
        len: fc.integer({ min: 1, max: 1024 }),
        times: fc.integer({ min: 1, max: 64 }),
      }),
      weight: 1,
    },
    {
      arbitrary: fc.record({
        k: fc.constant("int" as const),
        at,
        width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
        value: fc.oneof(fc.constantFrom(...INTERESTING), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        le: fc.boolean(),
      }),
      weight: 2,
    },
    { arbitrary: fc.record({ k: fc.constant("truncate" as const), at }), weight: 1 },
  );
}

/** Applies the edits in order; positions wrap around the current length. */
export function applyEdits(seed: Uint8Array, edits: readonly ByteEdit[], seeds: readonly Uint8Array[]): Buffer {
  let b = Buffer.from(seed);
  for (const e of edits) {
    const pos = (n: number) => (b.length === 0 ? 0 : n % (b.length + 1));
    const at = pos(e.at);
    switch (e.k) {
      case "flip":
        if (at < b.length) b[at]! ^= 1 << e.bit;
        break;
      case "set":
        if (at < b.length) b[at] = e.byte;
        break;
      case "insert":
        b = Buffer.concat([b.subarray(0, at), e.bytes, b.subarray(at)]);
        break;
      case "delete":
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.len)]);
        break;
      case "splice": {
        const src = seeds[e.from % Math.max(1, seeds.length)] ?? b;
        const from = src.length === 0 ? 0 : e.fromAt % src.length;
        b = Buffer.concat([b.subarray(0, at), src.subarray(from, from + e.len), b.subarray(at)]);
        break;
      }
      case "repeat": {
        const chunk = Buffer.from(b.subarray(at, at + e.len));
        b = Buffer.concat([b.subarray(0, at), ...Array(e.times).fill(chunk), b.subarray(at)]);
        break;
      }
      case "int": {
        if (at + e.width > b.length) break;
        const v = BigInt.asUintN(e.width * 8, e.value);
        for (let i = 0; i < e.width; i++) {
          const byte = Number((v >> BigInt(8 * i)) & 0xffn);
          b[e.le ? at + i : at + e.width - 1 - i] = byte;
        }
        break;
      }
      case "truncate":
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

// ---- tar-aware edits ----

export const TAR_FIELDS = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  chksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 8],
  uname: [265, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;
export type TarField = keyof typeof TAR_FIELDS;

export interface TarFieldEdit {
  /** Which header (of those a lenient walk finds), wrapping around. */
  header: number;
  field: TarField;
  value: Uint8Array;
}

const ascii = (s: string) => new Uint8Array(Buffer.from(s, "latin1"));
const base256 = (v: bigint, len: number, negative = false) => {
  const out = new Uint8Array(len);
  let x = negative ? BigInt.asUintN(8 * len, -v) : v;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  out[0] = negative ? out[0]! | 0xc0 : (out[0]! & 0x7f) | 0x80;
  return out;
};

const NUMERIC_VALUES: Uint8Array[] = [
  ascii(""),
  ascii("0"),
  ascii("7777777"),
  ascii("77777777777"),
  ascii("777777777777"),
  ascii("-1"),
  ascii(" 1 "),
  ascii("0x10"),
  ascii("8"),
  ascii("1e3"),
  ascii("0000001\x000"),
  ascii("00000000020\x00"),
  ascii("   7 7"),
  base256(2n ** 53n + 1n, 12),
  base256(2n ** 63n, 12),
  base256(2n ** 33n, 8),
  base256(1n, 12, true),
  base256(16n << 20n, 12),
];

const NAME_VALUES: Uint8Array[] = [
  ascii("../../escape"),
  ascii("/etc/abs"),
  ascii("a/../../b"),
  ascii(".wh..wh..opq"),
  ascii("a/.wh..wh..opq"),
  ascii(".wh."),
  ascii(".wh.."),
  ascii(".wh.a"),
  ascii("a\x00b"),
  new Uint8Array([0xff, 0xfe, 0x41]),
  new Uint8Array([0xc3, 0x28]),
  ascii("a".repeat(100)),
  ascii("./"),
  ascii(""),
  ascii("."),
  ascii(".."),
  ascii("a/"),
  ascii("//a//b//"),
];

const TYPEFLAGS: Uint8Array[] = [..."01234567xgLKSVMDNA\x00"].map((c) => ascii(c));

export function tarFieldEdit(): fc.Arbitrary<TarFieldEdit> {
  const header = fc.nat({ max: 64 });
  const numeric = fc.constantFrom<TarField>("mode", "uid", "gid", "size", "mtime", "devmajor", "devminor", "chksum");
  return fc.oneof(
    fc.record({ header, field: numeric, value: fc.constantFrom(...NUMERIC_VALUES) }),
    fc.record({
      header,
      field: numeric,
      value: fc.bigInt({ min: 0n, max: 8n ** 11n }).map((v) => ascii(v.toString(8))),
    }),
    fc.record({
      header,
      field: fc.constantFrom<TarField>("name", "linkname", "prefix"),
      value: fc.constantFrom(...NAME_VALUES),
    }),
    fc.record({ header, field: fc.constant<TarField>("typeflag"), value: fc.constantFrom(...TYPEFLAGS) }),
    fc.record({
      header,
      field: fc.constant<TarField>("magic"),
      value: fc.constantFrom(ascii("ustar\x0000"), ascii("ustar  \x00"), ascii("\x00\x00\x00\x00\x00\x00\x00\x00")),
    }),
  );
}

/** Header offsets as a lenient reader would walk them (unparseable sizes count as 0). */
export function tarHeaders(b: Uint8Array, max = 256): number[] {
  const out: number[] = [];
  let off = 0;
  while (off + 512 <= b.length && out.length < max) {
    const block = b.subarray(off, off + 512);
    if (block.every((x) => x === 0)) break;
    out.push(off);
    const text = Buffer.from(block.subarray(124, 136))
      .toString("latin1")
      .replace(/[\0 ]+$/, "")
      .trim();
    const size = /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : 0;
    const next = off + 512 + Math.ceil(size / 512) * 512;
    if (!Number.isSafeInteger(next) || next <= off) break;
    off = next;
  }
  return out;
}

/** Writes the field values (NUL-padded, cut to the field) into the headers they name. */
export function applyTarEdits(input: Uint8Array, edits: readonly TarFieldEdit[]): Buffer {
  const b = Buffer.from(input);
  for (const e of edits) {
    const headers = tarHeaders(b);
    if (headers.length === 0) break;
    const off = headers[e.header % headers.length]!;
    const [start, len] = TAR_FIELDS[e.field];
    b.fill(0, off + start, off + start + len);
    b.set(e.value.subarray(0, len), off + start);
  }
  return b;
}

/** Recomputes the checksum of every header a lenient walk finds. */
export function fixTarChecksums(input: Uint8Array): Buffer {
  const b = Buffer.from(input);
  for (const off of tarHeaders(b)) {
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[off + i]!;
    b.write(`${sum.toString(8).padStart(6, "0")}\0 `, off + 148, "latin1");
  }
  return b;
}
