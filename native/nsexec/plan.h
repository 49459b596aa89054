/*
 * The plan nsexec carries out: its opcodes and its encoding, as src/runc/plan/ops.ts writes them.
 *
 * Encoding (little-endian): "BRTH", u32 total length of the plan in bytes, u32 op count, then per op:
 *   u16 opcode, u16 argc, then argc times (u32 length, bytes). Strings carry a trailing NUL;
 *   integers are 8-byte little-endian.
 */
#ifndef NSEXEC_PLAN_H
#define NSEXEC_PLAN_H
#include <stddef.h>
#include <stdint.h>

/* Opcodes: keep in step with src/runc/plan/ops.ts. Retired numbers (2, 39, 41, 44) are not reused. */
enum {
  OP_SETNS = 1,          /* path, nstype */
  OP_CONSOLE_CONNECT = 3,/* unix socket path */
  OP_FIFO_OPEN = 4,      /* exec fifo path (O_PATH, reopened for writing later) */
  OP_IDMAP = 5,          /* "uid_map"|"gid_map"|"setgroups", contents: parent writes for child */
  OP_CLONE = 6,          /* flags, mode */
  OP_SETRESUID = 7,      /* uid */
  OP_SETRESGID = 8,      /* gid */
  OP_SETSID = 9,
  OP_MOUNT = 10,         /* root("" = none), src, dest, fstype, flags, data, mkkind */
  OP_MKDIR = 11,         /* root, path, mode */
  OP_MKNOD = 12,         /* root, path, mode(type|perm), major, minor, uid, gid */
  OP_SYMLINK = 13,       /* root, target, linkpath */
  OP_SYNC = 14,          /* hook phase name */
  OP_RUN_HOOK = 15,      /* path, timeout-seconds, state index, argc, args..., env... */
  OP_PIVOT_ROOT = 16,    /* root */
  OP_MOVE_ROOT = 17,     /* root (no pivot: MS_MOVE + chroot) */
  OP_MASK_PATH = 18,     /* path */
  OP_REMOUNT = 19,       /* root, path, flags, keep-locked(0/1), recursive attr set, attr clear */
  OP_WRITE_PROC = 20,    /* path under /proc, data: written only through a procfs nothing is mounted into */
  OP_SETHOSTNAME = 21,   /* name */
  OP_SETDOMAINNAME = 22, /* name */
  OP_LOOPBACK_UP = 23,
  OP_CONSOLE_SETUP = 24, /* rows, cols, bind-console (1: the init's pty becomes /dev/console) */
  OP_RLIMIT = 25,        /* resource, soft, hard */
  OP_UMASK = 26,         /* mask */
  OP_CHDIR = 27,         /* path */
  OP_WAIT_FIFO = 28,
  OP_SETGROUPS = 29,     /* gid... */
  OP_DROP_BOUNDING = 30, /* keep-mask */
  OP_KEEPCAPS = 31,      /* 0/1 */
  OP_CAPSET = 32,        /* effective, permitted, inheritable */
  OP_AMBIENT = 33,       /* mask */
  OP_NO_NEW_PRIVS = 34,
  OP_SECCOMP = 35,       /* flags, program bytes, hand the listener fd to the parent half (0/1) */
  OP_EXEC = 36,          /* PATH value, argc, args..., env... */
  OP_SET_PROPAGATION = 37,/* root ("" = none), path, flags (resolved inside root) */
  OP_CLOSE_FDS = 38,     /* first fd to keep open after exec is 3..first-1 */
  OP_PERSONALITY = 40,   /* persona */
  OP_LOOKUP = 42,        /* PATH value, file: resolve the executable now */
  OP_UNSHARE = 43,       /* flags (namespaces that only children enter, e.g. time) */
  OP_NEW_KEYRING = 45,   /* name: join a fresh session keyring */
  OP_CONSOLE_PAIR = 46,  /* the parent half receives the pty master and relays stdio (run -t) */
  OP_STDIO_PIPES = 47,   /* the child gets pipes for 0,1,2; the parent half relays them (run, exec) */
  OP_CHMOD = 48,         /* root, path, mode (resolved inside root) */
  OP_CGROUP_OPEN = 49,   /* cgroup.procs path: opened now (before joining a mount namespace) */
  OP_CGROUP_JOIN_OPENED = 50, /* write own pid into every file CGROUP_OPEN opened */
  OP_BPF_DEVICE_FILTER = 51,  /* cgroup v2 dir, eBPF program: the device policy, attached to the cgroup */
  OP_SECCOMP_LISTENER = 52,   /* seccomp agent socket path: connected now (in the host's mount namespace) */
  OP_CHROOT = 53,        /* root (no mount namespace of its own: chroot only, nothing mounted or moved) */
};

/* The largest plan read (src/runc/plan/ops.ts MAX_PLAN_BYTES): a bound on what a header may ask for. */
#define MAX_PLAN ((size_t)256 << 20)

struct arg { uint32_t len; const unsigned char *p; };
struct op { uint16_t code; uint16_t argc; struct arg *args; };

/* Pure (no syscall, no exit), so native/fuzz/ can fuzz them. */
struct op *decode_plan_buf(const unsigned char *buf, size_t len, uint32_t *count, const char **why);
void free_plan(struct op *ops, uint32_t n);

/* Reading the plan and its arguments; each fails (ERR on the sync socket, exit 1) on what is missing
 * or does not fit, so an op handler can take its arguments as given. */
unsigned char *read_plan(int fd, size_t *out_len);
struct op *decode_plan(const unsigned char *buf, size_t len, uint32_t *count);
const char *S(struct op *o, int i);
int64_t N(struct op *o, int i);
int count_arg(struct op *o, int i, int from);
char **collect_strings(struct op *o, int from, int count);

#endif
