// A classic-BPF interpreter for the subset seccomp allows, used only by tests to check what a
// compiled program decides for a given struct seccomp_data. It mirrors the kernel's checks that
// matter here (forward jumps within bounds, ending in a return) and counts executed instructions.

export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: readonly (bigint | number)[];
}

export class BpfRuntimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BpfRuntimeError";
  }
}

/** Encodes struct seccomp_data (little-endian, as on the arches we test). */
export function encodeSeccompData(d: SeccompData): Buffer {
  const buf = Buffer.alloc(64);
  buf.writeInt32LE(d.nr | 0, 0);
  buf.writeUInt32LE(d.arch >>> 0, 4);
  buf.writeBigUInt64LE(d.instructionPointer ?? 0n, 8);
  for (let i = 0; i < 6; i++) {
    const v = BigInt(d.args?.[i] ?? 0) & 0xffffffffffffffffn;
    buf.writeBigUInt64LE(v, 16 + 8 * i);
  }
  return buf;
}

/** Runs the program and returns the u32 seccomp return value. */
export function runBpf(program: Buffer, data: SeccompData): number {
  const mem = encodeSeccompData(data);
  const n = program.length / 8;
  let a = 0;
  let x = 0;
  let pc = 0;
  for (let steps = 0; steps <= n; steps++) {
    if (pc >= n) throw new BpfRuntimeError(`fell off the end at ${pc}`);
    const o = pc * 8;
    const code = program.readUInt16LE(o);
    const jt = program.readUInt8(o + 2);
    const jf = program.readUInt8(o + 3);
    const k = program.readUInt32LE(o + 4);
    pc++;
    switch (code) {
      case 0x20: // ld [k]
        if (k % 4 !== 0 || k + 4 > 64) throw new BpfRuntimeError(`bad load offset ${k}`);
        a = mem.readUInt32LE(k);
        break;
      case 0x00: // ld #k
        a = k;
        break;
      case 0x54: // and #k
        a = (a & k) >>> 0;
        break;
      case 0x5c: // and x
        a = (a & x) >>> 0;
        break;
      case 0x07: // tax
        x = a;
        break;
      case 0x06: // ret #k
        return k;
      case 0x16: // ret a
        return a;
      case 0x05: // ja
        pc += k;
        break;
      case 0x15: // jeq #k
        pc += a === k ? jt : jf;
        break;
      case 0x25: // jgt #k
        pc += a > k ? jt : jf;
        break;
      case 0x35: // jge #k
        pc += a >= k ? jt : jf;
        break;
      case 0x45: // jset #k
        pc += (a & k) !== 0 ? jt : jf;
        break;
      default:
        throw new BpfRuntimeError(`unsupported opcode 0x${code.toString(16)} at ${pc - 1}`);
    }
  }
  throw new BpfRuntimeError("program did not terminate");
}

/** Kernel-style static check: every jump lands inside the program and the last insn returns. */
export function checkProgram(program: Buffer): void {
  const n = program.length / 8;
  if (n === 0 || n > 4096) throw new BpfRuntimeError(`bad length ${n}`);
  for (let pc = 0; pc < n; pc++) {
    const o = pc * 8;
    const code = program.readUInt16LE(o);
    const k = program.readUInt32LE(o + 4);
    if (code === 0x05 && pc + 1 + k >= n) throw new BpfRuntimeError(`ja out of range at ${pc}`);
    if ((code & 0x07) === 0x05 && code !== 0x05) {
      if (pc + 1 + program.readUInt8(o + 2) >= n || pc + 1 + program.readUInt8(o + 3) >= n) {
        throw new BpfRuntimeError(`jump out of range at ${pc}`);
      }
    }
  }
  const last = program.readUInt16LE((n - 1) * 8);
  if ((last & 0x07) !== 0x06) throw new BpfRuntimeError("program does not end in a return");
}
