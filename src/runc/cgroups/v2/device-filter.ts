// cgroup v2 has no devices files: access is decided by an eBPF program of type
// BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. This compiles a device policy (see
// ../devices.ts) into that program; native/nsexec/ only loads and attaches the bytes.
//
// The program reads struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }, where
// access_type is (access << 16) | type, type BPF_DEVCG_DEV_BLOCK=1 / CHAR=2 and access
// BPF_DEVCG_ACC_MKNOD=1 / READ=2 / WRITE=4, and returns 1 to allow, 0 to deny.
import type { DeviceException, DevicePolicy } from "../devices.ts";

// eBPF opcodes (struct bpf_insn: u8 code, u8 dst:4|src:4, s16 off, s32 imm).
const LDX_MEM_W = 0x61;
const ALU64_AND_K = 0x57;
const ALU64_RSH_K = 0x77;
const ALU64_MOV_K = 0xb7;
const ALU64_MOV_X = 0xbf;
const JMP_JNE_K = 0x55;
const JMP_JEQ_K = 0x15;
const EXIT = 0x95;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });

const TYPE_BITS: Record<string, number> = { b: 1, c: 2 };
const ACCESS_BITS: Record<string, number> = { m: 1, r: 2, w: 4 };

function accessMask(access: string): number {
  let m = 0;
  for (const ch of access) m |= ACCESS_BITS[ch] ?? 0;
  return m;
}

/**
 * One exception's test: falls through to "matched" or jumps past its own end. In allow-list
 * mode a request matches when every access bit it asks for is granted; in deny-list mode when
 * it asks for any denied bit (the v1 controller's semantics).
 */
export function exceptionBlock(e: DeviceException, allowList: boolean, verdict: number): Insn[] {
  const checks: ((skip: number) => Insn[])[] = [];
  if (e.type !== "a") checks.push((skip) => [insn(JMP_JNE_K, 3, 0, skip, TYPE_BITS[e.type]!)]);
  const mask = accessMask(e.access);
  if (allowList) {
    // r7 = requested & ~granted; any bit left means not covered.
    checks.push((skip) => [
      insn(ALU64_MOV_X, 7, 4, 0, 0),
      insn(ALU64_AND_K, 7, 0, 0, ~mask & 0x7),
      insn(JMP_JNE_K, 7, 0, skip, 0),
    ]);
  } else {
    checks.push((skip) => [
      insn(ALU64_MOV_X, 7, 4, 0, 0),
      insn(ALU64_AND_K, 7, 0, 0, mask),
      insn(JMP_JEQ_K, 7, 0, skip, 0),
    ]);
  }
  if (e.major >= 0) checks.push((skip) => [insn(JMP_JNE_K, 5, 0, skip, e.major)]);
  if (e.minor >= 0) checks.push((skip) => [insn(JMP_JNE_K, 6, 0, skip, e.minor)]);
  // Lay the checks out backwards so each knows how far the end of the block is.
  const tail: Insn[] = [insn(ALU64_MOV_K, 0, 0, 0, verdict), insn(EXIT, 0, 0, 0, 0)];
  let body: Insn[] = tail;
  // Each check ends in its jump, so skipping what follows it lands on the next block.
  for (const check of checks.reverse()) body = [...check(body.length), ...body];
  return body;
}

export function deviceFilterInstructions(policy: DevicePolicy): Insn[] {
  const prologue: Insn[] = [
    insn(LDX_MEM_W, 2, 1, 0, 0), // r2 = access_type
    insn(ALU64_MOV_X, 3, 2, 0, 0),
    insn(ALU64_AND_K, 3, 0, 0, 0xffff), // r3 = type
    insn(ALU64_MOV_X, 4, 2, 0, 0),
    insn(ALU64_RSH_K, 4, 0, 0, 16), // r4 = access
    insn(LDX_MEM_W, 5, 1, 4, 0), // r5 = major
    insn(LDX_MEM_W, 6, 1, 8, 0), // r6 = minor
  ];
  const allowList = !policy.defaultAllow;
  const blocks = policy.exceptions.flatMap((e) => exceptionBlock(e, allowList, allowList ? 1 : 0));
  const fallthrough = [insn(ALU64_MOV_K, 0, 0, 0, policy.defaultAllow ? 1 : 0), insn(EXIT, 0, 0, 0, 0)];
  return [...prologue, ...blocks, ...fallthrough];
}

/** The program as struct bpf_insn bytes, little-endian. */
export function deviceFilterProgram(policy: DevicePolicy): Buffer {
  const insns = deviceFilterInstructions(policy);
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    buf.writeUInt8(i.code, n * 8);
    buf.writeUInt8(((i.src & 0xf) << 4) | (i.dst & 0xf), n * 8 + 1);
    buf.writeInt16LE(i.off, n * 8 + 2);
    buf.writeInt32LE(i.imm | 0, n * 8 + 4);
  });
  return buf;
}
