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
 *
 * The plan's opcodes and encoding: plan.h. This file reads the plan and carries out each op in
 * order; the larger ops live beside it, one concern a file (native/README.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

/* cgroup.procs files opened in the host's view, joined later from inside the container's. */
static int cgroup_fds[16];
static int cgroup_fd_count = 0;

/* Handed from the op that makes them to the ops that use them, across files (nsexec.h). */
int console_fd = -1;
int stdio_pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
int console_recv_fd = -1;
int seccomp_agent_fd = -1;
int seccomp_pair[2] = {-1, -1};
int fifo_fd = -1;

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
  unsigned char *buf = read_plan(plan_fd, &len);
  if (plan_fd != sync_fd) close(plan_fd);
  uint32_t count;
  struct op *ops = decode_plan(buf, len, &count);

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
    case OP_CLONE: current_step = "clone"; op_clone(ops, i, count); break;
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
    case OP_CHROOT: current_step = "chroot"; op_chroot(S(o, 0)); break;
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
