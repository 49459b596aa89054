// Seccomp architectures as named in the runtime spec, with their AUDIT_ARCH_* tokens (the value the
// kernel puts in seccomp_data.arch) and, where we have them, their syscall tables.

import { AARCH64_SYSCALLS } from "./syscalls-aarch64.ts";
import { X32_SYSCALLS } from "./syscalls-x32.ts";
import { X86_SYSCALLS } from "./syscalls-x86.ts";
import { X86_64_SYSCALLS } from "./syscalls-x86_64.ts";

export type ArchName =
  | "SCMP_ARCH_X86"
  | "SCMP_ARCH_X86_64"
  | "SCMP_ARCH_X32"
  | "SCMP_ARCH_ARM"
  | "SCMP_ARCH_AARCH64"
  | "SCMP_ARCH_MIPS"
  | "SCMP_ARCH_MIPS64"
  | "SCMP_ARCH_MIPS64N32"
  | "SCMP_ARCH_MIPSEL"
  | "SCMP_ARCH_MIPSEL64"
  | "SCMP_ARCH_MIPSEL64N32"
  | "SCMP_ARCH_PPC"
  | "SCMP_ARCH_PPC64"
  | "SCMP_ARCH_PPC64LE"
  | "SCMP_ARCH_S390"
  | "SCMP_ARCH_S390X"
  | "SCMP_ARCH_PARISC"
  | "SCMP_ARCH_PARISC64"
  | "SCMP_ARCH_RISCV64"
  | "SCMP_ARCH_M68K"
  | "SCMP_ARCH_SH"
  | "SCMP_ARCH_SHEB"
  | "SCMP_ARCH_LOONGARCH64";

export interface ArchDef {
  name: ArchName;
  /** AUDIT_ARCH_* value; x32 shares x86_64's and is told apart by the syscall number's bit 30. */
  audit: number;
  /** 64-bit arches compare both halves of an argument; 32-bit ones only the low word. */
  bits: 32 | 64;
  /** Syscall table, or undefined when we have none (every rule is then skipped for that arch). */
  syscalls: ReadonlyMap<string, number> | undefined;
}

const LE = 0x40000000;
const B64 = 0x80000000;
const MIPS64N32 = 0x20000000;
// EM_* machine numbers (linux/elf-em.h).
const EM_386 = 3;
const EM_MIPS = 8;
const EM_PPC = 20;
const EM_PPC64 = 21;
const EM_S390 = 22;
const EM_ARM = 40;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const EM_68K = 4;
const EM_PARISC = 15;
const EM_SH = 42;
const EM_RISCV = 243;
const EM_LOONGARCH = 258;

const u32 = (n: number): number => n >>> 0;

export const X32_SYSCALL_BIT = 0x40000000;
export const AUDIT_ARCH_X86_64 = u32(EM_X86_64 | B64 | LE);

const defs: ArchDef[] = [
  { name: "SCMP_ARCH_X86", audit: u32(EM_386 | LE), bits: 32, syscalls: X86_SYSCALLS },
  { name: "SCMP_ARCH_X86_64", audit: AUDIT_ARCH_X86_64, bits: 64, syscalls: X86_64_SYSCALLS },
  { name: "SCMP_ARCH_X32", audit: AUDIT_ARCH_X86_64, bits: 32, syscalls: X32_SYSCALLS },
  { name: "SCMP_ARCH_ARM", audit: u32(EM_ARM | LE), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_AARCH64", audit: u32(EM_AARCH64 | B64 | LE), bits: 64, syscalls: AARCH64_SYSCALLS },
  { name: "SCMP_ARCH_MIPS", audit: u32(EM_MIPS), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_MIPS64", audit: u32(EM_MIPS | B64), bits: 64, syscalls: undefined },
  { name: "SCMP_ARCH_MIPS64N32", audit: u32(EM_MIPS | B64 | MIPS64N32), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_MIPSEL", audit: u32(EM_MIPS | LE), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_MIPSEL64", audit: u32(EM_MIPS | B64 | LE), bits: 64, syscalls: undefined },
  { name: "SCMP_ARCH_MIPSEL64N32", audit: u32(EM_MIPS | B64 | LE | MIPS64N32), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_PPC", audit: u32(EM_PPC), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_PPC64", audit: u32(EM_PPC64 | B64), bits: 64, syscalls: undefined },
  { name: "SCMP_ARCH_PPC64LE", audit: u32(EM_PPC64 | B64 | LE), bits: 64, syscalls: undefined },
  { name: "SCMP_ARCH_S390", audit: u32(EM_S390), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_S390X", audit: u32(EM_S390 | B64), bits: 64, syscalls: undefined },
  { name: "SCMP_ARCH_PARISC", audit: u32(EM_PARISC), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_PARISC64", audit: u32(EM_PARISC | B64), bits: 64, syscalls: undefined },
  { name: "SCMP_ARCH_RISCV64", audit: u32(EM_RISCV | B64 | LE), bits: 64, syscalls: undefined },
  { name: "SCMP_ARCH_M68K", audit: u32(EM_68K), bits: 32, syscalls: undefined },
  // libseccomp's SCMP_ARCH_SH is little-endian SuperH; SHEB the big-endian one.
  { name: "SCMP_ARCH_SH", audit: u32(EM_SH | LE), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_SHEB", audit: u32(EM_SH), bits: 32, syscalls: undefined },
  { name: "SCMP_ARCH_LOONGARCH64", audit: u32(EM_LOONGARCH | B64 | LE), bits: 64, syscalls: undefined },
];

export const ARCHES: ReadonlyMap<ArchName, ArchDef> = new Map(defs.map((d) => [d.name, d]));

export function isArchName(s: string): s is ArchName {
  return ARCHES.has(s as ArchName);
}

export function archDef(name: ArchName): ArchDef {
  return ARCHES.get(name)!;
}

/** The arch of the running Node process, i.e. what libseccomp calls the native arch. */
export function hostArch(): ArchName {
  switch (process.arch) {
    case "x64":
      return "SCMP_ARCH_X86_64";
    case "ia32":
      return "SCMP_ARCH_X86";
    case "arm64":
      return "SCMP_ARCH_AARCH64";
    case "arm":
      return "SCMP_ARCH_ARM";
    case "ppc64":
      return "SCMP_ARCH_PPC64LE";
    case "s390x":
      return "SCMP_ARCH_S390X";
    default:
      return "SCMP_ARCH_X86_64";
  }
}
