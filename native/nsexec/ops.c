/*
 * The ops on the process itself and its surroundings: /proc writes, the loopback device, the exec
 * fifo wait, capabilities, seccomp, the cgroup v2 device filter, and finding and exec'ing the
 * program.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

void op_write_proc(struct op *o) {
  const char *path = S(o, 0), *data = S(o, 1);
  int fd = open_proc_for_write(path);
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) fail("write %s", path);
  close(fd);
}

void op_loopback_up(void) {
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

void op_wait_fifo(void) {
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

void op_drop_bounding(struct op *o) {
  uint64_t keep = read_mask(o, 0);
  for (int cap = 0; cap <= 63; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) { if (errno == EINVAL) break; continue; }
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) fail("drop bounding capability %d", cap);
  }
}

void op_capset(struct op *o) {
  uint64_t eff = read_mask(o, 0), perm = read_mask(o, 1), inh = read_mask(o, 2);
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  d[0].effective = (uint32_t)eff; d[1].effective = (uint32_t)(eff >> 32);
  d[0].permitted = (uint32_t)perm; d[1].permitted = (uint32_t)(perm >> 32);
  d[0].inheritable = (uint32_t)inh; d[1].inheritable = (uint32_t)(inh >> 32);
  if (syscall(SYS_capset, &h, d) < 0) fail("capset");
}

void op_ambient(struct op *o) {
  uint64_t amb = read_mask(o, 0);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  /* A cap missing from the inheritable set cannot be ambient (EPERM); runc tolerates that too. */
  for (int cap = 0; cap <= 63; cap++)
    if ((amb & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
      fail("raise ambient capability %d", cap);
}

void op_seccomp(struct op *o) {
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
void op_bpf_device_filter(struct op *o) {
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

void op_lookup(struct op *o) {
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

void op_exec(struct op *o) {
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
