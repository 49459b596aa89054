// Seed layer tars for the tar and layer fuzzers: every dialect a layer may use (ustar, PAX with
// binary xattrs, GNU long names, global PAX records, ustar prefix names, v7 headers, base-256
// numbers), the entry kinds (files, dirs, symlinks, hard links, devices, fifos) and whiteouts.
// Built by hand here, so the bytes are exactly what each dialect's writer produces.
import { END_OF_ARCHIVE, paddingFor } from "../../../src/common/archive/tar-format.ts";
import { rawTar } from "../../fixtures/layer-tar.ts";

export interface RawHeader {
  name: string | Uint8Array;
  typeflag?: string;
  mode?: number;
  uid?: number | Uint8Array;
  gid?: number;
  size?: number | Uint8Array;
  mtime?: number;
  linkname?: string;
  /** "ustar" (POSIX, default), "gnu" ("ustar  \0") or "v7" (no magic). */
  magic?: "ustar" | "gnu" | "v7";
  prefix?: string;
  devmajor?: number;
  devminor?: number;
}

function octal(block: Buffer, off: number, len: number, v: number | Uint8Array): void {
  if (v instanceof Uint8Array) {
    block.set(v.subarray(0, len), off);
    return;
  }
  block.write(`${v.toString(8).padStart(len - 1, "0")}\0`, off, "latin1");
}

/** One header block, checksum included; fields are written as given (no validation). */
export function rawHeader(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  const name = typeof h.name === "string" ? Buffer.from(h.name) : Buffer.from(h.name);
  name.copy(b, 0, 0, Math.min(100, name.length));
  octal(b, 100, 8, h.mode ?? 0o644);
  octal(b, 108, 8, h.uid ?? 0);
  octal(b, 116, 8, h.gid ?? 0);
  octal(b, 124, 12, h.size ?? 0);
  octal(b, 136, 12, h.mtime ?? 1_600_000_000);
  b.write(h.typeflag ?? "0", 156, "latin1");
  Buffer.from(h.linkname ?? "").copy(b, 157, 0, 100);
  const magic = h.magic ?? "ustar";
  if (magic === "ustar") b.write("ustar\x0000", 257, "latin1");
  else if (magic === "gnu") b.write("ustar  \x00", 257, "latin1");
  if (magic !== "v7") {
    b.write("root", 265, "latin1");
    b.write("root", 297, "latin1");
    octal(b, 329, 8, h.devmajor ?? 0);
    octal(b, 337, 8, h.devminor ?? 0);
    if (h.prefix) Buffer.from(h.prefix).copy(b, 345, 0, 155);
  }
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return b;
}

/** A member: header, then data padded to the block. */
export function member(h: RawHeader, data: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.concat([rawHeader({ ...h, size: h.size ?? data.length }), data, Buffer.alloc(paddingFor(data.length))]);
}

/** A PAX extended header ('x', or 'g' for global) holding `records`. */
export function paxMember(records: [string, Uint8Array | string][], typeflag = "x"): Buffer {
  const parts = records.map(([k, v]) => {
    const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from("\n")]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    return Buffer.concat([Buffer.from(String(len)), body]);
  });
  return member({ name: "PaxHeaders/x", typeflag }, Buffer.concat(parts));
}

/** A GNU long name ('L') or long link ('K') record. */
export function gnuLong(typeflag: "L" | "K", value: string): Buffer {
  return member({ name: "././@LongLink", typeflag, magic: "gnu" }, Buffer.from(`${value}\0`));
}

const END = END_OF_ARCHIVE;
const long = (n: number) => `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(Math.max(1, n - 122))}`;

/** The uncompressed seeds. */
export function tarSeeds(): Buffer[] {
  const seeds: Buffer[] = [];
  // ustar, every entry kind, through our own encoder (what writeDiff produces).
  seeds.push(
    rawTar([
      { entry: { name: "bin", type: "dir", mode: 0o755 } },
      { entry: { name: "bin/sh", type: "file", mode: 0o4755, uid: 0 }, data: Buffer.from("#!/bin/busybox\n") },
      { entry: { name: "bin/ls", type: "symlink", linkname: "/bin/busybox" } },
      { entry: { name: "bin/su", type: "hardlink", linkname: "bin/sh" } },
      { entry: { name: "dev/null", type: "char", mode: 0o666, devmajor: 1, devminor: 3 } },
      { entry: { name: "dev/loop0", type: "block", mode: 0o660, devmajor: 7, devminor: 0 } },
      { entry: { name: "run/fifo", type: "fifo", mode: 0o620 } },
      {
        entry: { name: "etc/passwd", type: "file", uid: 1000, gid: 1000 },
        data: Buffer.from("root:x:0:0::/root:/bin/sh\n"),
      },
    ]),
  );
  // PAX: binary xattrs, long and non-ASCII names, big ids, sub-second times.
  seeds.push(
    rawTar([
      {
        entry: {
          name: "usr/bin/ping",
          type: "file",
          mode: 0o755,
          xattrs: new Map([
            ["security.capability", Buffer.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
            ["user.note", Buffer.from("pax value with = and \n newline")],
          ]),
        },
        data: Buffer.from("ELF"),
      },
      {
        entry: { name: long(150), type: "file", uid: 3_000_000, gid: 70_000_000_000, mtime: 1_600_000_000.125 },
      },
      { entry: { name: "ünïcödé/файл", type: "symlink", linkname: long(140) } },
      { entry: { name: "d", type: "dir", xattrs: new Map([["trusted.overlay.opaque", Buffer.from("y")]]) } },
    ]),
  );
  // GNU: long name and long link records, GNU magic.
  seeds.push(
    Buffer.concat([
      gnuLong("L", long(200)),
      member({ name: long(200).slice(0, 99), magic: "gnu" }, Buffer.from("gnu long name")),
      gnuLong("L", `${long(130)}/link`),
      gnuLong("K", `${long(130)}/target`),
      member({ name: "short", typeflag: "2", linkname: "short-target", magic: "gnu" }),
      member({ name: "dir/", typeflag: "5", mode: 0o755, magic: "gnu" }),
      END,
    ]),
  );
  // Whiteouts and opaque markers, with an implicit parent and a later replacement.
  seeds.push(
    Buffer.concat([
      member({ name: "a/", typeflag: "5", mode: 0o755 }),
      member({ name: "a/.wh..wh..opq" }),
      member({ name: "a/new" }, Buffer.from("new")),
      member({ name: ".wh.gone" }),
      member({ name: "x/y/file" }, Buffer.from("implicit parents")),
      member({ name: "x/.wh.y" }),
      member({ name: "x", typeflag: "2", linkname: "a" }),
      member({ name: ".wh..wh.plnk" }),
      END,
    ]),
  );
  // Global and per-entry PAX records, overriding header fields.
  seeds.push(
    Buffer.concat([
      paxMember(
        [
          ["mtime", "1600000000.5"],
          ["uid", "77"],
          ["comment", "global"],
        ],
        "g",
      ),
      paxMember([
        ["path", "pax/overridden-name"],
        ["size", "5"],
        ["gid", "88"],
        ["atime", "1600000001.25"],
        ["SCHILY.xattr.user.bin", new Uint8Array([0, 255, 10, 61])],
      ]),
      member({ name: "header-name", size: 0 }, Buffer.from("hello")),
      paxMember([["linkpath", "pax/overridden-name"]]),
      member({ name: "hard", typeflag: "1", linkname: "ignored" }),
      END,
    ]),
  );
  // ustar prefix field, v7 header, base-256 numbers, a trailing-slash directory of type '0'.
  seeds.push(
    Buffer.concat([
      member({ name: "name-part", prefix: `${"p".repeat(80)}/prefix-part` }, Buffer.from("prefixed")),
      member({ name: "v7dir/", magic: "v7" }),
      member({ name: "v7dir/file", magic: "v7", mode: 0o600 }, Buffer.from("v7")),
      member({ name: "big-uid", magic: "gnu", uid: new Uint8Array([0x80, 0, 0, 0, 0, 0x10, 0, 0]) }),
      member({ name: "typeless", typeflag: "\0" }, Buffer.from("old")),
      END,
      Buffer.alloc(1024),
    ]),
  );
  // An archive without end blocks, and one whose data is cut short.
  seeds.push(member({ name: "no-end" }, Buffer.from("x".repeat(700))));
  seeds.push(member({ name: "cut", size: 4096 }, Buffer.from("short")).subarray(0, 1024));
  return seeds;
}
