// The native stage's instruction set (native/nsexec/plan.h) and the plan encoding it reads.
// A plan is an ordered list of ops; nsexec executes them in order and decides nothing.
// Retired numbers (2, 39, 41, 44) are not reused.
import { BerthError } from "../../common/errors.ts";

export const Op = {
  SETNS: 1,
  CONSOLE_CONNECT: 3,
  FIFO_OPEN: 4,
  IDMAP: 5,
  CLONE: 6,
  SETRESUID: 7,
  SETRESGID: 8,
  SETSID: 9,
  MOUNT: 10,
  MKDIR: 11,
  MKNOD: 12,
  SYMLINK: 13,
  SYNC: 14,
  RUN_HOOK: 15,
  PIVOT_ROOT: 16,
  MOVE_ROOT: 17,
  MASK_PATH: 18,
  REMOUNT: 19,
  WRITE_PROC: 20,
  SETHOSTNAME: 21,
  SETDOMAINNAME: 22,
  LOOPBACK_UP: 23,
  CONSOLE_SETUP: 24,
  RLIMIT: 25,
  UMASK: 26,
  CHDIR: 27,
  WAIT_FIFO: 28,
  SETGROUPS: 29,
  DROP_BOUNDING: 30,
  KEEPCAPS: 31,
  CAPSET: 32,
  AMBIENT: 33,
  NO_NEW_PRIVS: 34,
  SECCOMP: 35,
  EXEC: 36,
  SET_PROPAGATION: 37,
  CLOSE_FDS: 38,
  PERSONALITY: 40,
  LOOKUP: 42,
  UNSHARE: 43,
  NEW_KEYRING: 45,
  CONSOLE_PAIR: 46,
  STDIO_PIPES: 47,
  CHMOD: 48,
  CGROUP_OPEN: 49,
  CGROUP_JOIN_OPENED: 50,
  BPF_DEVICE_FILTER: 51,
  SECCOMP_LISTENER: 52,
  CHROOT: 53,
} as const;

export type OpCode = (typeof Op)[keyof typeof Op];
export type OpName = keyof typeof Op;

/** How the cloned process relates to nsexec's parent half. */
export const CloneMode = { CREATE: 0, WAIT: 1, EXEC_DETACH: 2 } as const;
/** What a mount target must be: DIR and FILE are made when missing; ORDINARY_DIR is a DIR that
 * must not be a symlink (procfs and sysfs: runc refuses them on anything but a plain directory). */
export const MountTargetKind = { NONE: 0, DIR: 1, FILE: 2, ORDINARY_DIR: 3 } as const;

export type OpArg = string | number | bigint | Buffer;

export interface PlanOp {
  op: OpName;
  args: OpArg[];
}

/** The most arguments one op carries: its count is a u16. */
export const MAX_OP_ARGS = 0xffff;
/** The most bytes a plan may take: nsexec refuses a larger one (MAX_PLAN in native/nsexec/plan.h). */
export const MAX_PLAN_BYTES = 256 * 1024 * 1024;

/**
 * A plan nsexec could not read as meant: too many arguments for one op, a string it would cut at
 * an embedded NUL, or too many bytes. Raised before anything is spawned; spec validation names the
 * config.json field first where one is to blame.
 */
export class PlanEncodingError extends BerthError {
  constructor(message: string) {
    super("invalid-argument", message);
  }
}

function encodeArg(a: OpArg, op: OpName, index: number): Buffer {
  if (typeof a === "string") {
    // C reads strings up to their first NUL: one inside would silently shorten a path or an arg.
    if (a.includes("\0")) throw new PlanEncodingError(`plan op ${op}: argument ${index} contains a NUL byte`);
    return Buffer.from(`${a}\0`, "utf8");
  }
  if (Buffer.isBuffer(a)) return a;
  // A number is read by C as an int64: one outside that range (or not an integer) has no meaning
  // there. Validation bounds every field; this is the backstop that keeps it a typed refusal.
  // Bigints are taken modulo 2^64, as C's uint64 fields (rlimits, seccomp args) expect.
  if (typeof a === "number" && !(Number.isInteger(a) && a >= -(2 ** 63) && a < 2 ** 63))
    throw new PlanEncodingError(`plan op ${op}: argument ${index} (${a}) is not a 64-bit integer`);
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(typeof a === "bigint" ? BigInt.asIntN(64, a) : BigInt(a));
  return b;
}

/** "BRTH", u32 total length, u32 op count, then per op: u16 code, u16 argc, (u32 len, bytes)*. */
export function encodePlan(ops: readonly PlanOp[]): Buffer {
  const parts: Buffer[] = [];
  let total = 12;
  for (const o of ops) {
    if (o.args.length > MAX_OP_ARGS)
      throw new PlanEncodingError(`plan op ${o.op}: ${o.args.length} arguments, at most ${MAX_OP_ARGS} fit`);
    const head = Buffer.alloc(4);
    head.writeUInt16LE(Op[o.op], 0);
    head.writeUInt16LE(o.args.length, 2);
    parts.push(head);
    total += 4;
    o.args.forEach((a, i) => {
      const data = encodeArg(a, o.op, i);
      const len = Buffer.alloc(4);
      len.writeUInt32LE(data.length);
      parts.push(len, data);
      total += 4 + data.length;
    });
    if (total > MAX_PLAN_BYTES) throw new PlanEncodingError(`the plan exceeds ${MAX_PLAN_BYTES} bytes`);
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(12);
  header.write("BRTH", 0, "latin1");
  header.writeUInt32LE(12 + body.length, 4);
  header.writeUInt32LE(ops.length, 8);
  return Buffer.concat([header, body]);
}
