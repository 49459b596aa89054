// linux.seccomp -> a classic-BPF seccomp program with libseccomp/runc semantics.
//
// Layout: check seccomp_data.arch against each arch in the filter (anything else gets the bad-arch
// action, SCMP_ACT_KILL as libseccomp's default, which runc keeps); per arch, a binary search over
// sorted syscall-number ranges picks a return value or a block of argument checks. Each arch
// section ends with its shared return instructions.

import { InvalidSpecError } from "../../common/errors.ts";
import type { Seccomp } from "../config/types.ts";
import { type ArchDef, type ArchName, archDef, hostArch, X32_SYSCALL_BIT } from "./arch.ts";
import { BpfBuilder, type Label } from "./bpf.ts";
import { emitCondition } from "./conditions.ts";
import {
  BPF_MAXINSNS,
  ENOSYS,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_NR,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_THREAD,
} from "./constants.ts";
import { normalizeProfile } from "./profile.ts";
import { largestNamed, resolveArch, type SyscallEntry } from "./ruleset.ts";

export interface CompileOptions {
  /** The arch libseccomp calls native; always part of the filter. Default: this process's arch. */
  nativeArch?: ArchName;
  /**
   * runc prepends a stub that returns -ENOSYS for syscall numbers above the largest one the profile
   * names (per listed arch), so that programs fall back from syscalls newer than the profile.
   * It is skipped when the default action is ALLOW, LOG or TRACE. Default: true (as runc).
   */
  enosysStub?: boolean;
  /** Return value for a foreign arch. Default: SECCOMP_RET_KILL_THREAD (libseccomp's default). */
  badArchAction?: number;
}

export interface CompiledSeccomp {
  /** struct sock_filter[]: u16 code, u8 jt, u8 jf, u32 k, little-endian. */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* bits for seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog). */
  flags: number;
  /** Some rule uses SCMP_ACT_NOTIFY: flags include NEW_LISTENER and seccomp() returns a listener fd. */
  needsListener: boolean;
}

export class SeccompProgramTooLargeError extends InvalidSpecError {
  readonly instructions: number;
  constructor(instructions: number) {
    super(
      "linux.seccomp",
      `the filter needs ${instructions} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}`,
    );
    this.instructions = instructions;
  }
}

export function compileSeccomp(profile: Seccomp, opts: CompileOptions = {}): CompiledSeccomp {
  const p = normalizeProfile(profile);
  const native = archDef(opts.nativeArch ?? hostArch());
  const badArch = opts.badArchAction ?? SECCOMP_RET_KILL_THREAD;
  const stub =
    opts.enosysStub !== false && !["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].includes(p.defaultAction);

  // Arches grouped by AUDIT_ARCH value (x86_64 and x32 share one), native first.
  const groups = new Map<number, ArchDef[]>();
  for (const name of [native.name, ...p.architectures]) {
    const def = archDef(name);
    const g = groups.get(def.audit) ?? [];
    if (!g.includes(def)) g.push(def);
    groups.set(def.audit, g);
  }

  const b = new BpfBuilder();
  b.load(SECCOMP_DATA_ARCH);
  const sections: [ArchDef[], Label][] = [];
  for (const [audit, defs] of groups) {
    const here = b.label();
    const next = b.label();
    b.branch("jeq", audit, here, next);
    b.bind(next);
    sections.push([defs, here]);
  }
  b.ret(badArch);

  for (const [defs, label] of sections) {
    b.bind(label);
    const sec = new Section(b, p.defaultRet, badArch);
    const parts = defs.map((def) => ({
      def,
      entries: resolveArch(p, def, native),
      // runc only stubs arches the profile lists, and only if it names a syscall there.
      stubMax: stub && p.architectures.includes(def.name) ? largestNamed(p, def) : 0,
    }));
    b.load(SECCOMP_DATA_NR);
    if (defs[0]!.audit === archDef("SCMP_ARCH_X86_64").audit) {
      emitX86_64Section(sec, parts);
    } else {
      const part = parts[0]!;
      sec.dispatch(part.entries, part.stubMax);
      sec.blocks(part.entries, part.def);
    }
    sec.returns();
  }

  const program = b.assemble();
  const count = program.length / 8;
  if (count > BPF_MAXINSNS) throw new SeccompProgramTooLargeError(count);

  const needsListener = p.rules.some((r) => r.action === "SCMP_ACT_NOTIFY");
  let flags = p.flags;
  // The kernel rejects WAIT_KILLABLE_RECV without a listener, and libseccomp only sets it with one.
  if (needsListener) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  else flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  return { program, flags, needsListener };
}

interface Part {
  def: ArchDef;
  entries: Map<number, SyscallEntry>;
  stubMax: number;
}

/** x86_64 and x32 share AUDIT_ARCH_X86_64; bit 30 of the syscall number tells them apart. Without
 * x32 in the filter, x32 numbers get the bad-arch action, except -1 (a tracer skipping a syscall),
 * which libseccomp lets through to the default action. */
function emitX86_64Section(sec: Section, parts: Part[]): void {
  const b = sec.b;
  const x64 = parts.find((p) => p.def.name === "SCMP_ARCH_X86_64");
  const x32 = parts.find((p) => p.def.name === "SCMP_ARCH_X32");
  const l64 = b.label();
  const l32 = b.label();
  b.branch("jset", X32_SYSCALL_BIT, l32, l64);
  b.bind(l64);
  if (x64) sec.dispatch(x64.entries, x64.stubMax);
  else b.jump(sec.ret(sec.badArch));
  b.bind(l32);
  if (x32) sec.dispatch(x32.entries, x32.stubMax);
  else b.branch("jeq", 0xffffffff, sec.ret(sec.defaultRet), sec.ret(sec.badArch));
  for (const part of [x64, x32]) if (part) sec.blocks(part.entries, part.def);
}

/** Code generation for one arch section, with return instructions shared within the section. */
class Section {
  readonly b: BpfBuilder;
  readonly defaultRet: number;
  readonly badArch: number;
  #rets = new Map<number, Label>();
  #blocks = new Map<SyscallEntry, Label>();

  constructor(b: BpfBuilder, defaultRet: number, badArch: number) {
    this.b = b;
    this.defaultRet = defaultRet;
    this.badArch = badArch;
  }

  ret(value: number): Label {
    let l = this.#rets.get(value >>> 0);
    if (l === undefined) {
      l = this.b.label();
      this.#rets.set(value >>> 0, l);
    }
    return l;
  }

  #target(e: SyscallEntry): Label {
    if (e.unconditional !== undefined) return this.ret(e.unconditional);
    let l = this.#blocks.get(e);
    if (l === undefined) {
      l = this.b.label();
      this.#blocks.set(e, l);
    }
    return l;
  }

  /** Binary search over [lo, next lo) ranges of syscall numbers (A holds the number). */
  dispatch(entries: Map<number, SyscallEntry>, stubMax: number): void {
    const def = this.ret(this.defaultRet);
    const ranges: { lo: number; target: Label }[] = [{ lo: 0, target: def }];
    const push = (lo: number, target: Label): void => {
      const last = ranges[ranges.length - 1]!;
      if (last.target === target) return;
      if (last.lo === lo) ranges.pop();
      const prev = ranges[ranges.length - 1];
      if (prev !== undefined && prev.target === target) return;
      ranges.push({ lo, target });
    };
    for (const e of [...entries.values()].sort((x, y) => x.nr - y.nr)) {
      push(e.nr, this.#target(e));
      push(e.nr + 1, def);
    }
    if (stubMax > 0 && stubMax < 0xffffffff) push(stubMax + 1, this.ret(SECCOMP_RET_ERRNO | ENOSYS));
    if (ranges.length === 1) {
      this.b.jump(ranges[0]!.target);
      return;
    }
    this.#tree(ranges, 0, ranges.length);
  }

  #tree(ranges: { lo: number; target: Label }[], from: number, to: number): void {
    const mid = (from + to) >> 1;
    const sub = (f: number, t: number): Label => (t - f === 1 ? ranges[f]!.target : this.b.label());
    const left = sub(from, mid);
    const right = sub(mid, to);
    this.b.branch("jge", ranges[mid]!.lo, right, left);
    if (mid - from > 1) {
      this.b.bind(left);
      this.#tree(ranges, from, mid);
    }
    if (to - mid > 1) {
      this.b.bind(right);
      this.#tree(ranges, mid, to);
    }
  }

  /** Argument checks: the rules of one syscall are tried in profile order; the first match wins. */
  blocks(entries: Map<number, SyscallEntry>, arch: ArchDef): void {
    for (const e of entries.values()) {
      if (e.unconditional !== undefined || e.rules.length === 0) continue;
      this.b.bind(this.#target(e));
      e.rules.forEach((rule, i) => {
        const fail = i + 1 < e.rules.length ? this.b.label() : this.ret(this.defaultRet);
        rule.conds.forEach((c, j) => {
          const pass = j + 1 < rule.conds.length ? this.b.label() : this.ret(rule.ret);
          emitCondition(this.b, c, arch, pass, fail);
          if (j + 1 < rule.conds.length) this.b.bind(pass);
        });
        if (i + 1 < e.rules.length) this.b.bind(fail);
      });
    }
  }

  returns(): void {
    for (const [value, label] of this.#rets) {
      this.b.bind(label);
      this.b.ret(value);
    }
  }
}
