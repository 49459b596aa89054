// Emits the check of one argument condition. seccomp_data.args are 64-bit but classic BPF is a
// 32-bit machine: on 64-bit arches the high word decides unless equal, then the low word decides
// (libseccomp's scheme). 32-bit arches only have the low word.

import type { ArchDef } from "./arch.ts";
import type { BpfBuilder, JumpOp, Label } from "./bpf.ts";
import { SECCOMP_DATA_ARGS } from "./constants.ts";
import type { Condition } from "./profile.ts";

const LE_BIT = 0x40000000;

const hi32 = (v: bigint): number => Number((v >> 32n) & 0xffffffffn);
const lo32 = (v: bigint): number => Number(v & 0xffffffffn);

export function emitCondition(b: BpfBuilder, c: Condition, arch: ArchDef, pass: Label, fail: Label): void {
  const le = (arch.audit & LE_BIT) !== 0;
  const base = SECCOMP_DATA_ARGS + 8 * c.index;
  const loOff = le ? base : base + 4;
  const hiOff = le ? base + 4 : base;
  const wide = arch.bits === 64;
  const vh = hi32(c.value);
  const vl = lo32(c.value);

  if (c.op === "SCMP_CMP_MASKED_EQ") {
    // (arg & mask) == (datum & mask); a half whose mask is zero always matches.
    const dh = (hi32(c.valueTwo) & vh) >>> 0;
    const dl = (lo32(c.valueTwo) & vl) >>> 0;
    if (wide && vh !== 0) {
      const next = vl !== 0 ? b.label() : pass;
      b.load(hiOff);
      b.and(vh);
      b.branch("jeq", dh, next, fail);
      if (vl !== 0) b.bind(next);
    }
    if (vl !== 0) {
      b.load(loOff);
      b.and(vl);
      b.branch("jeq", dl, pass, fail);
    }
    return;
  }

  if (!wide) {
    b.load(loOff);
    emitLow(b, c.op, vl, pass, fail);
    return;
  }

  const lowCheck = b.label();
  b.load(hiOff);
  switch (c.op) {
    case "SCMP_CMP_EQ":
      b.branch("jeq", vh, lowCheck, fail);
      break;
    case "SCMP_CMP_NE":
      b.branch("jeq", vh, lowCheck, pass);
      break;
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE": {
      const eq = b.label();
      b.branch("jgt", vh, pass, eq);
      b.bind(eq);
      b.branch("jeq", vh, lowCheck, fail);
      break;
    }
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE": {
      const eq = b.label();
      b.branch("jgt", vh, fail, eq);
      b.bind(eq);
      b.branch("jeq", vh, lowCheck, pass);
      break;
    }
  }
  b.bind(lowCheck);
  b.load(loOff);
  emitLow(b, c.op, vl, pass, fail);
}

const LOW: Record<Condition["op"], { op: JumpOp; negate: boolean }> = {
  SCMP_CMP_EQ: { op: "jeq", negate: false },
  SCMP_CMP_NE: { op: "jeq", negate: true },
  SCMP_CMP_GT: { op: "jgt", negate: false },
  SCMP_CMP_GE: { op: "jge", negate: false },
  SCMP_CMP_LT: { op: "jge", negate: true },
  SCMP_CMP_LE: { op: "jgt", negate: true },
  SCMP_CMP_MASKED_EQ: { op: "jeq", negate: false },
};

/** Unsigned comparison of A (one 32-bit word) with k. */
function emitLow(b: BpfBuilder, op: Condition["op"], k: number, pass: Label, fail: Label): void {
  const { op: jop, negate } = LOW[op];
  b.branch(jop, k, negate ? fail : pass, negate ? pass : fail);
}
