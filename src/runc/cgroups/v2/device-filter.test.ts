import assert from "node:assert/strict";
import { test } from "node:test";
import { devicePolicy } from "../devices.ts";
import { deviceFilterProgram } from "./device-filter.ts";

/** Runs the program on one request, interpreting just the opcodes the compiler emits. */
function run(prog: Buffer, type: "b" | "c", access: string, major: number, minor: number): number {
  const acc = [...access].reduce((m, c) => m | ({ m: 1, r: 2, w: 4 } as Record<string, number>)[c]!, 0);
  const ctx = [(acc << 16) | (type === "b" ? 1 : 2), major, minor];
  const r = new Array<bigint>(11).fill(0n);
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = prog.readUInt8(pc * 8);
    const dst = prog.readUInt8(pc * 8 + 1) & 0xf;
    const src = prog.readUInt8(pc * 8 + 1) >> 4;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = BigInt.asUintN(64, BigInt(prog.readInt32LE(pc * 8 + 4)));
    switch (code) {
      case 0x61: // ldx w: r1 is the context
        assert.equal(src, 1);
        r[dst] = BigInt(ctx[off / 4]!);
        break;
      case 0xbf:
        r[dst] = r[src]!;
        break;
      case 0xb7:
        r[dst] = imm;
        break;
      case 0x57:
        r[dst] = r[dst]! & imm;
        break;
      case 0x77:
        r[dst] = r[dst]! >> imm;
        break;
      case 0x55:
        if (r[dst] !== imm) pc += off;
        break;
      case 0x15:
        if (r[dst] === imm) pc += off;
        break;
      case 0x95:
        return Number(r[0]);
      default:
        assert.fail(`unexpected opcode ${code.toString(16)}`);
    }
  }
  return assert.fail("fell off the end of the program");
}

test("allow-list: only what the rules grant, with every requested access bit covered", () => {
  const prog = deviceFilterProgram(
    devicePolicy([
      { allow: false, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rw" },
      { allow: true, type: "c", major: 136, access: "rwm" },
      { allow: true, type: "b", access: "m" },
    ]),
  );
  assert.equal(run(prog, "c", "rw", 1, 3), 1);
  assert.equal(run(prog, "c", "r", 1, 3), 1);
  assert.equal(run(prog, "c", "m", 1, 3), 0, "mknod not granted for /dev/null");
  assert.equal(run(prog, "c", "rw", 1, 5), 0);
  assert.equal(run(prog, "c", "rw", 136, 7), 1, "wildcard minor");
  assert.equal(run(prog, "b", "m", 8, 0), 1, "mknod of any block device");
  assert.equal(run(prog, "b", "r", 8, 0), 0, "but not reading it");
});

test("deny-list: everything but the denied access", () => {
  const prog = deviceFilterProgram(
    devicePolicy([
      { allow: true, access: "rwm" },
      { allow: false, type: "b", major: 8, access: "rw" },
    ]),
  );
  assert.equal(run(prog, "b", "r", 8, 1), 0);
  assert.equal(run(prog, "b", "m", 8, 1), 1);
  assert.equal(run(prog, "c", "rw", 1, 3), 1);
});

test("deny all", () => {
  const prog = deviceFilterProgram(devicePolicy([{ allow: false, access: "rwm" }]));
  assert.equal(run(prog, "c", "r", 1, 3), 0);
});
