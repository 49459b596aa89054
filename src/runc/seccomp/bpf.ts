// A small classic-BPF assembler with symbolic labels. Conditional jumps carry only 8-bit offsets, so
// assemble() rewrites any branch that lands too far into a short hop to an unconditional BPF_JA,
// whose offset is 32 bits.

import {
  BPF_ABS,
  BPF_ALU,
  BPF_AND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_RET,
  BPF_W,
} from "./constants.ts";

export type Label = { readonly id: number };
export type JumpOp = "jeq" | "jgt" | "jge" | "jset";

type Item =
  | { kind: "ld"; k: number }
  | { kind: "and"; k: number }
  | { kind: "ret"; k: number }
  | { kind: "ja"; target: Label }
  | { kind: "jmp"; op: JumpOp; k: number; jt: Label; jf: Label }
  | { kind: "bind"; label: Label };

const JUMP_CODES: Record<JumpOp, number> = { jeq: BPF_JEQ, jgt: BPF_JGT, jge: BPF_JGE, jset: BPF_JSET };

/** Raised when a label is jumped to but never bound, or bound before its jump (BPF only jumps forward). */
export class BpfAssemblyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BpfAssemblyError";
  }
}

export class BpfBuilder {
  #items: Item[] = [];
  #nextLabel = 0;

  label(): Label {
    return { id: this.#nextLabel++ };
  }

  bind(label: Label): void {
    this.#items.push({ kind: "bind", label });
  }

  /** A = *(u32 *)(seccomp_data + offset) */
  load(offset: number): void {
    this.#items.push({ kind: "ld", k: offset });
  }

  and(mask: number): void {
    this.#items.push({ kind: "and", k: mask >>> 0 });
  }

  ret(k: number): void {
    this.#items.push({ kind: "ret", k: k >>> 0 });
  }

  jump(target: Label): void {
    this.#items.push({ kind: "ja", target });
  }

  /** if (A <op> k) goto jt else goto jf; comparisons are unsigned 32-bit. */
  branch(op: JumpOp, k: number, jt: Label, jf: Label): void {
    this.#items.push({ kind: "jmp", op, k: k >>> 0, jt, jf });
  }

  /** Resolves labels (inserting long-jump hops where needed) and encodes struct sock_filter[]. */
  assemble(): Buffer {
    const items = this.#items.slice();
    for (;;) {
      const { pos, labels } = layout(items);
      let changed = false;
      for (let i = items.length - 1; i >= 0; i--) {
        const it = items[i]!;
        if (it.kind !== "jmp") continue;
        const at = pos[i]!;
        const farT = offsetOf(labels, it.jt, at) > 255;
        const farF = offsetOf(labels, it.jf, at) > 255;
        if (!farT && !farF) continue;
        changed = true;
        const extra: Item[] = [];
        let jt = it.jt;
        let jf = it.jf;
        if (farT) {
          const hop = this.label();
          extra.push({ kind: "bind", label: hop }, { kind: "ja", target: it.jt });
          if (it.jf.id === it.jt.id) jf = hop;
          jt = hop;
        }
        if (farF && jf.id === it.jf.id) {
          const hop = this.label();
          extra.push({ kind: "bind", label: hop }, { kind: "ja", target: it.jf });
          jf = hop;
        }
        items.splice(i, 1, { ...it, jt, jf }, ...extra);
      }
      if (!changed) return encode(items, layout(items));
    }
  }
}

interface Layout {
  pos: number[];
  labels: Map<number, number>;
}

function layout(items: Item[]): Layout {
  const pos: number[] = [];
  const labels = new Map<number, number>();
  let n = 0;
  for (const it of items) {
    pos.push(n);
    if (it.kind === "bind") labels.set(it.label.id, n);
    else n++;
  }
  return { pos, labels };
}

function offsetOf(labels: Map<number, number>, target: Label, at: number): number {
  const dest = labels.get(target.id);
  if (dest === undefined) throw new BpfAssemblyError(`label ${target.id} is never bound`);
  const off = dest - (at + 1);
  if (off < 0) throw new BpfAssemblyError(`backward jump to label ${target.id}`);
  return off;
}

function encode(items: Item[], { pos, labels }: Layout): Buffer {
  const insns = items.filter((it) => it.kind !== "bind").length;
  const buf = Buffer.alloc(insns * 8);
  let o = 0;
  const put = (code: number, jt: number, jf: number, k: number): void => {
    buf.writeUInt16LE(code, o);
    buf.writeUInt8(jt, o + 2);
    buf.writeUInt8(jf, o + 3);
    buf.writeUInt32LE(k >>> 0, o + 4);
    o += 8;
  };
  items.forEach((it, i) => {
    const at = pos[i]!;
    if (it.kind === "ld") put(BPF_LD | BPF_W | BPF_ABS, 0, 0, it.k);
    else if (it.kind === "and") put(BPF_ALU | BPF_AND | BPF_K, 0, 0, it.k);
    else if (it.kind === "ret") put(BPF_RET | BPF_K, 0, 0, it.k);
    else if (it.kind === "ja") put(BPF_JMP | BPF_JA, 0, 0, offsetOf(labels, it.target, at));
    else if (it.kind === "jmp") {
      put(BPF_JMP | JUMP_CODES[it.op] | BPF_K, offsetOf(labels, it.jt, at), offsetOf(labels, it.jf, at), it.k);
    }
  });
  return buf;
}
