// Public surface of the seccomp compiler.

export { ARCHES, type ArchDef, type ArchName, hostArch } from "./arch.ts";
export { type CompiledSeccomp, type CompileOptions, compileSeccomp, SeccompProgramTooLargeError } from "./compile.ts";
export { knownActions, knownArchitectures, knownFlags, knownOperators } from "./features.ts";
