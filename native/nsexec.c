/*
 * nsexec: the native stage of berth-runc.
 *
 * Why it exists: Node is multi-threaded from its first instant, so it cannot unshare a user
 * namespace, setns into a mount namespace, or fork. This program is single-threaded; it reads a
 * plan of operations that TypeScript computed (src/runc/plan/) and carries it out, then execve()s
 * the container process. It holds no policy: every path, flag, mask and order comes from the plan.
 *
 * Usage: nsexec <plan-fd> <sync-fd>
 *   plan-fd  a socket/pipe carrying one encoded plan (see src/runc/plan/encode.ts)
 *   sync-fd  a stream socket to the runtime for short text messages, one per line:
 *            "PID <n>"            the host pid of the cloned process
 *            "HOOK <name>"        waiting; the runtime answers "OK <state-json>" or "FAIL <msg>"
 *            "SECCOMP"            a notify fd is ready for the seccomp agent; the runtime answers
 *                                 "OK <container-process-state-json>" (sent on with it) or "FAIL <msg>"
 *            "READY"              the container init blocks on the exec fifo (create finished)
 *            "EXEC"               the process called execve successfully (detached exec)
 *            "ERR <message>"      a step failed; the process exits 1 (nothing was exec'd)
 *
 * Plan encoding (little-endian): "BRTH", u32 version, u32 op count, then per op:
 *   u16 opcode, u16 argc, then argc times (u32 length, bytes). Strings carry a trailing NUL;
 *   integers are 8-byte little-endian.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

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
};

enum { CLONE_MODE_CREATE = 0, CLONE_MODE_WAIT = 1, CLONE_MODE_EXEC_DETACH = 2 };
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41) /* Linux 4.13: open the slave of a pty master */
#endif

/* The inode number of a procfs root directory. */
#define PROC_ROOT_INO 1

enum { MK_NONE = 0, MK_DIR = 1, MK_FILE = 2, MK_ORDINARY_DIR = 3 };

struct arg { uint32_t len; const unsigned char *p; };
struct op { uint16_t code; uint16_t argc; struct arg *args; };

/* Frees what decode_plan_buf allocated (ops[0..n), any of whose args may still be NULL). */
static void free_plan(struct op *ops, uint32_t n) {
  if (!ops) return;
  for (uint32_t i = 0; i < n; i++) free(ops[i].args);
  free(ops);
}

static int sync_fd = -1;
/* cgroup.procs files opened in the host's view, joined later from inside the container's. */
static int cgroup_fds[16];
static int cgroup_fd_count = 0;
static int console_fd = -1;
/* Pipes for the child's stdio ([0] read end, [1] write end), relayed by the parent half. */
static int stdio_pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
/* Parent half's end of a console socketpair: it receives the pty master and relays stdio. */
static int console_recv_fd = -1;
/* The seccomp agent's socket, connected before any namespace is joined, and the pair over which the
 * process hands its notify fd back: the parent half sends it on ([0] parent half, [1] child). */
static int seccomp_agent_fd = -1;
static int seccomp_pair[2] = {-1, -1};
static int fifo_fd = -1;
/* States the runtime sent at the hook sync point (tab-separated); a hook gets one on stdin. */
static char *hook_states[4];
static const char *current_step = "start";
/* Write end of the clone's error pipe in the child, on which it tells its parent half how far it
 * got ('r' ready at the exec fifo, 'x' calling execve, 'e' failed; see run_parent). */
static int err_write_fd = -1;
/* Past the exec fifo nobody reads the sync socket: fail() also writes to the process's stderr. */
static int errors_to_stderr = 0;

static void send_line(const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof(buf) - 2) n = sizeof(buf) - 2;
  for (int i = 0; i < n; i++) if (buf[i] == '\n') buf[i] = ' ';
  buf[n++] = '\n';
  /* MSG_NOSIGNAL: after `create` returns nobody reads; a failure must not turn into SIGPIPE. */
  if (sync_fd >= 0) { ssize_t w = send(sync_fd, buf, n, MSG_NOSIGNAL); if (w < 0 && errno == ENOTSOCK) w = write(sync_fd, buf, n); (void)w; }
}

static void __attribute__((noreturn)) fail(const char *fmt, ...) {
  char msg[3000];
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  if (saved) send_line("ERR %s: %s: %s", current_step, msg, strerror(saved));
  else send_line("ERR %s: %s", current_step, msg);
  /* As runc's init does: the caller of `start` sees the error where the process's output goes. */
  if (errors_to_stderr) {
    signal(SIGPIPE, SIG_IGN); /* a stderr nobody reads must not turn exit 1 into a signal */
    dprintf(2, "%s%s%s\n", msg, saved ? ": " : "", saved ? strerror(saved) : "");
  }
  if (err_write_fd >= 0) { ssize_t w = write(err_write_fd, "e", 1); (void)w; }
  _exit(1);
}

/* ---- plan decoding ---- */

/* The largest plan read (src/runc/plan/ops.ts MAX_PLAN_BYTES): a bound on what a header may ask for. */
#define MAX_PLAN ((size_t)256 << 20)

static unsigned char *read_all(int fd, size_t *out_len) {
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  if (!buf) fail("out of memory");
  /* The plan is length-prefixed by its header so we stop at its end (the fd stays open). */
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_PLAN) { errno = 0; fail("plan larger than %zu bytes", MAX_PLAN); }
      unsigned char *bigger = realloc(buf, cap * 2);
      if (!bigger) fail("out of memory");
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) { if (errno == EINTR) continue; fail("read plan"); }
    if (n == 0) break;
    len += n;
    if (len >= 8) {
      uint32_t total; memcpy(&total, buf + 4, 4);
      if (len >= total) break;
    }
  }
  *out_len = len;
  return buf;
}

/*
 * Decodes a plan in buf (len bytes) into ops whose arguments point into buf. Pure: no syscalls and
 * no exit, so it can be fuzzed (native/fuzz/). Returns NULL with a reason in *why when the plan is
 * malformed; every length is checked against the plan's end before it is used.
 */
static struct op *decode_plan_buf(const unsigned char *buf, size_t len, uint32_t *count, const char **why) {
  if (len < 12 || memcmp(buf, "BRTH", 4) != 0) { *why = "bad plan header"; return NULL; }
  uint32_t total, n;
  memcpy(&total, buf + 4, 4);
  memcpy(&n, buf + 8, 4);
  if (total > len || total < 12) { *why = "truncated plan"; return NULL; }
  /* Every op takes at least 4 bytes: a count past that is a lie, not an allocation to attempt. */
  if (n > (total - 12) / 4) { *why = "truncated op"; return NULL; }
  struct op *ops = calloc(n ? n : 1, sizeof(*ops));
  if (!ops) { *why = "out of memory"; return NULL; }
  size_t off = 12;
  for (uint32_t i = 0; i < n; i++) {
    if (total - off < 4) { *why = "truncated op"; goto bad; }
    memcpy(&ops[i].code, buf + off, 2);
    memcpy(&ops[i].argc, buf + off + 2, 2);
    off += 4;
    ops[i].args = calloc(ops[i].argc ? ops[i].argc : 1, sizeof(struct arg));
    if (!ops[i].args) { *why = "out of memory"; goto bad; }
    for (uint16_t a = 0; a < ops[i].argc; a++) {
      if (total - off < 4) { *why = "truncated arg"; goto bad; }
      memcpy(&ops[i].args[a].len, buf + off, 4);
      off += 4;
      if (total - off < ops[i].args[a].len) { *why = "truncated arg data"; goto bad; }
      ops[i].args[a].p = buf + off;
      off += ops[i].args[a].len;
    }
  }
  *count = n;
  return ops;
bad:
  free_plan(ops, n);
  return NULL;
}

static struct op *decode_plan(const unsigned char *buf, size_t len, uint32_t *count) {
  const char *why = NULL;
  struct op *ops = decode_plan_buf(buf, len, count, &why);
  if (!ops) { errno = 0; fail("%s", why); }
  return ops;
}

static const char *S(struct op *o, int i) {
  if (i < 0 || i >= o->argc) { errno = 0; fail("op %d: missing argument %d", o->code, i); }
  const struct arg *a = &o->args[i];
  if (a->len == 0 || a->p[a->len - 1] != '\0') { errno = 0; fail("op %d: argument %d is not a string", o->code, i); }
  /* A NUL inside would silently cut the string short: refused, never truncated. */
  if (memchr(a->p, '\0', a->len - 1)) { errno = 0; fail("op %d: argument %d contains a NUL byte", o->code, i); }
  return (const char *)a->p;
}

static int64_t N(struct op *o, int i) {
  if (i < 0 || i >= o->argc || o->args[i].len != 8) { errno = 0; fail("op %d: argument %d is not an integer", o->code, i); }
  int64_t v;
  memcpy(&v, o->args[i].p, 8);
  return v;
}

/* ---- the runtime binary must not be writable from inside a container (/proc/self/exe) ---- */

static int is_sealed_self(void) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int seals = fcntl(fd, F_GET_SEALS);
  close(fd);
  return seals >= 0 && (seals & (F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW)) ==
                           (F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW);
}

static void reexec_from_sealed_copy(char **argv) {
  if (is_sealed_self()) return;
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (src < 0) fail("open /proc/self/exe");
  int mfd = memfd_create("berth-nsexec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) fail("memfd_create");
  struct stat st;
  if (fstat(src, &st) < 0) fail("fstat self");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, src, &off, st.st_size - off);
    if (n <= 0) fail("copy self");
  }
  close(src);
  if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW) < 0) fail("seal self");
  extern char **environ;
  syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
  fail("execveat sealed copy");
}

/* ---- resolving paths inside the rootfs without escaping it ---- */

/*
 * path as an absolute path with every run of slashes collapsed into out (size bytes): "a//b" and
 * "/a/b" name the same file inside a root, and a config may repeat slashes far past PATH_MAX (runc
 * accepts that). Fails with ENAMETOOLONG, writing nothing else, when even that does not fit.
 */
static int clean_path(const char *path, char *out, size_t size) {
  if (size < 2) { errno = ENAMETOOLONG; return -1; }
  size_t n = 0;
  out[n++] = '/';
  for (const char *p = path; *p; p++) {
    if (*p == '/' && out[n - 1] == '/') continue;
    if (n + 1 >= size) { errno = ENAMETOOLONG; return -1; }
    out[n++] = *p;
  }
  out[n] = '\0';
  return 0;
}

static int open_in_root(const char *root, const char *path, int flags) {
  char clean[PATH_MAX];
  if (clean_path(path, clean, sizeof(clean)) < 0) return -1;
  int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) return -1;
  struct open_how how = {0};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const char *rel = clean + 1;
  int fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
  int saved = errno;
  close(rootfd);
  errno = saved;
  return fd;
}

/*
 * mkdir -p inside root. Each prefix is resolved with RESOLVE_IN_ROOT; a component that does not
 * resolve is either created, or, if it is a dangling symlink, its target (taken inside the root)
 * is created instead, so nothing is ever made outside the rootfs.
 */
static int mkdir_in_root_depth(const char *root, const char *path, mode_t mode, int depth) {
  if (depth > 40) { errno = ELOOP; return -1; }
  /* The whole path is checked before anything is made: a path too long fails having made nothing. */
  char clean[PATH_MAX];
  if (clean_path(path, clean, sizeof(clean)) < 0) return -1;
  char cur[PATH_MAX + NAME_MAX + 2] = ""; /* same size as next: next is only ever < PATH_MAX */
  const char *p = clean;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char comp[NAME_MAX + 1];
    if (len > NAME_MAX) { errno = ENAMETOOLONG; return -1; }
    memcpy(comp, p, len);
    comp[len] = '\0';
    p += len;
    char next[PATH_MAX + NAME_MAX + 2];
    if (snprintf(next, sizeof(next), "%s/%s", cur, comp) >= PATH_MAX) { errno = ENAMETOOLONG; return -1; }
    int fd = open_in_root(root, next, O_PATH);
    if (fd >= 0) { close(fd); snprintf(cur, sizeof(cur), "%s", next); continue; }
    if (errno != ENOENT) return -1;
    int pfd = open_in_root(root, cur[0] ? cur : "/", O_PATH | O_DIRECTORY);
    if (pfd < 0) return -1;
    char target[PATH_MAX];
    ssize_t n = readlinkat(pfd, comp, target, sizeof(target) - 1);
    if (n >= 0) {
      target[n] = '\0';
      close(pfd);
      /* Slashes are collapsed before the length counts: the target may repeat them too. */
      char redirected[PATH_MAX * 2 + NAME_MAX + 3];
      int w = target[0] == '/' ? snprintf(redirected, sizeof(redirected), "%s/%s", target, p)
                               : snprintf(redirected, sizeof(redirected), "%s/%s/%s", cur, target, p);
      if (w < 0 || (size_t)w >= sizeof(redirected)) { errno = ENAMETOOLONG; return -1; }
      return mkdir_in_root_depth(root, redirected, mode, depth + 1);
    }
    int r = mkdirat(pfd, comp, mode);
    int e = errno;
    close(pfd);
    if (r < 0 && e != EEXIST) { errno = e; return -1; }
    snprintf(cur, sizeof(cur), "%s", next);
  }
  return 0;
}

static int mkdir_in_root(const char *root, const char *path, mode_t mode) {
  return mkdir_in_root_depth(root, path, mode, 0);
}

/*
 * The parent directory and last component of path (repeated and trailing slashes dropped). Fails
 * rather than truncate: ENAMETOOLONG when either part does not fit, EINVAL when there is no last
 * component to create ("/", ".", "..").
 */
static int split_parent(const char *path, char parent[PATH_MAX], char name[NAME_MAX + 1]) {
  if (clean_path(path, parent, PATH_MAX) < 0) return -1;
  size_t len = strlen(parent);
  while (len > 1 && parent[len - 1] == '/') parent[--len] = '\0';
  char *slash = strrchr(parent, '/'); /* never NULL: a clean path starts with one */
  const char *last = slash + 1;
  size_t nlen = strlen(last);
  if (nlen == 0 || strcmp(last, ".") == 0 || strcmp(last, "..") == 0) { errno = EINVAL; return -1; }
  if (nlen > NAME_MAX) { errno = ENAMETOOLONG; return -1; }
  memcpy(name, last, nlen + 1);
  slash[slash == parent ? 1 : 0] = '\0';
  return 0;
}

/* Create a file (not following a final symlink) inside root, parents included. */
static int touch_in_root(const char *root, const char *path) {
  char parent[PATH_MAX], name[NAME_MAX + 1];
  if (split_parent(path, parent, name) < 0) return -1;
  if (mkdir_in_root(root, parent, 0755) < 0) return -1;
  int pfd = open_in_root(root, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) return -1;
  int fd = openat(pfd, name, O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  int e = errno;
  close(pfd);
  if (fd < 0) { errno = e; return -1; }
  close(fd);
  return 0;
}

/* out holds 64 bytes: "/proc/self/fd/" and an int always fit. */
static void fdpath(int fd, char out[64]) { snprintf(out, 64, "/proc/self/fd/%d", fd); }

/* ---- operations ---- */

/* Fails unless dest (inside root) is missing or a directory; a symlink, even to one, is refused. */
static void require_ordinary_dir(const char *root, const char *dest, const char *fstype) {
  int fd = open_in_root(root, dest, O_PATH | O_NOFOLLOW);
  if (fd < 0) { if (errno == ENOENT) return; fail("open mount target %s", dest); }
  struct stat st;
  if (fstat(fd, &st) < 0) fail("stat %s", dest);
  close(fd);
  if (!S_ISDIR(st.st_mode)) { errno = 0; fail("mount %s on %s: filesystem \"%s\" must be mounted on ordinary directory", fstype, dest, fstype); }
}

static void op_mount(struct op *o) {
  const char *root = S(o, 0), *src = S(o, 1), *dest = S(o, 2), *fstype = S(o, 3);
  unsigned long flags = (unsigned long)N(o, 4);
  const char *data = S(o, 5);
  int mk = (int)N(o, 6);
  /* Without a root the destination is a host path the kernel takes as is (never a truncated copy). */
  char fdtarget[64];
  const char *target = dest;
  int tfd = -1;

  if (root[0]) {
    /* procfs and sysfs go on a plain directory only: never through a symlink the image made. */
    if (mk == MK_ORDINARY_DIR) require_ordinary_dir(root, dest, fstype);
    if ((mk == MK_DIR || mk == MK_ORDINARY_DIR) && mkdir_in_root(root, dest, 0755) < 0) fail("mkdir %s", dest);
    if (mk == MK_FILE && touch_in_root(root, dest) < 0) fail("create %s", dest);
    tfd = open_in_root(root, dest, O_PATH | (mk == MK_ORDINARY_DIR ? O_NOFOLLOW | O_DIRECTORY : 0));
    if (tfd < 0) fail("open mount target %s", dest);
    fdpath(tfd, fdtarget);
    target = fdtarget;
  }
  unsigned long first = flags;
  /* A bind mount ignores most flags: mount it, then remount with them. */
  int bind_remount = (flags & MS_BIND) && (flags & ~(MS_BIND | MS_REC | MS_SILENT)) != 0;
  if (bind_remount) first = flags & (MS_BIND | MS_REC | MS_SILENT);
  if (mount(src[0] ? src : NULL, target, fstype[0] ? fstype : NULL, first, data[0] ? data : NULL) < 0)
    fail("mount %s on %s (%s)", src, dest, fstype);
  if (bind_remount) {
    /* Re-open: the target path now names the new mount. */
    if (tfd >= 0) { close(tfd); tfd = open_in_root(root, dest, O_PATH); if (tfd < 0) fail("reopen %s", dest); fdpath(tfd, fdtarget); }
    unsigned long rf = (flags & ~MS_REC) | MS_REMOUNT | MS_BIND;
    if (mount(NULL, target, NULL, rf, NULL) < 0) {
      /* Flags the kernel locked on the source (e.g. from a user namespace) must be kept. */
      struct statvfs sv;
      if (errno != EPERM || statvfs(target, &sv) < 0) fail("remount %s", dest);
      if (sv.f_flag & ST_NOSUID) rf |= MS_NOSUID;
      if (sv.f_flag & ST_NODEV) rf |= MS_NODEV;
      if (sv.f_flag & ST_NOEXEC) rf |= MS_NOEXEC;
      if (sv.f_flag & ST_RDONLY) rf |= MS_RDONLY;
      if (mount(NULL, target, NULL, rf, NULL) < 0) fail("remount %s", dest);
    }
  }
  if (tfd >= 0) close(tfd);
}

/* Changes the propagation of the mount at path; with a root, path is resolved inside it. */
static void op_set_propagation(struct op *o) {
  const char *root = S(o, 0), *path = S(o, 1);
  unsigned long flags = (unsigned long)N(o, 2);
  char fdtarget[64];
  const char *target = path;
  int fd = -1;
  if (root[0]) {
    fd = open_in_root(root, path, O_PATH);
    if (fd < 0) fail("open %s", path);
    fdpath(fd, fdtarget);
    target = fdtarget;
  }
  if (mount(NULL, target, NULL, flags, NULL) < 0) fail("set propagation of %s", path);
  if (fd >= 0) close(fd);
}

static void op_remount(struct op *o) {
  const char *root = S(o, 0), *path = S(o, 1);
  unsigned long flags = (unsigned long)N(o, 2);
  int keep_locked = (int)N(o, 3);
  char fdtarget[64];
  const char *target = path;
  int fd = -1;
  if (root[0]) {
    fd = open_in_root(root, path, O_PATH);
    if (fd < 0) { if (errno == ENOENT) return; fail("open %s", path); }
    fdpath(fd, fdtarget);
    target = fdtarget;
  }
  if (keep_locked) {
    /* Flags the kernel locked (e.g. in a user namespace) must be repeated in a remount. */
    struct statvfs sv;
    if (statvfs(target, &sv) == 0) {
      if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
      if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
      if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    }
  }
  if (mount(NULL, target, NULL, flags | MS_REMOUNT, NULL) < 0) {
    /* A path that is not yet a mount point must first become one (readonly paths). */
    if (errno == EINVAL && (flags & MS_BIND)) {
      if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0) fail("bind %s", path);
      if (fd >= 0) { close(fd); fd = open_in_root(root, path, O_PATH); if (fd < 0) fail("reopen %s", path); fdpath(fd, fdtarget); }
      if (mount(NULL, target, NULL, flags | MS_REMOUNT, NULL) < 0) fail("remount %s", path);
    } else fail("remount %s", path);
  }
  if (fd >= 0) close(fd);
}

static void op_mask_path(struct op *o) {
  const char *path = S(o, 0);
  struct stat st;
  int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) { if (errno == ENOENT) return; fail("open masked path %s", path); }
  if (fstat(fd, &st) < 0) fail("stat %s", path);
  char target[64];
  fdpath(fd, target);
  if (S_ISDIR(st.st_mode)) {
    if (mount("tmpfs", target, "tmpfs", MS_RDONLY, NULL) < 0) fail("mask %s", path);
  } else {
    /* /dev/null inside the container must be the real null device before it covers anything. */
    int nfd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    struct stat ns;
    if (nfd < 0 || fstat(nfd, &ns) < 0) fail("open /dev/null");
    if (!S_ISCHR(ns.st_mode) || major(ns.st_rdev) != 1 || minor(ns.st_rdev) != 3) { errno = 0; fail("/dev/null is not the null device"); }
    char src[64];
    fdpath(nfd, src);
    if (mount(src, target, NULL, MS_BIND, NULL) < 0) fail("mask %s", path);
    close(nfd);
  }
  close(fd);
}

/*
 * Opens a file under /proc for writing only through a procfs nothing is mounted into: "/proc" must
 * be the root of a procfs mount (not a symlink, another filesystem or a procfs subdirectory bound
 * there), and the rest of the path is resolved below it without crossing a mount, so a file or
 * directory mounted over any component (even another procfs file) is refused, not written.
 */
static int open_proc_for_write(const char *path) {
  if (strncmp(path, "/proc/", 6) != 0 || !path[6]) { errno = 0; fail("%s is not under /proc", path); }
  int root = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (root < 0) fail("open /proc");
  struct statfs sf;
  struct stat st;
  if (fstatfs(root, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC || fstat(root, &st) < 0 || st.st_ino != PROC_ROOT_INO) {
    errno = 0;
    fail("/proc is not the root of a procfs mount (writing %s)", path);
  }
  struct open_how how = {0};
  how.flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
  int fd = (int)syscall(SYS_openat2, root, path + 6, &how, sizeof(how));
  if (fd < 0 && errno == EXDEV) fail("open %s: something is mounted over it or over a directory on its way", path);
  if (fd < 0) fail("open %s", path);
  close(root);
  if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC) { errno = 0; fail("%s is not on procfs", path); }
  return fd;
}

static void op_write_proc(struct op *o) {
  const char *path = S(o, 0), *data = S(o, 1);
  int fd = open_proc_for_write(path);
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) fail("write %s", path);
  close(fd);
}

static void op_mknod(struct op *o) {
  const char *root = S(o, 0), *path = S(o, 1);
  mode_t mode = (mode_t)N(o, 2);
  dev_t dev = makedev((unsigned)N(o, 3), (unsigned)N(o, 4));
  uid_t uid = (uid_t)N(o, 5);
  gid_t gid = (gid_t)N(o, 6);
  char parent[PATH_MAX], name[NAME_MAX + 1];
  if (split_parent(path, parent, name) < 0) fail("mknod %s", path);
  if (mkdir_in_root(root, parent, 0755) < 0) fail("mkdir %s", parent);
  int pfd = open_in_root(root, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) fail("open %s", parent);
  unlinkat(pfd, name, 0);
  if (mknodat(pfd, name, mode, dev) < 0) fail("mknod %s", path);
  int fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) fail("open %s", path);
  char p[64];
  fdpath(fd, p);
  /* mknod is subject to umask: set the exact mode. */
  if (chmod(p, mode & 07777) < 0) fail("chmod %s", path);
  if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) fail("chown %s", path);
  close(fd);
  close(pfd);
}

static void op_symlink(struct op *o) {
  const char *root = S(o, 0), *target = S(o, 1), *path = S(o, 2);
  char parent[PATH_MAX], name[NAME_MAX + 1];
  if (split_parent(path, parent, name) < 0) fail("symlink %s", path);
  if (mkdir_in_root(root, parent, 0755) < 0) fail("mkdir %s", parent);
  int pfd = open_in_root(root, parent, O_PATH | O_DIRECTORY);
  if (pfd < 0) fail("open %s", parent);
  if (symlinkat(target, pfd, name) < 0 && errno != EEXIST) fail("symlink %s", path);
  close(pfd);
}

static void op_pivot_root(const char *root) {
  int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  int newroot = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0) fail("open roots");
  if (fchdir(newroot) < 0) fail("chdir rootfs");
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root(%s)", root);
  /* The old root is now stacked under the new one at "/": detach it without propagating. */
  if (fchdir(oldroot) < 0) fail("chdir old root");
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) fail("make old root rslave");
  if (umount2(".", MNT_DETACH) < 0) fail("unmount old root");
  if (chdir("/") < 0) fail("chdir /");
  close(oldroot);
  close(newroot);
}

static void op_move_root(const char *root) {
  if (chdir(root) < 0) fail("chdir rootfs");
  if (mount(root, "/", NULL, MS_MOVE, NULL) < 0) fail("move rootfs");
  if (chroot(".") < 0) fail("chroot");
  if (chdir("/") < 0) fail("chdir /");
}

static void op_loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("socket");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof(ifr));
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fail("get lo flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fail("bring lo up");
  close(s);
}

/* Sends data with fd attached (SCM_RIGHTS) on a stream socket, then the rest if that was short. */
static int send_with_fd(int sock, int fd, const char *data, size_t len) {
  struct msghdr msg = {0};
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof(cbuf);
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  /* MSG_NOSIGNAL: a peer that went away is an error to report, not a SIGPIPE. */
  ssize_t n;
  do n = sendmsg(sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) return -1;
  for (size_t off = (size_t)n; off < len;) {
    ssize_t w = send(sock, data + off, len - off, MSG_NOSIGNAL);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    off += (size_t)w;
  }
  return 0;
}

static void send_fd(int sock, int fd, const char *name) {
  if (send_with_fd(sock, fd, name, strlen(name)) < 0) fail("send console master");
}

/* Connects a stream socket to a unix socket path; the path must fit sun_path whole. */
static int connect_unix(const char *path) {
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(sa.sun_path)) { errno = ENAMETOOLONG; return -1; }
  memcpy(sa.sun_path, path, strlen(path) + 1);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) { int e = errno; close(s); errno = e; return -1; }
  return s;
}

static void op_console_setup(struct op *o) {
  unsigned rows = (unsigned)N(o, 0), cols = (unsigned)N(o, 1);
  int bind_console = (int)N(o, 2);
  if (console_fd < 0) { errno = 0; fail("terminal requested but no console socket"); }
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail("open /dev/ptmx");
  if (unlockpt(master) < 0) fail("unlockpt");
  int ptn;
  if (ioctl(master, TIOCGPTN, &ptn) < 0) fail("get pty number");
  char slave_path[64];
  snprintf(slave_path, sizeof(slave_path), "/dev/pts/%d", ptn);
  /* The slave comes from the master itself, never from its name: whatever /dev/pts/N resolves to
   * (a link, another pty, something swapped in meanwhile) is not necessarily this pty. */
  int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail("open the slave of pty %d", ptn);
  struct stat sst;
  struct statfs ssf;
  if (fstat(slave, &sst) < 0 || fstatfs(slave, &ssf) < 0) fail("stat pty %d", ptn);
  if (!S_ISCHR(sst.st_mode) || major(sst.st_rdev) < 136 || major(sst.st_rdev) > 143 || ssf.f_type != DEVPTS_SUPER_MAGIC) {
    errno = 0;
    fail("the slave of pty %d is not a devpts pty", ptn);
  }
  if (rows || cols) {
    struct winsize ws = {.ws_row = rows, .ws_col = cols};
    ioctl(slave, TIOCSWINSZ, &ws);
  }
  /* /dev/console shows the container's terminal; it must be a plain file we created. */
  int cfd = bind_console ? open("/dev/console", O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
  if (cfd >= 0) {
    struct stat st;
    if (fstat(cfd, &st) == 0 && S_ISREG(st.st_mode)) {
      char t[64], s[64];
      fdpath(cfd, t);
      fdpath(slave, s);
      if (mount(s, t, NULL, MS_BIND, NULL) < 0) fail("bind console");
    }
    close(cfd);
  }
  send_fd(console_fd, master, slave_path);
  close(master);
  close(console_fd);
  console_fd = -1;
  for (int i = 0; i < 3; i++) if (dup2(slave, i) < 0) fail("dup2 pty");
  if (slave > 2) close(slave);
  else fcntl(slave, F_SETFD, 0); /* dup2 onto itself leaves close-on-exec set */
  if (ioctl(0, TIOCSCTTY, 0) < 0) fail("set controlling terminal");
}

static void op_wait_fifo(void) {
  if (fifo_fd < 0) { errno = 0; fail("no exec fifo"); }
  char p[64];
  fdpath(fifo_fd, p);
  /* READY goes out before the parent half may exit: it exits when it reads 'r' on err_pipe. */
  send_line("READY");
  if (err_write_fd >= 0) {
    ssize_t r = write(err_write_fd, "r", 1);
    (void)r;
    close(err_write_fd);
    err_write_fd = -1;
  }
  /* Blocks until `start` opens the fifo for reading. */
  int w = open(p, O_WRONLY | O_CLOEXEC);
  if (w < 0) fail("open exec fifo");
  if (write(w, "0", 1) != 1) fail("write exec fifo");
  close(w);
  close(fifo_fd);
  fifo_fd = -1;
  /* From here on nobody reads the sync socket (create has returned): errors go to stderr too. */
  errors_to_stderr = 1;
}

static uint64_t read_mask(struct op *o, int i) { return (uint64_t)N(o, i); }

static void op_drop_bounding(struct op *o) {
  uint64_t keep = read_mask(o, 0);
  for (int cap = 0; cap <= 63; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) { if (errno == EINVAL) break; continue; }
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) fail("drop bounding capability %d", cap);
  }
}

static void op_capset(struct op *o) {
  uint64_t eff = read_mask(o, 0), perm = read_mask(o, 1), inh = read_mask(o, 2);
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  d[0].effective = (uint32_t)eff; d[1].effective = (uint32_t)(eff >> 32);
  d[0].permitted = (uint32_t)perm; d[1].permitted = (uint32_t)(perm >> 32);
  d[0].inheritable = (uint32_t)inh; d[1].inheritable = (uint32_t)(inh >> 32);
  if (syscall(SYS_capset, &h, d) < 0) fail("capset");
}

static void op_ambient(struct op *o) {
  uint64_t amb = read_mask(o, 0);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  /* A cap missing from the inheritable set cannot be ambient (EPERM); runc tolerates that too. */
  for (int cap = 0; cap <= 63; cap++)
    if ((amb & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
      fail("raise ambient capability %d", cap);
}

static void op_seccomp(struct op *o) {
  unsigned flags = (unsigned)N(o, 0);
  if (o->argc < 2 || o->args[1].len % 8 != 0 || o->args[1].len == 0) { errno = 0; fail("bad seccomp program"); }
  int hand_over = o->argc > 2 && N(o, 2) != 0;
  struct sock_fprog prog = {.len = (unsigned short)(o->args[1].len / 8), .filter = (struct sock_filter *)o->args[1].p};
  /* The program bytes are not aligned in the plan buffer: copy them. */
  /* sock_fprog.len is 16 bits: a longer program must not load as its truncated prefix. */
  if (o->args[1].len / 8 > USHRT_MAX) { errno = 0; fail("seccomp program of %u instructions is too long", o->args[1].len / 8); }
  struct sock_filter *copy = malloc(o->args[1].len);
  if (!copy) fail("out of memory");
  memcpy(copy, o->args[1].p, o->args[1].len);
  prog.filter = copy;
  if (hand_over && seccomp_pair[1] < 0) { errno = 0; fail("no connection to the seccomp agent"); }
  long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (r < 0) fail("load seccomp filter");
  if (r > 0 && hand_over) {
    /* Never connected from here (we may be in the container's mount namespace): the parent half
     * holds the agent's connection; it answers once the fd and the state are on their way. */
    if (send_with_fd(seccomp_pair[1], (int)r, "seccomp", 7) < 0) fail("hand over seccomp notify fd");
    char ack = 0;
    ssize_t n;
    do n = read(seccomp_pair[1], &ack, 1); while (n < 0 && errno == EINTR);
    if (n != 1 || ack != 'k') { errno = 0; fail("the seccomp notify fd did not reach the agent"); }
    close(seccomp_pair[1]);
    seccomp_pair[1] = -1;
  }
  if (r > 0) close((int)r);
  free(copy);
}

/* Loads a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to a cgroup v2 directory. */
static void op_bpf_device_filter(struct op *o) {
  const char *dir = S(o, 0);
  if (o->argc < 2 || o->args[1].len == 0 || o->args[1].len % 8 != 0) { errno = 0; fail("bad device program"); }
  void *insns = malloc(o->args[1].len);
  if (!insns) fail("out of memory");
  memcpy(insns, o->args[1].p, o->args[1].len);
  static char log[8192];
  union bpf_attr load;
  memset(&load, 0, sizeof(load));
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)insns;
  load.insn_cnt = o->args[1].len / 8;
  load.license = (uint64_t)(uintptr_t)"Apache-2.0";
  load.log_buf = (uint64_t)(uintptr_t)log;
  load.log_size = sizeof(log);
  load.log_level = 1;
  int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
  if (prog < 0) fail("load device program (%.200s)", log);
  int dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dfd < 0) fail("open %s", dir);
  union bpf_attr attach;
  memset(&attach, 0, sizeof(attach));
  attach.target_fd = dfd;
  attach.attach_bpf_fd = prog;
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0) fail("attach device program to %s", dir);
  close(dfd);
  close(prog); /* the attachment holds the program until the cgroup is removed */
  free(insns);
}

static char *find_in_path(const char *file, const char *pathvar) {
  static char buf[PATH_MAX];
  if (strchr(file, '/')) return (char *)file;
  const char *p = pathvar;
  while (p && *p) {
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    /* A candidate that does not fit is skipped: a truncated one would name some other file. */
    int w = len > PATH_MAX ? -1 : snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? p : ".", file);
    struct stat st;
    if (w >= 0 && (size_t)w < sizeof(buf) && stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) return buf;
    if (!end) break;
    p = end + 1;
  }
  return NULL;
}

static char *exec_path = NULL;

static void op_lookup(struct op *o) {
  const char *file = S(o, 1);
  char *path = find_in_path(file, S(o, 0));
  if (!path) { errno = 0; fail("exec: \"%s\": executable file not found in $PATH", file); }
  struct stat st;
  if (stat(path, &st) < 0) fail("exec: \"%s\"", file);
  if (S_ISDIR(st.st_mode)) { errno = EACCES; fail("exec: \"%s\"", file); }
  if (access(path, X_OK) < 0) fail("exec: \"%s\"", file);
  exec_path = strdup(path);
  if (!exec_path) fail("out of memory");
}

/* A NULL-terminated vector of the string arguments from..from+count-1 (all of them present). */
static char **collect_strings(struct op *o, int from, int count) {
  if (from < 0 || count < 0 || from > o->argc || count > o->argc - from) {
    errno = 0;
    fail("op %d: %d strings from argument %d, but it has %d arguments", o->code, count, from, o->argc);
  }
  char **v = calloc((size_t)count + 1, sizeof(char *));
  if (!v) fail("out of memory");
  for (int i = 0; i < count; i++) v[i] = (char *)S(o, from + i);
  return v;
}

/* An argument count from the plan, checked to lie within the op's own arguments past `from`. */
static int count_arg(struct op *o, int i, int from) {
  int64_t n = N(o, i);
  if (n < 0 || n > o->argc - from) { errno = 0; fail("op %d: argument count %lld out of range", o->code, (long long)n); }
  return (int)n;
}

static void op_exec(struct op *o) {
  const char *pathvar = S(o, 0);
  int argc = count_arg(o, 1, 2);
  char **argv = collect_strings(o, 2, argc);
  char **envp = collect_strings(o, 2 + argc, o->argc - 2 - argc);
  if (argc < 1) { errno = 0; fail("no process args"); }
  char *path = exec_path ? exec_path : find_in_path(argv[0], pathvar);
  if (!path) { errno = 0; fail("exec: \"%s\": executable file not found in $PATH", argv[0]); }
  current_step = "exec";
  /* Tells the parent half that a closed err pipe from now on means execve succeeded. */
  if (err_write_fd >= 0) { ssize_t w = write(err_write_fd, "x", 1); (void)w; }
  execve(path, argv, envp);
  fail("exec %s", path);
}

/* Runs a hook inside the container's namespaces with the state on stdin, bounded by timeout. */
static void op_run_hook(struct op *o) {
  const char *path = S(o, 0);
  int timeout = (int)N(o, 1);
  int which = (int)N(o, 2);
  int argc = count_arg(o, 3, 4);
  char **argv = collect_strings(o, 4, argc);
  char **envp = collect_strings(o, 4 + argc, o->argc - 4 - argc);
  char *fallback[] = {(char *)path, NULL};
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) fail("pipe");
  pid_t pid = fork();
  if (pid < 0) fail("fork hook");
  if (pid == 0) {
    dup2(in[0], 0);
    execve(path, argc ? argv : fallback, envp);
    _exit(127);
  }
  close(in[0]);
  const char *state = which >= 0 && which < 4 && hook_states[which] ? hook_states[which] : "{}";
  ssize_t w = write(in[1], state, strlen(state));
  (void)w;
  close(in[1]);
  int status;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    pid_t r = waitpid(pid, &status, timeout > 0 ? WNOHANG : 0);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) fail("wait hook");
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (timeout > 0 && now.tv_sec - start.tv_sec >= timeout) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      errno = 0;
      fail("hook %s timed out after %ds", path, timeout);
    }
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = 0;
    fail("hook %s failed: %s %d", path, WIFEXITED(status) ? "exit status" : "signal",
         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }
}

static void op_sync(struct op *o) {
  const char *name = S(o, 0);
  send_line("HOOK %s", name);
  /* Read one line answer: "OK <state-json>" or "FAIL <msg>". */
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  if (!buf) fail("out of memory");
  for (;;) {
    if (len + 1 >= cap) {
      if (cap >= (size_t)64 << 20) { errno = 0; fail("answer from the runtime too long during %s", name); }
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) fail("out of memory");
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(sync_fd, buf + len, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { errno = 0; fail("runtime went away during %s", name); }
    if (buf[len] == '\n') break;
    len++;
  }
  buf[len] = '\0';
  if (strncmp(buf, "OK", 2) != 0) { errno = 0; fail("%s", buf); }
  char *rest = len > 3 ? buf + 3 : "";
  for (int i = 0; i < 4; i++) {
    char *tab = strchr(rest, '\t');
    if (tab) *tab = '\0';
    free(hook_states[i]);
    hook_states[i] = *rest ? strdup(rest) : NULL;
    if (*rest && !hook_states[i]) fail("out of memory");
    if (!tab) { for (int j = i + 1; j < 4; j++) { free(hook_states[j]); hook_states[j] = NULL; } break; }
    rest = tab + 1;
  }
  free(buf);
}

/* ---- relaying a terminal (run -t / exec -t without a console socket) ---- */

static int recv_fd(int sock) {
  char data[256];
  char cbuf[CMSG_SPACE(sizeof(int))];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(sizeof(int))) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}

static int copy_once(int from, int to) {
  char buf[8192];
  ssize_t n = read(from, buf, sizeof(buf));
  if (n <= 0) return -1;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = write(to, buf + off, n - off);
    if (w < 0) { if (errno == EINTR) continue; return -1; }
    off += w;
  }
  return 0;
}

/* Relays stdin -> pty master -> stdout until the child exits; returns its wait status. */
static int relay_terminal(pid_t child, int master) {
  struct termios saved;
  int raw = isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
    struct winsize ws;
    /* The caller's size, when it has one, replaces the spec's consoleSize (as runc resizes). */
    if (ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) ioctl(master, TIOCSWINSZ, &ws);
  }
  int status = 0, in_open = 1;
  for (;;) {
    struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
    int r = poll(p, 2, 100);
    if (r > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      if (copy_once(master, 1) < 0) break; /* EIO: every slave end is closed */
    }
    if (r > 0 && in_open && (p[1].revents & (POLLIN | POLLHUP))) {
      if (copy_once(0, master) < 0) in_open = 0;
    }
    if (waitpid(child, &status, WNOHANG) == child) {
      while (copy_once(master, 1) == 0) {}
      child = 0;
      break;
    }
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  if (child > 0) while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return status;
}

/*
 * Relays the parent's stdin into the child's stdin pipe and the child's stdout/stderr pipes out,
 * until the child has exited and its pipes are drained. Returns the child's wait status.
 */
static int relay_pipes(pid_t child) {
  int in_w = stdio_pipes[0][1], out_r = stdio_pipes[1][0], err_r = stdio_pipes[2][0];
  int status = 0, exited = 0, in_open = 1;
  for (;;) {
    struct pollfd p[3] = {
        {.fd = out_r, .events = POLLIN}, {.fd = err_r, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
    int r = poll(p, 3, exited ? 50 : 100);
    if (r > 0) {
      if (p[0].revents) { if (copy_once(out_r, 1) < 0) { close(out_r); out_r = -1; } }
      if (p[1].revents) { if (copy_once(err_r, 2) < 0) { close(err_r); err_r = -1; } }
      if (in_open && p[2].revents) {
        if (copy_once(0, in_w) < 0) { in_open = 0; close(in_w); in_w = -1; }
      }
    }
    if (!exited && waitpid(child, &status, WNOHANG) == child) exited = 1;
    /* Done once both outputs hit EOF; after the exit, also when they go quiet (a leftover
     * process outside a pid namespace may hold them open). */
    if (out_r < 0 && err_r < 0) break;
    if (exited && r == 0) break;
  }
  if (in_w >= 0) close(in_w);
  if (!exited) while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  return status;
}

/* ---- the parent side of a clone ---- */

/* One line from the runtime on the sync socket, without its newline; NULL if the runtime went away. */
static char *read_sync_line(size_t max) {
  size_t cap = 256, len = 0;
  char *buf = malloc(cap);
  if (!buf) fail("out of memory");
  for (;;) {
    char ch;
    ssize_t n = read(sync_fd, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { free(buf); return NULL; }
    if (ch == '\n') break;
    if (len + 1 >= cap) {
      if (cap >= max) { errno = 0; fail("answer from the runtime longer than %zu bytes", max); }
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) fail("out of memory");
      buf = bigger;
      cap *= 2;
    }
    buf[len++] = ch;
  }
  buf[len] = '\0';
  return buf;
}

/*
 * The child hands its seccomp notify fd back; it goes on to the agent over the connection made
 * before any namespace was joined, with the container process state the runtime supplies
 * ("SECCOMP" -> "OK <json>"). The child waits for the 'k' that says it was sent.
 */
static void forward_seccomp_fd(pid_t child) {
  int fd = recv_fd(seccomp_pair[0]);
  if (fd < 0) { close(seccomp_pair[0]); seccomp_pair[0] = -1; return; } /* ended before loading it */
  current_step = "seccomp agent";
  send_line("SECCOMP");
  char *answer = read_sync_line(16 << 20);
  if (!answer || strncmp(answer, "OK ", 3) != 0) {
    kill(child, SIGKILL);
    errno = 0;
    fail("%s", answer ? answer : "runtime went away");
  }
  if (send_with_fd(seccomp_agent_fd, fd, answer + 3, strlen(answer + 3)) < 0) { kill(child, SIGKILL); fail("send to the seccomp agent"); }
  free(answer);
  close(fd);
  close(seccomp_agent_fd);
  seccomp_agent_fd = -1;
  if (write(seccomp_pair[0], "k", 1) != 1) { kill(child, SIGKILL); fail("release child after seccomp"); }
  close(seccomp_pair[0]);
  seccomp_pair[0] = -1;
}

/* Waits for the child's next word on err_fd: returns 1 with the byte in *c, or 0 at EOF,
 * forwarding its seccomp notify fd meanwhile. */
static ssize_t wait_setup(pid_t child, int err_fd, char *c) {
  for (;;) {
    struct pollfd p[2] = {{.fd = err_fd, .events = POLLIN}, {.fd = seccomp_pair[0], .events = POLLIN}};
    if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; fail("poll"); }
    if (seccomp_pair[0] >= 0 && p[1].revents) { forward_seccomp_fd(child); continue; }
    if (!p[0].revents) continue;
    ssize_t n = read(err_fd, c, 1);
    if (n < 0 && errno == EINTR) continue;
    return n;
  }
}

static int run_parent(pid_t child, struct op *ops, uint32_t from, uint32_t to, int mode, int go_fd, int err_fd) {
  /* id maps for a new user namespace are written by the parent, then the child may go on. */
  for (uint32_t i = from; i < to; i++) {
    if (ops[i].code != OP_IDMAP) continue;
    char p[64];
    int w = snprintf(p, sizeof(p), "/proc/%d/%s", child, S(&ops[i], 0));
    if (w < 0 || (size_t)w >= sizeof(p)) { kill(child, SIGKILL); errno = ENAMETOOLONG; fail("id map file %s", S(&ops[i], 0)); }
    /* Through a procfs nothing is mounted into (a mount namespace joined by path has its own /proc). */
    int fd = open_proc_for_write(p);
    const char *data = S(&ops[i], 1);
    if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data)) { kill(child, SIGKILL); fail("write %s", p); }
    close(fd);
  }
  send_line("PID %d", child);
  if (write(go_fd, "g", 1) != 1) fail("release child");
  close(go_fd);
  /* The child says how far it got on err_fd (close-on-exec in it): 'r' it blocks on the exec fifo
   * (and closes the pipe), 'x' it calls execve, 'e' it failed (its ERR line is out). EOF with no
   * word at all means it died first, of a signal: that is a failure to report, not a start. */
  char said = 0, c;
  while (wait_setup(child, err_fd, &c) == 1) {
    said = c;
    if (c == 'e' || (c == 'r' && mode == CLONE_MODE_CREATE)) break;
  }
  close(err_fd);
  if (said == 'e') { int st; waitpid(child, &st, 0); return 1; }
  if (!said) {
    int st = 0;
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
    current_step = "container init";
    errno = 0;
    if (WIFSIGNALED(st)) fail("killed by signal %d (%s) during setup", WTERMSIG(st), strsignal(WTERMSIG(st)));
    fail("exited with status %d during setup", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
  }
  if (mode == CLONE_MODE_EXEC_DETACH) send_line("EXEC");
  if (mode != CLONE_MODE_WAIT) return 0;
  if (mode == CLONE_MODE_WAIT) send_line("EXEC");
  /* Stay the parent and report the exit as a shell would. */
  int status;
  if (console_recv_fd >= 0) {
    /* The master arrives once the child has set up its terminal; no master means it failed. */
    fcntl(console_recv_fd, F_SETFL, 0);
    int master = recv_fd(console_recv_fd);
    if (master < 0) { while (waitpid(child, &status, 0) < 0 && errno == EINTR) {} }
    else status = relay_terminal(child, master);
  } else if (stdio_pipes[1][0] >= 0) {
    status = relay_pipes(child);
  } else {
    while (waitpid(child, &status, 0) < 0) if (errno != EINTR) fail("wait");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: nsexec <plan-fd> <sync-fd>\n"); return 2; }
  int plan_fd = atoi(argv[1]);
  sync_fd = atoi(argv[2]);
  reexec_from_sealed_copy(argv);
  /* Only now: the sync fd must survive the re-exec above but never reach the container. */
  fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
  /* No one in the container may ptrace or read this process's memory or /proc entries. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  size_t len;
  unsigned char *buf = read_all(plan_fd, &len);
  if (plan_fd != sync_fd) close(plan_fd);
  uint32_t count;
  struct op *ops = decode_plan(buf, len, &count);
  int err_pipe[2] = {-1, -1};

  for (uint32_t i = 0; i < count; i++) {
    struct op *o = &ops[i];
    switch (o->code) {
    case OP_SETNS: {
      current_step = "join namespace";
      int fd = open(S(o, 0), O_RDONLY | O_CLOEXEC);
      if (fd < 0) fail("open %s", S(o, 0));
      if (setns(fd, (int)N(o, 1)) < 0) fail("setns %s", S(o, 0));
      close(fd);
      break;
    }
    case OP_CONSOLE_CONNECT: {
      current_step = "console socket";
      /* The whole path or an error: a truncated one would reach some other socket. */
      console_fd = connect_unix(S(o, 0));
      if (console_fd < 0) fail("connect %s", S(o, 0));
      break;
    }
    case OP_SECCOMP_LISTENER:
      current_step = "seccomp agent";
      seccomp_agent_fd = connect_unix(S(o, 0));
      if (seccomp_agent_fd < 0) fail("connect to the seccomp agent at %s (linux.seccomp.listenerPath)", S(o, 0));
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, seccomp_pair) < 0) fail("socketpair");
      break;
    case OP_CONSOLE_PAIR: {
      current_step = "console";
      int sp[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) fail("socketpair");
      console_recv_fd = sp[0];
      console_fd = sp[1];
      break;
    }
    case OP_CGROUP_OPEN:
      current_step = "join cgroup";
      if (cgroup_fd_count >= 16) { errno = 0; fail("too many cgroup hierarchies"); }
      cgroup_fds[cgroup_fd_count] = open(S(o, 0), O_WRONLY | O_CLOEXEC);
      if (cgroup_fds[cgroup_fd_count] < 0) fail("open %s", S(o, 0));
      cgroup_fd_count++;
      break;
    case OP_CGROUP_JOIN_OPENED:
      current_step = "join cgroup";
      for (int k = 0; k < cgroup_fd_count; k++) {
        if (write(cgroup_fds[k], "0", 1) != 1) fail("join cgroup %d", k);
        close(cgroup_fds[k]);
      }
      cgroup_fd_count = 0;
      break;
    case OP_BPF_DEVICE_FILTER: current_step = "device cgroup"; op_bpf_device_filter(o); break;
    case OP_CHMOD: {
      current_step = "chmod";
      int fd = open_in_root(S(o, 0), S(o, 1), O_PATH);
      char p[64];
      if (fd < 0) fail("open %s", S(o, 1));
      fdpath(fd, p);
      if (chmod(p, (mode_t)N(o, 2)) < 0) fail("chmod %s", S(o, 1));
      close(fd);
      break;
    }
    case OP_STDIO_PIPES:
      current_step = "stdio";
      for (int k = 0; k < 3; k++) if (pipe2(stdio_pipes[k], O_CLOEXEC) < 0) fail("pipe");
      break;
    case OP_FIFO_OPEN:
      current_step = "exec fifo";
      if (mkfifo(S(o, 0), 0622) < 0 && errno != EEXIST) fail("mkfifo %s", S(o, 0));
      /* Not subject to umask: the init reopens it after it has become the container's user. */
      if (chmod(S(o, 0), 0622) < 0) fail("chmod %s", S(o, 0));
      fifo_fd = open(S(o, 0), O_PATH | O_CLOEXEC);
      if (fifo_fd < 0) fail("open %s", S(o, 0));
      break;
    case OP_IDMAP:
      break; /* consumed by run_parent */
    case OP_CLONE: {
      current_step = "clone";
      unsigned long flags = (unsigned long)N(o, 0);
      int mode = (int)N(o, 1);
      int go[2];
      if (pipe2(go, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) fail("pipe");
      pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, NULL, NULL, 0);
      if (pid < 0) fail("clone");
      if (pid > 0) {
        close(go[0]);
        close(err_pipe[1]);
        if (console_fd >= 0) { close(console_fd); console_fd = -1; }
        if (fifo_fd >= 0) { close(fifo_fd); fifo_fd = -1; } /* only the init waits on it */
        if (stdio_pipes[0][0] >= 0) { close(stdio_pipes[0][0]); close(stdio_pipes[1][1]); close(stdio_pipes[2][1]); }
        if (seccomp_pair[1] >= 0) { close(seccomp_pair[1]); seccomp_pair[1] = -1; }
        /* Find the end of the parent's idmap ops: they follow the clone op. */
        _exit(run_parent(pid, ops, i + 1, count, mode, go[1], err_pipe[0]));
      }
      close(go[1]);
      close(err_pipe[0]);
      err_write_fd = err_pipe[1];
      if (console_recv_fd >= 0) { close(console_recv_fd); console_recv_fd = -1; }
      /* Only the parent half talks to the seccomp agent. */
      if (seccomp_agent_fd >= 0) { close(seccomp_agent_fd); seccomp_agent_fd = -1; }
      if (seccomp_pair[0] >= 0) { close(seccomp_pair[0]); seccomp_pair[0] = -1; }
      if (stdio_pipes[0][0] >= 0) {
        if (dup2(stdio_pipes[0][0], 0) < 0 || dup2(stdio_pipes[1][1], 1) < 0 || dup2(stdio_pipes[2][1], 2) < 0) fail("dup2 stdio");
        for (int k = 0; k < 3; k++) { close(stdio_pipes[k][0]); close(stdio_pipes[k][1]); }
      }
      char c;
      ssize_t n;
      do n = read(go[0], &c, 1); while (n < 0 && errno == EINTR);
      if (n != 1) _exit(1);
      close(go[0]);
      break;
    }
    case OP_SETRESUID:
      current_step = "set user";
      if (setresuid((uid_t)N(o, 0), (uid_t)N(o, 0), (uid_t)N(o, 0)) < 0) fail("setresuid %lld", (long long)N(o, 0));
      break;
    case OP_SETRESGID:
      current_step = "set group";
      if (setresgid((gid_t)N(o, 0), (gid_t)N(o, 0), (gid_t)N(o, 0)) < 0) fail("setresgid %lld", (long long)N(o, 0));
      break;
    case OP_SETSID:
      if (setsid() < 0) { current_step = "setsid"; fail("setsid"); }
      break;
    case OP_MOUNT: current_step = "mount"; op_mount(o); break;
    case OP_MKDIR:
      current_step = "mkdir";
      if (mkdir_in_root(S(o, 0), S(o, 1), (mode_t)N(o, 2)) < 0) fail("mkdir %s", S(o, 1));
      break;
    case OP_MKNOD: current_step = "create device"; op_mknod(o); break;
    case OP_SYMLINK: current_step = "symlink"; op_symlink(o); break;
    case OP_SYNC: current_step = "hook"; op_sync(o); break;
    case OP_RUN_HOOK: current_step = "hook"; op_run_hook(o); break;
    case OP_PIVOT_ROOT: current_step = "pivot_root"; op_pivot_root(S(o, 0)); break;
    case OP_MOVE_ROOT: current_step = "chroot"; op_move_root(S(o, 0)); break;
    case OP_MASK_PATH: current_step = "masked path"; op_mask_path(o); break;
    case OP_REMOUNT: current_step = "remount"; op_remount(o); break;
    case OP_WRITE_PROC: current_step = "write proc"; op_write_proc(o); break;
    case OP_SETHOSTNAME:
      current_step = "hostname";
      if (sethostname(S(o, 0), strlen(S(o, 0))) < 0) fail("sethostname");
      break;
    case OP_SETDOMAINNAME:
      current_step = "domainname";
      if (setdomainname(S(o, 0), strlen(S(o, 0))) < 0) fail("setdomainname");
      break;
    case OP_LOOPBACK_UP: current_step = "loopback"; op_loopback_up(); break;
    case OP_CONSOLE_SETUP: current_step = "console"; op_console_setup(o); break;
    case OP_RLIMIT: {
      current_step = "rlimit";
      struct rlimit rl = {.rlim_cur = (rlim_t)N(o, 1), .rlim_max = (rlim_t)N(o, 2)};
      if (setrlimit((int)N(o, 0), &rl) < 0) fail("setrlimit %lld", (long long)N(o, 0));
      break;
    }
    case OP_UMASK: umask((mode_t)N(o, 0)); break;
    case OP_CHDIR:
      current_step = "cwd";
      if (chdir(S(o, 0)) < 0) fail("chdir to cwd (%s)", S(o, 0));
      break;
    case OP_WAIT_FIFO:
      current_step = "exec fifo";
      op_wait_fifo();
      break;
    case OP_SETGROUPS: {
      current_step = "set groups";
      int n = o->argc;
      gid_t *g = calloc(n ? n : 1, sizeof(gid_t));
      if (!g) fail("out of memory");
      for (int k = 0; k < n; k++) g[k] = (gid_t)N(o, k);
      if (setgroups(n, g) < 0) fail("setgroups");
      free(g);
      break;
    }
    case OP_DROP_BOUNDING: current_step = "capabilities"; op_drop_bounding(o); break;
    case OP_KEEPCAPS:
      if (prctl(PR_SET_KEEPCAPS, (unsigned long)N(o, 0), 0, 0, 0) < 0) { current_step = "keepcaps"; fail("keepcaps"); }
      break;
    case OP_CAPSET: current_step = "capabilities"; op_capset(o); break;
    case OP_AMBIENT: current_step = "ambient capabilities"; op_ambient(o); break;
    case OP_NO_NEW_PRIVS:
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { current_step = "no_new_privs"; fail("no_new_privs"); }
      break;
    case OP_SECCOMP: current_step = "seccomp"; op_seccomp(o); break;
    case OP_SET_PROPAGATION: current_step = "propagation"; op_set_propagation(o); break;
    case OP_CLOSE_FDS: {
      /* Nothing of the runtime's may reach the container: mark every fd past the kept ones. */
      unsigned first = (unsigned)N(o, 0);
      if (syscall(SYS_close_range, first, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) < 0) {
        for (int fd = first; fd < 1024; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
      }
      break;
    }
    case OP_PERSONALITY:
      current_step = "personality";
      if (syscall(SYS_personality, (unsigned long)N(o, 0)) < 0) fail("personality");
      break;
    case OP_LOOKUP: current_step = "lookup"; op_lookup(o); break;
    case OP_UNSHARE:
      current_step = "unshare";
      if (unshare((int)N(o, 0)) < 0) fail("unshare");
      break;
    case OP_NEW_KEYRING:
      /* KEYCTL_JOIN_SESSION_KEYRING: the container must not share the host session's keys. */
      if (syscall(SYS_keyctl, 1, S(o, 0), 0, 0, 0) < 0 && errno != ENOSYS && errno != EACCES) {
        current_step = "session keyring";
        fail("join session keyring");
      }
      break;
    case OP_EXEC: op_exec(o); break;
    default:
      errno = 0;
      fail("unknown op %d", o->code);
    }
  }
  errno = 0;
  fail("plan ended without exec");
}
