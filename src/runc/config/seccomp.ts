// The shape of linux.seccomp. Whether a profile compiles (syscall names, argument limits, arch
// combinations) is decided by the seccomp compiler; here only types and vocabulary are checked.
import {
  absolutePath,
  array,
  exactInteger,
  fail,
  integer,
  isAbsent,
  object,
  oneOf,
  optionalString,
  put,
  string,
  UINT32,
  UINT64,
} from "./decode.ts";
import { SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from "./seccomp-vocabulary.ts";
import type { Seccomp, SeccompArg, SeccompSyscall } from "./types.ts";

function decodeArg(raw: unknown, field: string): SeccompArg {
  const o = object(raw, field);
  const arg: SeccompArg = {
    index: integer(o.index, `${field}.index`, [0n, 5n]),
    // Exact: masks such as 0xffffffff00000000 do not survive a double.
    value: exactInteger(o.value, `${field}.value`, UINT64),
    op: oneOf(o.op, `${field}.op`, SECCOMP_OPERATORS),
  };
  if (!isAbsent(o.valueTwo)) arg.valueTwo = exactInteger(o.valueTwo, `${field}.valueTwo`, UINT64);
  return arg;
}

function decodeSyscall(raw: unknown, field: string): SeccompSyscall {
  const o = object(raw, field);
  if (isAbsent(o.names)) fail(`${field}.names`, "is required");
  const names = array(o.names, `${field}.names`, (v, f) => {
    const name = string(v, f);
    if (name === "") fail(f, "must not be empty");
    return name;
  });
  const sc: SeccompSyscall = { names, action: oneOf(o.action, `${field}.action`, SECCOMP_ACTIONS) };
  if (!isAbsent(o.errnoRet)) sc.errnoRet = integer(o.errnoRet, `${field}.errnoRet`, UINT32);
  if (!isAbsent(o.args)) sc.args = array(o.args, `${field}.args`, decodeArg);
  return sc;
}

export function decodeSeccomp(value: unknown, field: string): Seccomp {
  const o = object(value, field);
  if (isAbsent(o.defaultAction)) fail(`${field}.defaultAction`, "is required");
  const sc: Seccomp = { defaultAction: oneOf(o.defaultAction, `${field}.defaultAction`, SECCOMP_ACTIONS) };
  if (!isAbsent(o.defaultErrnoRet)) sc.defaultErrnoRet = integer(o.defaultErrnoRet, `${field}.defaultErrnoRet`, UINT32);
  if (!isAbsent(o.architectures)) {
    sc.architectures = array(o.architectures, `${field}.architectures`, (v, f) => oneOf(v, f, SECCOMP_ARCHS));
  }
  if (!isAbsent(o.flags)) sc.flags = array(o.flags, `${field}.flags`, (v, f) => oneOf(v, f, SECCOMP_FLAGS));
  // An empty listenerPath means unset (Go's zero value), as runc reads it.
  if (!isAbsent(o.listenerPath) && o.listenerPath !== "")
    sc.listenerPath = absolutePath(o.listenerPath, `${field}.listenerPath`);
  put(sc, "listenerMetadata", optionalString(o.listenerMetadata, `${field}.listenerMetadata`));
  if (!isAbsent(o.syscalls)) sc.syscalls = array(o.syscalls, `${field}.syscalls`, decodeSyscall);
  const usesNotify =
    sc.defaultAction === "SCMP_ACT_NOTIFY" || (sc.syscalls ?? []).some((s) => s.action === "SCMP_ACT_NOTIFY");
  if (usesNotify && sc.listenerPath === undefined) {
    fail(`${field}.listenerPath`, "is required when an action is SCMP_ACT_NOTIFY");
  }
  return sc;
}
